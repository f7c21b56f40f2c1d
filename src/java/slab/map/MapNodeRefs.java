package slab.map;

import static slab.map.MapNodes.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.RefVisitor;
import slab.value.Tags;

/**
 * The walker of map and set nodes: the one place that knows which bytes of
 * a node hold counts (counted key and value slots, then child nodes), used
 * through slab.ref.RefWalker by the reclaimer, the sweep, verify and the
 * audit alike.
 */
public final class MapNodeRefs {
    private MapNodeRefs() {}

    /**
     * Calls v for every counted slot and child of node n (block types
     * MAP_NODE ... SET_COLLISION). A node whose bitmaps or count claim more
     * than its block holds is damage (the reclaimer, the sweep and verify
     * all walk through here, so none reads past a block).
     */
    public static void forEachRef(Segment s, long n, RefVisitor v) {
        long hd = s.liveHeader(n, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hd);
        boolean set = t == BlockTypes.SET_NODE || t == BlockTypes.SET_COLLISION;
        int es = entryLength(set);
        boolean collision = t == BlockTypes.MAP_COLLISION || t == BlockTypes.SET_COLLISION;
        int entries = collision ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        int children = collision ? 0 : Integer.bitCount(nodemap(s, n));
        if (entries < 0 || bitmapBytes(es, entries, children) > Segment.blockSize(hd))
            throw Damage.at(s, n, "a map or set node whose entries and children fit its block");
        for (int i = 0; i < entries; i++) {
            long e = entry(n, es, i);
            if (Tags.isCounted(keyTag(s, e))) v.visit(keyPayload(s, e));
            if (!set && Tags.isCounted(valTag(s, e))) v.visit(valPayload(s, e));
        }
        for (int j = 0; j < children; j++) v.visit(s.getLong(childSlot(n, es, entries, j)));
    }
}
