package slab.map;

import static slab.map.MapNodes.*;

import clojure.lang.AFn;
import clojure.lang.IFn;
import clojure.lang.IPersistentVector;
import clojure.lang.ISeq;
import clojure.lang.RT;
import java.util.ArrayList;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Equality;
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

    /**
     * The keys of a path looked up in every value of a walk. ks is read
     * once, when the walk starts, as a seq (so a ks get-in cannot read fails
     * as it would there); what a probe needs of a key (hash, interned
     * keyword offset) is worked out the first time a probe needs it, once
     * per walk instead of once per value, and never for a key get-in would
     * not have reached. A keyword's offset cannot go stale: interned names
     * are never freed.
     */
    static final class Path {
        final Object[] keys;
        private final int[] hashes;
        private final long[] keywordOffsets;
        private int prepared;

        Path(Object ks) {
            ArrayList<Object> list = new ArrayList<>();
            for (ISeq q = RT.seq(ks); q != null; q = q.next()) list.add(q.first());
            keys = list.toArray();
            hashes = new int[keys.length];
            keywordOffsets = new long[keys.length];
        }

        /**
         * After {@link #walk}: the index of the key that met a value other
         * than a map, or -1. (A Path is one walk's, on one thread.)
         */
        int offMap;

        /**
         * Follows the keys from the value of entry e of r's version through
         * nested maps in the segment, without a handle for any of them.
         * Returns the entry whose value is (get-in value keys), 0 if a key
         * is absent; or, with {@link #offMap} set, the entry whose value
         * (not a map) the keys from offMap on must be looked up in, decoded.
         */
        long walk(Handle r, Segment s, long e) {
            offMap = -1;
            for (int i = 0; i < keys.length; i++) {
                if (valTag(s, e) != Tags.MAP) {
                    offMap = i;
                    return e;
                }
                // as get-in on the nested map's handle would: a version released meanwhile is refused
                if (i == 0) r.check();
                if (i == prepared) {
                    hashes[i] = Hashing.ofKey(keys[i]);
                    keywordOffsets[i] = Equality.knownOffset(r.heap, keys[i]);
                    prepared++;
                }
                e = MapNodes.find(r.heap, CollBlocks.mapRoot(s, valPayload(s, e)), keys[i], hashes[i], keywordOffsets[i],
                    MapNodeDescriptor.MAP_ENTRY_LENGTH, false);
                if (e == 0) return 0;
            }
            return e;
        }
    }

    /**
     * The reducing function of (reduce-kv-in m ks f init): f gets each key
     * and (get-in value ks). {@link MapReads} recognizes it and calls
     * {@link #step} with the entry, so the value is looked into where it
     * lies; invoke, for anything else that calls it, gets the value decoded.
     */
    static final class PathStep extends AFn {
        private final IFn f;
        private final Path path;

        PathStep(IFn f, Path path) {
            this.f = f;
            this.path = path;
        }

        /**
         * Steps entry e: f gets the key and what its value holds at the path;
         * a function of primitive longs, (fn [acc ^long k ^long v] ...), gets
         * a long key and a long found as they are stored, nothing boxed.
         */
        Object step(Handle r, Segment s, long e, Object acc) {
            Heap h = r.heap;
            long at = path.walk(r, s, e);
            if (at != 0 && path.offMap < 0 && f instanceof IFn.OLLO p && keyTag(s, e) == Tags.LONG && valTag(s, at) == Tags.LONG)
                return p.invokePrim(acc, keyPayload(s, e), valPayload(s, at));
            Object k = MapReads.value(h, r, keyTag(s, e), keyPayload(s, e));
            if (at == 0) return f.invoke(acc, k, null);
            Object v = MapReads.value(h, r, valTag(s, at), valPayload(s, at));
            return f.invoke(acc, k, path.offMap < 0 ? v : rest(v, null, path.keys, path.offMap, path.keys.length, null));
        }

        @Override
        public Object invoke(Object acc, Object k, Object v) {
            return f.invoke(acc, k, rest(v, null, path.keys, 0, path.keys.length, null));
        }
    }
}
