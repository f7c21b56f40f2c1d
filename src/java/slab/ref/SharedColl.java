package slab.ref;

/**
 * Implemented by the Clojure layer's collection types, so the encoder can
 * recognise a shared collection of the same segment and store it by
 * reference (zero-copy) instead of converting it.
 */
public interface SharedColl {
    /** The handle on this collection's version. */
    Handle slabHandle();
    /** One of Tags.MAP, SET, VECTOR, LIST, VECTOR_OF. */
    int slabKind();
}
