package slab.codec;

import static slab.codec.MapNodes.*;

import java.lang.ref.Reference;
import java.util.Iterator;

import clojure.lang.IFn;
import clojure.lang.IPersistentMap;
import clojure.lang.ISeq;
import clojure.lang.MapEntry;
import clojure.lang.MapEquivalence;
import clojure.lang.RT;
import clojure.lang.Reduced;
import clojure.lang.Util;
import slab.mem.Segment;

/**
 * The operations the Clojure layer's map and set types delegate to. Each
 * checks its handle first and fences it last, so the version it reads stays
 * alive for the whole call. Updates return a new Root, or the same Root when
 * nothing changed (so {@code (assoc m k v)} with an equal value publishes
 * nothing new).
 */
public final class Maps {
    private Maps() {}

    public static Root empty(Codec c, int kind) {
        return new Root(c, kind, 0, 0, 0, 0, 0, true);
    }

    private static int es(Root r) {
        return r.kind == Tags.SET ? MapNodeDescriptor.SET_ENTRY_LENGTH : MapNodeDescriptor.MAP_ENTRY_LENGTH;
    }

    /**
     * A new map (kvs alternate keys and values) or set (kvs are the keys),
     * built by a transient after every key and value has been validated, so
     * a refused argument writes nothing.
     */
    public static Root build(Codec c, int kind, ISeq kvs) {
        c.segment().checkOpen();
        boolean set = kind == Tags.SET;
        for (ISeq q = kvs; q != null; q = q.next()) {
            Object k = q.first();
            c.validate(k);
            if (!set) {
                q = q.next();
                if (q == null) throw new IllegalArgumentException("No value supplied for key: " + k);
                c.validate(q.first());
            }
        }
        TransientMap t = new TransientMap(c, kind, null, true);
        try {
            for (ISeq q = kvs; q != null; q = q.next()) {
                if (set) t.conj(q.first());
                else {
                    Object k = q.first();
                    q = q.next();
                    t.assoc(k, q.first());
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }

    // --- lookup -----------------------------------------------------------------------

    public static Object valAt(Root r, Object key, Object notFound) {
        r.check();
        try {
            long e = MapNodes.find(r.codec, r.node, key, Util.hasheq(key), es(r));
            if (e == 0) return notFound;
            Segment s = r.codec.segment();
            return r.kind == Tags.SET ? r.codec.decodeIn(r, keyTag(s, e), keyPayload(s, e))
                : r.codec.decodeIn(r, valTag(s, e), valPayload(s, e));
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static boolean containsKey(Root r, Object key) {
        r.check();
        try {
            return MapNodes.find(r.codec, r.node, key, Util.hasheq(key), es(r)) != 0;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static MapEntry entryAt(Root r, Object key) {
        r.check();
        try {
            long e = MapNodes.find(r.codec, r.node, key, Util.hasheq(key), es(r));
            if (e == 0) return null;
            Segment s = r.codec.segment();
            return MapEntry.create(r.codec.decodeIn(r, keyTag(s, e), keyPayload(s, e)),
                r.codec.decodeIn(r, valTag(s, e), valPayload(s, e)));
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- updates ------------------------------------------------------------------------

    public static Root assoc(Root r, Object key, Object val) {
        r.check();
        MapOp op = MapOp.persistent(r.codec, r.kind == Tags.SET);
        try {
            op.begin(key, val);
            long root;
            try {
                root = MapUpdates.assoc(op, r.node);
            } finally {
                op.finish();
            }
            if (!op.changed) return r;
            return new Root(r.codec, r.kind, root, 0, r.count + op.countDelta, 0, r.hashSum() + op.hashDelta, true);
        } finally {
            op.done();
            Reference.reachabilityFence(r);
        }
    }

    public static Root conj(Root r, Object key) { return assoc(r, key, null); }

    public static Root dissoc(Root r, Object key) {
        r.check();
        MapOp op = MapOp.persistent(r.codec, r.kind == Tags.SET);
        try {
            op.beginProbe(key);
            long root = MapUpdates.dissoc(op, r.node);
            if (!op.changed) return r;
            return new Root(r.codec, r.kind, root, 0, r.count + op.countDelta, 0, r.hashSum() + op.hashDelta, true);
        } finally {
            op.done();
            Reference.reachabilityFence(r);
        }
    }

    public static TransientMap asTransient(Root r) {
        r.check();
        try {
            return new TransientMap(r.codec, r.kind, r);
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- iteration and reduction -------------------------------------------------------

    public static Iterator<Object> iterator(Root r) { return new MapIterator(r, MapIterator.ENTRIES); }
    public static Iterator<Object> keyIterator(Root r) { return new MapIterator(r, MapIterator.KEYS); }
    public static Iterator<Object> valIterator(Root r) { return new MapIterator(r, MapIterator.VALS); }

    public static ISeq seq(Root r) {
        if (r.count == 0) return null;
        return RT.chunkIteratorSeq(iterator(r));
    }

    /** reduce-kv for maps; for sets f gets (acc, key, key). Honors reduced. */
    public static Object kvreduce(Root r, IFn f, Object init) {
        r.check();
        try {
            Object out = reduceAll(r, f, init, true);
            return out instanceof Reduced red ? red.deref() : out;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** reduce over map entries (or set keys). Honors reduced. */
    public static Object reduce(Root r, IFn f, Object init) {
        r.check();
        try {
            Object out = reduceAll(r, f, init, false);
            return out instanceof Reduced red ? red.deref() : out;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** The nil key first, then the rest in bitmap order: the order MapIterator yields. */
    private static Object reduceAll(Root r, IFn f, Object init, boolean kv) {
        Codec c = r.codec;
        boolean set = r.kind == Tags.SET;
        long nilEntry = MapNodes.find(c, r.node, null, 0, es(r));
        Object acc = init;
        if (nilEntry != 0) {
            acc = step(r, c.segment(), nilEntry, set, f, acc, kv);
            if (acc instanceof Reduced) return acc;
        }
        return reduceNode(r, r.node, es(r), set, f, acc, kv, nilEntry);
    }

    private static Object reduceNode(Root r, long n, int es, boolean set, IFn f, Object acc, boolean kv, long skip) {
        if (n == 0) return acc;
        Segment s = r.codec.segment();
        if (isCollision(s, n)) {
            for (int i = 0, cnt = collisionCount(s, n); i < cnt; i++) {
                long e = entry(n, es, i);
                if (e == skip) continue;
                acc = step(r, s, e, set, f, acc, kv);
                if (acc instanceof Reduced) return acc;
            }
            return acc;
        }
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm);
        for (int rem = dm | nm; rem != 0; rem &= rem - 1) {
            int bit = rem & -rem;
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                if (e == skip) continue;
                acc = step(r, s, e, set, f, acc, kv);
            } else {
                acc = reduceNode(r, s.getLong(childSlot(n, es, entries, index(nm, bit))), es, set, f, acc, kv, skip);
            }
            if (acc instanceof Reduced) return acc;
        }
        return acc;
    }

    private static Object step(Root r, Segment s, long e, boolean set, IFn f, Object acc, boolean kv) {
        Object k = r.codec.decodeIn(r, keyTag(s, e), keyPayload(s, e));
        if (set) return kv ? f.invoke(acc, k, k) : f.invoke(acc, k);
        Object v = r.codec.decodeIn(r, valTag(s, e), valPayload(s, e));
        return kv ? f.invoke(acc, k, v) : f.invoke(acc, MapEntry.create(k, v));
    }

    // --- equality and hashing ------------------------------------------------------------

    /** Clojure's = between a map or set version and any object. */
    public static boolean equiv(Root r, Object o) {
        r.check();
        try {
            if (o instanceof SharedColl sc && sc.slabRoot().codec == r.codec && sc.slabKind() == r.kind) {
                Root r2 = sc.slabRoot();
                r2.check();
                try {
                    if (r2.count != r.count || r2.hashSum() != r.hashSum()) return false;
                    return nodesEqual(r.codec, r.node, r2.node, es(r), r.kind == Tags.SET, false);
                } finally {
                    Reference.reachabilityFence(r2);
                }
            }
            if (r.kind == Tags.SET) {
                if (!(o instanceof java.util.Set<?> other) || other.size() != r.count) return false;
                for (Object k : other) if (!containsKey(r, k)) return false;
                return true;
            }
            if (!(o instanceof java.util.Map<?, ?> m)) return false;
            if (o instanceof IPersistentMap && !(o instanceof MapEquivalence)) return false;
            if (m.size() != r.count) return false;
            Segment s = r.codec.segment();
            for (Object x : m.entrySet()) {
                java.util.Map.Entry<?, ?> me = (java.util.Map.Entry<?, ?>) x;
                long e = MapNodes.find(r.codec, r.node, me.getKey(), Util.hasheq(me.getKey()), es(r));
                if (e == 0 || !r.codec.equalsValue(r, valTag(s, e), valPayload(s, e), me.getValue())) return false;
            }
            return true;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** Java's equals (Util.equals on values, as APersistentMap.equals). */
    public static boolean javaEquals(Root r, Object o) {
        r.check();
        try {
            if (r.kind == Tags.SET) {
                if (!(o instanceof java.util.Set<?> other) || other.size() != r.count) return false;
                for (Object k : other) if (!containsKey(r, k)) return false;
                return true;
            }
            if (!(o instanceof java.util.Map<?, ?> m) || m.size() != r.count) return false;
            Segment s = r.codec.segment();
            for (Object x : m.entrySet()) {
                java.util.Map.Entry<?, ?> me = (java.util.Map.Entry<?, ?>) x;
                long e = MapNodes.find(r.codec, r.node, me.getKey(), Util.hasheq(me.getKey()), es(r));
                if (e == 0 || !Util.equals(r.codec.decodeIn(r, valTag(s, e), valPayload(s, e)), me.getValue())) return false;
            }
            return true;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /**
     * Structural equality of two versions of one segment; shared nodes are
     * equal without a look inside. strict compares encodings (Codec.sameEncoding), not =.
     */
    static boolean nodesEqual(Codec c, long a, long b, int es, boolean set, boolean strict) {
        if (a == b) return true;
        if (a == 0 || b == 0) return false;
        Segment s = c.segment();
        boolean ca = isCollision(s, a);
        if (ca != isCollision(s, b)) return false;
        if (ca) {
            int cnt = collisionCount(s, a);
            if (cnt != collisionCount(s, b)) return false;
            if (strict) {   // the same encoding iterates in the same order
                for (int i = 0; i < cnt; i++) {
                    long ea = entry(a, es, i), eb = entry(b, es, i);
                    if (!c.sameEncoding(keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb))
                        || !set && !c.sameEncoding(valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb)))
                        return false;
                }
                return true;
            }
            outer:
            for (int i = 0; i < cnt; i++) {
                long ea = entry(a, es, i);
                for (int j = 0; j < cnt; j++) {
                    long eb = entry(b, es, j);
                    if (c.equalsSlot(keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb))) {
                        if (!set && !c.equalsSlot(valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb)))
                            return false;
                        continue outer;
                    }
                }
                return false;
            }
            return true;
        }
        int dm = datamap(s, a), nm = nodemap(s, a);
        if (dm != datamap(s, b) || nm != nodemap(s, b)) return false;
        int entries = Integer.bitCount(dm);
        for (int i = 0; i < entries; i++) {
            long ea = entry(a, es, i), eb = entry(b, es, i);
            if (entryHash(s, ea) != entryHash(s, eb)
                || !c.slotsMatch(keyTag(s, ea), keyPayload(s, ea), keyTag(s, eb), keyPayload(s, eb), strict)
                || (!set && !c.slotsMatch(valTag(s, ea), valPayload(s, ea), valTag(s, eb), valPayload(s, eb), strict)))
                return false;
        }
        int children = Integer.bitCount(nm);
        for (int j = 0; j < children; j++) {
            if (!nodesEqual(c, s.getLong(childSlot(a, es, entries, j)), s.getLong(childSlot(b, es, entries, j)), es, set, strict))
                return false;
        }
        return true;
    }

    /** java.util.Map / Set hashCode: sum of key.hashCode() ^ value.hashCode() (or of element hashCodes). */
    public static int javaHashCode(Root r) {
        r.check();
        try {
            int h = 0;
            Iterator<Object> it = r.kind == Tags.SET ? keyIterator(r) : iterator(r);
            while (it.hasNext()) {
                Object x = it.next();
                if (r.kind == Tags.SET) h += Util.hash(x);
                else {
                    MapEntry me = (MapEntry) x;
                    h += (me.key() == null ? 0 : me.key().hashCode()) ^ (me.val() == null ? 0 : me.val().hashCode());
                }
            }
            return h;
        } finally {
            Reference.reachabilityFence(r);
        }
    }
}
