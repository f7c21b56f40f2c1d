package slab.map;

import static slab.map.MapNodes.*;

import java.lang.ref.Reference;
import java.util.Iterator;

import clojure.lang.IPersistentMap;
import clojure.lang.MapEntry;
import clojure.lang.MapEquivalence;
import clojure.lang.Util;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.SharedColl;
import slab.value.Hashing;
import slab.value.Decoder;
import slab.value.Equality;
import slab.value.Tags;

/**
 * Equality and hashing of map and set versions: Clojure's = against any
 * object (APersistentMap's and APersistentSet's rules), Java's equals and
 * hashCode, and node-against-node comparison of two versions of one segment
 * that skips every subtree they share. The caller checks and fences r.
 */
public final class MapEquality {
    private MapEquality() {}

    /** Clojure's = between a map or set version and any object. */
    static boolean equiv(Handle r, Object o) {
        Heap h = r.heap;
        int es = entryLength(r.kind == Tags.SET);
        if (o instanceof SharedColl sc && sc.slabHandle().heap == h && sc.slabKind() == r.kind) {
            Handle r2 = sc.slabHandle();
            r2.check();
            try {
                if (r2.count != r.count || r2.hashSum() != r.hashSum()) return false;
                return nodesEqual(h, r.node, r2.node, es, r.kind == Tags.SET, false);
            } finally {
                Reference.reachabilityFence(r2);
            }
        }
        if (r.kind == Tags.SET) return containsAll(r, o);
        if (!(o instanceof java.util.Map<?, ?> m)) return false;
        if (o instanceof IPersistentMap && !(o instanceof MapEquivalence)) return false;
        if (m.size() != r.count) return false;
        Segment s = h.segment();
        for (Object x : m.entrySet()) {
            java.util.Map.Entry<?, ?> me = (java.util.Map.Entry<?, ?>) x;
            long e = MapNodes.find(h, r.node, me.getKey(), Hashing.ofKey(me.getKey()), es);
            if (e == 0 || !Equality.equalsValue(h, r, valTag(s, e), valPayload(s, e), me.getValue())) return false;
        }
        return true;
    }

    /** Java's equals (Util.equals on values, as APersistentMap.equals). */
    static boolean javaEquals(Handle r, Object o) {
        if (r.kind == Tags.SET) return containsAll(r, o);
        Heap h = r.heap;
        int es = entryLength(false);
        if (!(o instanceof java.util.Map<?, ?> m) || m.size() != r.count) return false;
        Segment s = h.segment();
        for (Object x : m.entrySet()) {
            java.util.Map.Entry<?, ?> me = (java.util.Map.Entry<?, ?>) x;
            long e = MapNodes.find(h, r.node, me.getKey(), Hashing.ofKey(me.getKey()), es);
            if (e == 0 || !Util.equals(Decoder.decodeIn(h, r, valTag(s, e), valPayload(s, e)), me.getValue())) return false;
        }
        return true;
    }

    /** A set version against o: o is a java.util.Set of the same size whose every element r holds. */
    private static boolean containsAll(Handle r, Object o) {
        if (!(o instanceof java.util.Set<?> other) || other.size() != r.count) return false;
        int es = entryLength(true);
        for (Object k : other) if (MapNodes.find(r.heap, r.node, k, Hashing.ofKey(k), es) == 0) return false;
        return true;
    }

    /** java.util.Map / Set hashCode: sum of key.hashCode() ^ value.hashCode() (or of element hashCodes). */
    static int javaHashCode(Handle r) {
        int h = 0;
        boolean set = r.kind == Tags.SET;
        Iterator<Object> it = new MapIterator(r, set ? MapIterator.KEYS : MapIterator.ENTRIES);
        while (it.hasNext()) {
            Object x = it.next();
            if (set) h += Util.hash(x);
            else {
                MapEntry me = (MapEntry) x;
                h += (me.key() == null ? 0 : me.key().hashCode()) ^ (me.val() == null ? 0 : me.val().hashCode());
            }
        }
        return h;
    }

    /**
     * Structural equality of two versions of one segment; shared nodes are
     * equal without a look inside. strict compares encodings
     * (Equality.sameEncoding), not =.
     */
    public static boolean nodesEqual(Heap h, long a, long b, int es, boolean set, boolean strict) {
        return nodesEqual(h, a, b, es, set, strict, 0);
    }

    /** nodesEqual of two nodes at hash bit shift, each checked before it is read (MapNodes.checkNode). */
    private static boolean nodesEqual(Heap h, long a, long b, int es, boolean set, boolean strict, int shift) {
        if (a == b) return true;
        if (a == 0 || b == 0) return false;
        Segment s = h.segment();
        long ma = checkNode(s, a, es, shift), mb = checkNode(s, b, es, shift);
        if ((ma == COLLISION) != (mb == COLLISION)) return false;
        if (ma == COLLISION) return collisionsEqual(h, s, a, b, es, set, strict);
        if (ma != mb) return false;
        int dm = (int) ma, nm = (int) (ma >>> 32);
        int entries = Integer.bitCount(dm);
        for (int i = 0; i < entries; i++) {
            long ea = entry(a, es, i), eb = entry(b, es, i);
            if (entryHash(s, ea) != entryHash(s, eb)
                || !Equality.slotsMatch(h, keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb), strict)
                || (!set && !Equality.slotsMatch(h, valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb), strict)))
                return false;
        }
        int children = Integer.bitCount(nm);
        int bits = s.mapBits();
        for (int j = 0; j < children; j++) {
            if (!nodesEqual(h, child(s, a, es, entries, j), child(s, b, es, entries, j), es, set, strict, shift + bits))
                return false;
        }
        return true;
    }

    private static boolean collisionsEqual(Heap h, Segment s, long a, long b, int es, boolean set, boolean strict) {
        int cnt = collisionCount(s, a);
        if (cnt != collisionCount(s, b)) return false;
        if (strict) {   // the same encoding iterates in the same order
            for (int i = 0; i < cnt; i++) {
                long ea = entry(a, es, i), eb = entry(b, es, i);
                if (!Equality.sameEncoding(h, keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb))
                    || !set && !Equality.sameEncoding(h, valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb)))
                    return false;
            }
            return true;
        }
        outer:
        for (int i = 0; i < cnt; i++) {
            long ea = entry(a, es, i);
            for (int j = 0; j < cnt; j++) {
                long eb = entry(b, es, j);
                if (Equality.equalsSlot(h, keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb))) {
                    if (!set && !Equality.equalsSlot(h, valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb)))
                        return false;
                    continue outer;
                }
            }
            return false;
        }
        return true;
    }
}
