package slab.ref;

import clojure.lang.IMeta;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.IPersistentVector;
import clojure.lang.IRecord;
import clojure.lang.Sequential;
import slab.map.MapBuild;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;
import slab.value.Validator;
import slab.vector.VecBuild;

/**
 * Where handles become the Clojure layer's collections: the factory the
 * Clojure layer installs (so the Java core never names a Clojure namespace),
 * and the deep conversion of a plain value into the segment.
 */
public final class Handles {
    private Handles() {}

    private static volatile HandleFactory factory;

    public static void setFactory(HandleFactory f) { factory = f; }

    static void requireFactory() {
        if (factory == null) throw new IllegalStateException("slab: load slab.core before reading nested collections");
    }

    /** The Clojure layer's collection of kind on handle h. */
    public static Object make(int kind, Handle h, IPersistentMap meta) {
        HandleFactory f = factory;
        if (f == null) throw new IllegalStateException("slab: load slab.core before reading nested collections");
        return f.make(kind, h, meta);
    }

    /**
     * A shared version of v in heap h: collections are converted deeply (a
     * shared collection of this segment is returned as it is), scalars are
     * checked and returned unchanged. Throws {@code :unsupported-value} and
     * leaks nothing if anything inside cannot be stored.
     */
    public static Object share(Heap h, Object v) {
        h.segment().checkOpen();
        if (v instanceof SharedColl sc && sc.slabHandle().heap == h) return v;
        Validator.validate(h, v);
        IPersistentMap meta = v instanceof IMeta im ? im.meta() : null;
        if (v instanceof IRecord) throw Validator.record(v);
        if (v instanceof IPersistentMap m) return make(Tags.MAP, MapBuild.fromMap(h, m), meta);
        if (v instanceof IPersistentSet set) return make(Tags.SET, MapBuild.fromSet(h, set), meta);
        int elem = VecBuild.vectorOfType(v);   // a vector-of (clojure.core's or slab's) becomes a slab vector-of
        if (elem != 0) return make(Tags.VECTOR_OF, VecBuild.vectorOf(h, elem, v), meta);
        if (v instanceof IPersistentVector) return make(Tags.VECTOR, VecBuild.fromSeqable(h, v, Tags.VECTOR), meta);
        if (v instanceof Sequential) return make(Tags.LIST, VecBuild.fromSeqable(h, v, Tags.LIST), meta);
        Slot slot = new Slot();
        int g = h.gate().enter();
        try {
            Encoder.encode(h, v, slot);
            RefCounts.releaseSlot(h, slot.tag, slot.payload);
        } finally {
            h.gate().exit(g);
        }
        return v;
    }
}
