package slab.map;

import static slab.map.MapNodes.*;

import clojure.lang.IPersistentVector;
import clojure.lang.RT;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Hashing;
import slab.value.Tags;

/**
 * get-in through nested maps. Each key is looked up in the trie of the map
 * the previous key's value names, following its collection block directly,
 * so the maps in between get no handle: none of them is handed out. Only
 * the value at the end is decoded, borrowing the outer version's counts as
 * a value from valAt does. A step into anything but a map (a vector, a set,
 * a scalar) goes on with RT.get on the decoded value, as get-in does. The
 * caller ({@link Maps}) checks and fences the handle.
 */
final class MapPaths {
    private MapPaths() {}

    private static final Object MISSING = new Object();

    /**
     * (get-in m ks notFound) for the map r (kind MAP) and a non-empty ks. A
     * vector of keys is read by index, so scalar keys and a scalar at the
     * end allocate nothing.
     */
    static Object getIn(Handle r, Object ks, Object notFound) {
        Heap h = r.heap;
        Segment s = h.segment();
        IPersistentVector kv = ks instanceof IPersistentVector v ? v : null;
        Object[] ka = kv == null ? RT.toArray(ks) : null;
        int n = kv != null ? kv.count() : ka.length;
        long node = r.node;
        int tag = Tags.MAP;
        long p = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0) {   // the value the last key found names the map to look in next
                if (tag != Tags.MAP) return rest(MapReads.value(h, r, tag, p), kv, ka, i, n, notFound);
                node = CollBlocks.mapRoot(s, p);
            }
            Object k = kv != null ? kv.nth(i) : ka[i];
            long e = MapNodes.find(h, node, k, Hashing.ofKey(k), MapNodeDescriptor.MAP_ENTRY_LENGTH,
                i == 0 && r.count >= NestedWarm.LOOKUP_AHEAD_FROM);
            if (e == 0) return notFound;
            tag = valTag(s, e);
            p = valPayload(s, e);
        }
        return MapReads.value(h, r, tag, p);
    }

    /** get-in's loop on a decoded value v for keys i.. of ks. */
    private static Object rest(Object v, IPersistentVector kv, Object[] ka, int i, int n, Object notFound) {
        for (; i < n; i++) {
            v = RT.get(v, kv != null ? kv.nth(i) : ka[i], MISSING);
            if (v == MISSING) return notFound;
        }
        return v;
    }
}
