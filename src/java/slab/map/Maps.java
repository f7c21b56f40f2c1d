package slab.map;

import static slab.map.MapNodes.*;

import java.lang.ref.Reference;
import java.util.Iterator;

import clojure.lang.IFn;
import clojure.lang.ISeq;
import clojure.lang.MapEntry;
import clojure.lang.RT;
import clojure.lang.Reduced;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Hashing;
import slab.value.Decoder;
import slab.value.Tags;

/**
 * The operations the Clojure layer's map and set types delegate to, one
 * line each. Every method that reads through a handle checks it first and
 * fences it last, so the version it reads stays alive for the whole call.
 * Updates return a new handle, or the same handle when nothing changed (so
 * {@code (assoc m k v)} with the value already there publishes nothing new).
 */
public final class Maps {
    private Maps() {}

    public static Handle empty(Heap h, int kind) {
        return new Handle(h, kind, 0, 0, 0, 0, 0, true);
    }

    /** A new map (kvs alternate keys and values) or set (kvs are the keys); see {@link MapBuild#build}. */
    public static Handle build(Heap h, int kind, ISeq kvs) { return MapBuild.build(h, kind, kvs); }

    public static int count(Handle r) {
        r.check();
        return (int) r.count;
    }

    // --- lookup -----------------------------------------------------------------------

    public static Object valAt(Handle r, Object key, Object notFound) {
        r.check();
        try {
            long e = entryOf(r, key);
            if (e == 0) return notFound;
            Segment s = r.heap.segment();
            return r.kind == Tags.SET ? MapReads.value(r.heap, r, keyTag(s, e), keyPayload(s, e))
                : MapReads.value(r.heap, r, valTag(s, e), valPayload(s, e));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** The entry of key in r, 0 if absent; a big map's lookup reads each node's next lines ahead. */
    private static long entryOf(Handle r, Object key) {
        return MapNodes.find(r.heap, r.node, key, Hashing.ofKey(key), es(r), r.count >= NestedWarm.LOOKUP_AHEAD_FROM);
    }

    /**
     * (long (get r key notFound)) for a map or set r, without boxing a stored long:
     * a long value is returned as stored, any other value (or notFound, when
     * key is absent and only then) is cast as clojure.core's long casts it
     * (a nil or a non-number throws).
     */
    public static long getLong(Handle r, Object key, Object notFound) {
        r.check();
        try {
            long e = entryOf(r, key);
            if (e == 0) return RT.longCast(notFound);
            Segment s = r.heap.segment();
            boolean set = r.kind == Tags.SET;
            int tag = set ? keyTag(s, e) : valTag(s, e);
            long p = set ? keyPayload(s, e) : valPayload(s, e);
            return tag == Tags.LONG ? p : RT.longCast(MapReads.value(r.heap, r, tag, p));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /**
     * (get-in m ks notFound) for a map r and a non-empty ks, looking through
     * nested maps without a handle for each (see {@link MapPaths}).
     */
    public static Object getIn(Handle r, Object ks, Object notFound) {
        r.check();
        try {
            return MapPaths.getIn(r, ks, notFound);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static boolean containsKey(Handle r, Object key) {
        r.check();
        try {
            return MapNodes.find(r.heap, r.node, key, Hashing.ofKey(key), es(r), r.count >= NestedWarm.LOOKUP_AHEAD_FROM) != 0;
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static MapEntry entryAt(Handle r, Object key) {
        r.check();
        try {
            long e = MapNodes.find(r.heap, r.node, key, Hashing.ofKey(key), es(r), r.count >= NestedWarm.LOOKUP_AHEAD_FROM);
            if (e == 0) return null;
            Segment s = r.heap.segment();
            return MapEntry.create(Decoder.decodeIn(r.heap, r, keyTag(s, e), keyPayload(s, e)),
                Decoder.decodeIn(r.heap, r, valTag(s, e), valPayload(s, e)));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- updates ------------------------------------------------------------------------

    public static Handle assoc(Handle r, Object key, Object val) {
        r.check();
        MapOp op = MapOp.persistent(r.heap, r.kind == Tags.SET);
        try {
            op.begin(key, val);
            long root;
            try {
                root = MapUpdates.assoc(op, r.node);
            } finally {
                op.finish();
            }
            if (!op.changed) return r;
            return new Handle(r.heap, r.kind, root, 0, r.count + op.countDelta, 0, r.hashSum() + op.hashDelta, true);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            op.done();
            Reference.reachabilityFence(r);
        }
    }

    public static Handle conj(Handle r, Object key) { return assoc(r, key, null); }

    public static Handle dissoc(Handle r, Object key) {
        r.check();
        MapOp op = MapOp.persistent(r.heap, r.kind == Tags.SET);
        try {
            op.beginProbe(key);
            long root = MapUpdates.dissoc(op, r.node);
            if (!op.changed) return r;
            return new Handle(r.heap, r.kind, root, 0, r.count + op.countDelta, 0, r.hashSum() + op.hashDelta, true);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            op.done();
            Reference.reachabilityFence(r);
        }
    }

    public static MapTransient asTransient(Handle r) {
        r.check();
        int g = r.heap.gate().enter();
        try {
            return new MapTransient(r.heap, r.kind, r);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.heap.gate().exit(g);
            Reference.reachabilityFence(r);
        }
    }

    // --- iteration and reduction -------------------------------------------------------

    public static Iterator<Object> iterator(Handle r) { return new MapIterator(r, MapIterator.ENTRIES); }
    public static Iterator<Object> keyIterator(Handle r) { return new MapIterator(r, MapIterator.KEYS); }
    public static Iterator<Object> valIterator(Handle r) { return new MapIterator(r, MapIterator.VALS); }

    public static ISeq seq(Handle r) {
        r.check();
        if (r.count == 0) return null;
        return MapIterator.seq(new MapIterator(r, MapIterator.ENTRIES));
    }

    /** reduce-kv for maps; for sets f gets (acc, key, key). Honors reduced. */
    public static Object kvreduce(Handle r, IFn f, Object init) {
        r.check();
        r.enterUserCode();
        try {
            return unreduced(MapReads.reduce(r, f, init, true));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /**
     * (reduce-kv (fn [acc k v] (f acc k (get-in v ks))) init r) for a map r:
     * each value is looked into where it lies, nested maps on the way get
     * no handle (see {@link MapPaths.PathStep}); ks is read once, when the
     * walk starts (not at all for an empty map, as there). Honors reduced.
     */
    public static Object kvreduceIn(Handle r, Object ks, IFn f, Object init) {
        r.check();
        if (r.count == 0) return init;
        return kvreduce(r, new MapPaths.PathStep(f, new MapPaths.Path(ks)), init);
    }

    /** reduce over map entries (or set keys). Honors reduced. */
    public static Object reduce(Handle r, IFn f, Object init) {
        r.check();
        r.enterUserCode();
        try {
            return unreduced(MapReads.reduce(r, f, init, false));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /** reduce without an init, as APersistentMap's seq-based reduce: (f) when empty, else from the first entry. */
    public static Object reduce(Handle r, IFn f) {
        r.check();
        r.enterUserCode();
        try {
            Object out = MapReads.reduce(r, f, MapReads.NO_INIT, false);
            return out == MapReads.NO_INIT ? f.invoke() : unreduced(out);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    private static Object unreduced(Object out) {
        return out instanceof Reduced red ? red.deref() : out;
    }

    // --- equality and hashing ------------------------------------------------------------

    /** Clojure's = between a map or set version and any object. */
    public static boolean equiv(Handle r, Object o) {
        r.check();
        try {
            return MapEquality.equiv(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** Java's equals (Util.equals on values, as APersistentMap.equals). */
    public static boolean javaEquals(Handle r, Object o) {
        r.check();
        try {
            return MapEquality.javaEquals(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** Clojure's hash, O(1): kept up to date as entries change. */
    public static int hasheq(Handle r) {
        r.check();
        return r.hasheq();
    }

    public static int javaHashCode(Handle r) {
        r.check();
        try {
            return MapEquality.javaHashCode(r);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    private static int es(Handle r) { return entryLength(r.kind == Tags.SET); }
}
