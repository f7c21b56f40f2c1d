package slab.map;

import static slab.map.MapNodes.*;

import clojure.lang.IFn;
import clojure.lang.MapEntry;
import clojure.lang.Reduced;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Decoder;
import slab.value.Tags;

/**
 * Whole-map reads: reduce and reduce-kv over every entry, in the order
 * {@link MapIterator} yields them (the nil key first, then bitmap order, as
 * PersistentHashMap). The caller ({@link Maps}) checks and fences the handle.
 */
final class MapReads {
    private MapReads() {}

    /** The init of a reduce without one: the first element becomes the accumulator. */
    static final Object NO_INIT = new Object();

    /** Reduces r's entries (kv: f gets acc, key, value; else acc, entry); returns a Reduced as it is. */
    static Object reduce(Handle r, IFn f, Object init, boolean kv) {
        Heap h = r.heap;
        boolean set = r.kind == Tags.SET;
        int es = entryLength(set);
        long nilEntry = MapNodes.find(h, r.node, null, 0, es);
        Object acc = init;
        if (nilEntry != 0) {
            acc = step(r, h.segment(), nilEntry, set, f, acc, kv);
            if (acc instanceof Reduced) return acc;
        }
        if (r.count < NestedWarm.AHEAD_FROM) return reduceNode(r, r.node, es, set, f, acc, kv, nilEntry, 0, 0, null);
        Ahead ahead = new Ahead();
        ahead.acc = acc;
        try {
            acc = reduceNode(r, r.node, es, set, f, acc, kv, nilEntry, 0, 0, ahead);
        } catch (RuntimeException | InternalError e) {
            // Damage the walk found ahead of the steps: those gathered before it are stepped
            // first, as without gathering, and it is reported only if they do not end the reduce.
            if (ahead.n == 0) throw e;
            Object done;
            try {
                done = ahead.flush(r, set, f, ahead.acc, kv);
            } catch (Throwable x) {   // a Clojure fn may throw a checked exception too
                x.addSuppressed(e);
                throw x;
            }
            if (done instanceof Reduced) return done;
            throw e;
        }
        return acc instanceof Reduced ? acc : ahead.flush(r, set, f, acc, kv);
    }

    /**
     * The next entries of a walk of a big map whose values lie scattered,
     * gathered before any is stepped, so what their values name is read
     * ahead for all of them at once (NestedWarm): the bottom nodes of a
     * 100M-entry map hold about three entries each, too few per node to
     * overlap their misses. An entry whose value follows the one before in
     * the segment (laid out by persistent!) or is a scalar is stepped at
     * once, after those gathered: gathering costs a walk over laid-out
     * values more than it saves. Keyword keys, when the interner's table is
     * big enough to miss, are gathered whatever their values.
     */
    private static final class Ahead {
        static final int SIZE = 32;
        final long[] entries = new long[SIZE];
        int n;
        /** The collection block the value of the last entry added named; -1 before the first. */
        long last = -1;
        /** Whether that value lay far from the one before it. */
        boolean scattered;
        /** Whether keys are gathered for their keywords (decided by the first entry's key). */
        int keywords = -1;

        /** The accumulator after the last entry stepped (for a walk that fails with entries gathered). */
        Object acc;

        /** Steps e, or gathers it and, once SIZE are, steps all those gathered in turn. */
        Object add(Handle r, Segment s, long e, boolean set, IFn f, Object acc, boolean kv) {
            if (!gathers(r, s, e, set)) {
                if (n > 0) {
                    acc = flush(r, set, f, acc, kv);
                    if (acc instanceof Reduced) return this.acc = acc;
                }
                return this.acc = step(r, s, e, set, f, acc, kv);
            }
            entries[n++] = e;
            return this.acc = n == SIZE ? flush(r, set, f, acc, kv) : acc;
        }

        private boolean gathers(Handle r, Segment s, long e, boolean set) {
            if (keywords < 0) keywords = keyTag(s, e) == Tags.KEYWORD && r.heap.interner().worthWarming() ? 1 : 0;
            if (keywords == 1) return true;
            if (set || !NestedWarm.isNested(valTag(s, e))) return false;
            long c = valPayload(s, e), before = last;
            last = c;
            return scattered = before < 0 || NestedWarm.apart(before, c);
        }

        /**
         * Whether the walk reads a node's children ahead: unless the
         * values it last saw were nested and laid out, where the children
         * were laid out with them and the loads cost more than they save
         * (1M entries: 8 ns of 55 per entry).
         */
        boolean warmsChildren() {
            return last < 0 || scattered;
        }

        Object flush(Handle r, boolean set, IFn f, Object acc, boolean kv) {
            Segment s = r.heap.segment();
            int count = n;
            n = 0;
            if (keywords == 1) {   // gathered for their keys: values of any kind
                if (!set) NestedWarm.warmUnlessLaidOut(s, entries, count);
                NestedWarm.keywordKeys(r.heap, s, entries, count);
            } else if (!set) {
                NestedWarm.values(s, entries, count);   // gathered because their values lie scattered
            }
            for (int i = 0; i < count; i++) {
                acc = step(r, s, entries[i], set, f, acc, kv);
                if (acc instanceof Reduced) return acc;
            }
            return acc;
        }
    }

    /**
     * Reduces the subtree at n, reached at hash bit shift through hash bits
     * prefix: each node is checked before it is read and each entry must
     * agree with its path (see MapNodes.checkNode and checkPlace), so a
     * damaged trie throws instead of looping or yielding entries twice.
     */
    private static Object reduceNode(Handle r, long n, int es, boolean set, IFn f, Object acc, boolean kv, long skip,
                                     int shift, int prefix, Ahead ahead) {
        if (n == 0) return acc;
        Segment s = r.heap.segment();
        int bits = s.mapBits();
        long maps = checkNode(s, n, es, shift);
        if (maps == COLLISION) {
            for (int i = 0, cnt = collisionCount(s, n); i < cnt; i++) {
                long e = entry(n, es, i);
                checkPlace(s, n, e, prefix, 0, shift, bits);
                if (e == skip) continue;
                acc = ahead == null ? step(r, s, e, set, f, acc, kv) : ahead.add(r, s, e, set, f, acc, kv);
                if (acc instanceof Reduced) return acc;
            }
            return acc;
        }
        int dm = (int) maps, nm = (int) (maps >>> 32);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        if (ahead != null && children > 1 && ahead.warmsChildren()) NestedWarm.children(s, n, es, entries, children);
        for (int rem = dm | nm; rem != 0; rem &= rem - 1) {
            int bit = rem & -rem;
            int pos = Integer.numberOfTrailingZeros(bit);
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                checkPlace(s, n, e, prefix, pos, shift, bits);
                if (e == skip) continue;
                acc = ahead == null ? step(r, s, e, set, f, acc, kv) : ahead.add(r, s, e, set, f, acc, kv);
            } else {
                acc = reduceNode(r, child(s, n, es, entries, index(nm, bit)), es, set, f, acc, kv, skip,
                    shift + bits, prefix | pos << shift, ahead);
            }
            if (acc instanceof Reduced) return acc;
        }
        return acc;
    }

    private static Object step(Handle r, Segment s, long e, boolean set, IFn f, Object acc, boolean kv) {
        Heap h = r.heap;
        // A function with primitive long arguments, (fn [acc ^long k ^long v] ...), gets a long
        // key and value as they are stored: nothing boxed.
        if (kv && !set && f instanceof IFn.OLLO p && keyTag(s, e) == Tags.LONG && valTag(s, e) == Tags.LONG)
            return p.invokePrim(acc, keyPayload(s, e), valPayload(s, e));
        if (kv && !set && f instanceof MapPaths.PathStep ps) return ps.step(r, s, e, acc);   // reduce-kv-in
        Object k = value(h, r, keyTag(s, e), keyPayload(s, e));
        if (set) return kv ? f.invoke(acc, k, k) : acc == NO_INIT ? k : f.invoke(acc, k);
        Object v = value(h, r, valTag(s, e), valPayload(s, e));
        if (kv) return f.invoke(acc, k, v);
        MapEntry me = MapEntry.create(k, v);
        return acc == NO_INIT ? me : f.invoke(acc, me);
    }

    /**
     * A slot of r's version decoded; longs, the common case, without the
     * decoder's switch, and nested collections straight to their (borrowing)
     * handle, which keeps this small enough to inline everywhere.
     */
    static Object value(Heap h, Handle r, int tag, long p) {
        if (tag == Tags.LONG) return p;
        if (Tags.isCollection(tag)) return CollBlocks.decodeIn(r, tag, p);
        return Decoder.decodeIn(h, r, tag, p);
    }
}
