package slab.vector;

import java.util.Iterator;

import clojure.lang.ExceptionInfo;
import clojure.lang.RT;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Tags;
import slab.value.Validator;

/**
 * Building a whole vector, list or vector-of at once, through a transient:
 * from the Clojure layer's constructors (validated first, so a refused
 * element writes nothing), or from an on-heap collection the value codec
 * has validated.
 */
public final class VecBuild {
    private VecBuild() {}

    // --- building ---------------------------------------------------------------------

    /**
     * A new version holding the elements of seqable, built through a
     * transient; kind is Tags.VECTOR or Tags.LIST. The encoder calls this for
     * values it has already validated, so elements are encoded trusted.
     */
    public static Handle fromSeqable(Heap h, Object seqable, int kind) {
        return fill(h, VecTransient.building(h, kind, 0, true), RT.iter(seqable));
    }

    /**
     * A new vector-of of element type elem holding the elements of seqable,
     * each cast as clojure.core's vector-of casts it: a value that does not
     * cast (out of range, nil, another kind) throws what clojure.core throws,
     * and nothing is left behind.
     */
    public static Handle vectorOf(Heap h, int elem, Object seqable) {
        PrimLeafDescriptor.checkElem(elem);
        return fill(h, VecTransient.building(h, Tags.VECTOR_OF, elem, true), RT.iter(seqable));
    }

    /**
     * The element type of a clojure.core vector-of (class clojure.core.Vec),
     * read from the primitive array it keeps its tail in, or of a slab
     * vector-of of any segment (so one copied into another segment, or
     * into a snapshot, stays a vector-of); 0 for any other value.
     */
    public static int vectorOfType(Object v) {
        if (v instanceof slab.ref.SharedColl sc) return sc.slabHandle().elem;
        return v instanceof clojure.core.Vec cv ? PrimElems.elemTypeOfArray(cv.tail) : 0;
    }

    /**
     * The Clojure layer's bulk build: a new version of the elements of
     * seqable (any collection, seq, array, string or nil). Every element is
     * validated first, so a value slab cannot store fails the build with its
     * index in the error's path and writes nothing (not even a keyword).
     */
    public static Handle build(Heap h, Object seqable, int kind) {
        boolean reiterable = seqable instanceof clojure.lang.IPersistentCollection && seqable instanceof Iterable;
        Object source = reiterable ? seqable : RT.seq(seqable);   // a seq caches what it realizes
        long i = 0;
        for (Iterator<?> it = RT.iter(source); it.hasNext(); i++) {
            Object x = it.next();
            try {
                Validator.validate(h, x);
            } catch (ExceptionInfo e) {
                throw Validator.withPath(e, i);
            }
        }
        return fill(h, VecTransient.building(h, kind, 0, true), RT.iter(source));
    }

    private static Handle fill(Heap h, VecTransient t, Iterator<?> it) {
        try {
            while (it.hasNext()) t.conj(it.next());
        } catch (RuntimeException | Error e) {
            t.abandon();
            throw e;
        }
        return t.persistent();
    }
}
