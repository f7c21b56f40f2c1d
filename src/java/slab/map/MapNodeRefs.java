package slab.map;

import static slab.map.MapNodeDescriptor.*;
import static slab.map.MapNodes.*;

import java.nio.ByteOrder;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.RefVisitor;
import slab.ref.SlotList;
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
        checkFits(s, n, hd, es, entries, children);
        for (int i = 0; i < entries; i++) {
            long e = entry(n, es, i);
            if (Tags.isCounted(keyTag(s, e))) v.visit(keyPayload(s, e));
            if (!set && Tags.isCounted(valTag(s, e))) v.visit(valPayload(s, e));
        }
        for (int j = 0; j < children; j++) v.visit(s.getLong(childSlot(n, es, entries, j)));
    }

    /**
     * The counted slots of bitmap nodes x and y (of one type) at the places
     * where they differ, added to xs and ys; false, adding nothing, when
     * their bitmaps differ (the places do not line up). Checks as collect.
     */
    public static boolean collectDiffering(Segment s, long x, long y, SlotList xs, SlotList ys) {
        long hx = s.liveHeader(x, "a map or set node"), hy = s.liveHeader(y, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hx);
        if ((t != BlockTypes.MAP_NODE && t != BlockTypes.SET_NODE) || AllocatorDescriptor.typeOf(hy) != t) return false;
        int dm = datamap(s, x), nm = nodemap(s, x);
        if (dm != datamap(s, y) || nm != nodemap(s, y)) return false;
        boolean set = t == BlockTypes.SET_NODE;
        int es = entryLength(set), ew = es / 8;
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        checkFits(s, x, hx, es, entries, children);
        checkFits(s, y, hy, es, entries, children);
        int words = entries * ew + children;
        long[] wx = xs.words(words), wy = ys.words(words);
        s.readLongs(entry(x, es, 0), wx, words);
        s.readLongs(entry(y, es, 0), wy, words);
        for (int i = 0, at = 0; i < entries; i++, at += ew) {
            boolean same = true;
            for (int k = 0; k < ew; k++) same &= wx[at + k] == wy[at + k];
            if (same) continue;
            entrySlots(wx, at, set, xs);
            entrySlots(wy, at, set, ys);
        }
        for (int j = entries * ew; j < words; j++) {
            if (wx[j] == wy[j]) continue;
            xs.visit(wx[j]);
            ys.visit(wy[j]);
        }
        return true;
    }

    /** The counted key and value of the entry whose words start at w[at]. */
    private static void entrySlots(long[] w, int at, boolean set, SlotList out) {
        long head = w[at];
        if (Tags.isCounted((byte) (head >>> KEY_TAG_SHIFT))) out.visit(w[at + ENTRY_KEY_OFFSET / 8]);
        if (!set && Tags.isCounted((byte) (head >>> VALUE_TAG_SHIFT))) out.visit(w[at + ENTRY_VALUE_OFFSET / 8]);
    }

    /**
     * How often node n names block c as a child, with forEachRef's checks:
     * a map or set node (c of a node type) is only ever named by a child
     * slot, so the entries need not be read.
     */
    public static int countChild(Segment s, long n, long c) {
        long hd = s.liveHeader(n, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hd);
        if (t != BlockTypes.MAP_NODE && t != BlockTypes.SET_NODE) return 0;   // a collision node has no children
        int es = entryLength(t == BlockTypes.SET_NODE);
        int entries = Integer.bitCount(datamap(s, n)), children = Integer.bitCount(nodemap(s, n));
        checkFits(s, n, hd, es, entries, children);
        int k = 0;
        for (int j = 0; j < children; j++) if (s.getLong(childSlot(n, es, entries, j)) == c) k++;
        return k;
    }

    /** A node whose bitmaps or count claim more than its block (header hd) holds is damage: no walker reads past a block. */
    private static void checkFits(Segment s, long n, long hd, int es, int entries, int children) {
        if (entries < 0 || bitmapBytes(es, entries, children) > Segment.blockSize(hd))
            throw Damage.at(s, n, "a map or set node whose entries and children fit its block");
    }

    /** Where a tag byte sits in the first word of an entry read as a native long. */
    private static final int KEY_TAG_SHIFT = tagShift(ENTRY_KEY_TAG_OFFSET), VALUE_TAG_SHIFT = tagShift(ENTRY_VALUE_TAG_OFFSET);

    private static int tagShift(int byteOffset) {
        return 8 * (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? byteOffset : 7 - byteOffset);
    }

    /**
     * What forEachRef visits, in its order, added to out: the reclaimer's
     * form, which reads a bitmap node's entries and children in one bulk
     * copy rather than a checked access per field.
     */
    public static void collect(Segment s, long n, SlotList out) {
        long hd = s.liveHeader(n, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hd);
        if (t != BlockTypes.MAP_NODE && t != BlockTypes.SET_NODE) {
            forEachRef(s, n, out);
            return;
        }
        boolean set = t == BlockTypes.SET_NODE;
        int es = entryLength(set), ew = es / 8;
        int entries = Integer.bitCount(datamap(s, n)), children = Integer.bitCount(nodemap(s, n));
        checkFits(s, n, hd, es, entries, children);
        int words = entries * ew + children;
        long[] w = out.words(words);
        s.readLongs(entry(n, es, 0), w, words);
        out.ensure(2 * entries + children);
        long[] o = out.s;
        int k = out.n;
        for (int i = 0, at = 0; i < entries; i++, at += ew) {
            long head = w[at];
            if (Tags.isCounted((byte) (head >>> KEY_TAG_SHIFT))) o[k++] = w[at + ENTRY_KEY_OFFSET / 8];
            if (!set && Tags.isCounted((byte) (head >>> VALUE_TAG_SHIFT))) o[k++] = w[at + ENTRY_VALUE_OFFSET / 8];
        }
        System.arraycopy(w, entries * ew, o, k, children);
        out.n = k + children;
    }
}
