package slab.map;

import clojure.lang.ExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.ISeq;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Tags;
import slab.value.Validator;

/**
 * Building a whole map or set at once, through a transient: from
 * constructor arguments (validated first, so a refused argument writes
 * nothing), or from an on-heap collection the value codec has validated.
 */
public final class MapBuild {
    private MapBuild() {}

    /**
     * A new map (kvs alternate keys and values) or set (kvs are the keys),
     * built after every key and value has been validated.
     */
    public static Handle build(Heap h, int kind, ISeq kvs) {
        h.segment().checkOpen();
        boolean set = kind == Tags.SET;
        for (ISeq q = kvs; q != null; q = q.next()) {
            Object k = q.first();
            Validator.validate(h, k);
            if (!set) {
                q = q.next();
                if (q == null) throw new IllegalArgumentException("No value supplied for key: " + k);
                try {
                    Validator.validate(h, q.first());
                } catch (clojure.lang.ExceptionInfo e) {
                    throw Validator.withPath(e, k);   // the value at k, as share reports it
                }
            }
        }
        MapTransient t = new MapTransient(h, kind, null, true);
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

    /** A map holding m's entries; m has been validated. */
    public static Handle fromMap(Heap h, IPersistentMap m) {
        MapTransient t = new MapTransient(h, Tags.MAP, null, true);
        try {
            for (Object o : (Iterable<?>) m) {
                java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) o;
                try {
                    t.assoc(e.getKey(), e.getValue());
                } catch (ExceptionInfo ex) {
                    throw Validator.withPath(ex, e.getKey());
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }

    /** A set holding set's keys; set has been validated. */
    public static Handle fromSet(Heap h, IPersistentSet set) {
        MapTransient t = new MapTransient(h, Tags.SET, null, true);
        try {
            for (ISeq q = set.seq(); q != null; q = q.next()) {
                Object k = q.first();
                try {
                    t.conj(k);
                } catch (ExceptionInfo ex) {
                    throw Validator.withPath(ex, k);
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }
}
