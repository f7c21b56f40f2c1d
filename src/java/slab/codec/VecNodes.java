package slab.codec;

/** Vector trie nodes: to be written (see the vector issue). */
final class VecNodes {
    private VecNodes() {}

    static Root fromSeqable(Codec c, Object seqable, int kind) {
        throw new UnsupportedOperationException("slab: vectors are not implemented yet");
    }

    static int orderedHash(Root r) {
        throw new UnsupportedOperationException("slab: vectors are not implemented yet");
    }

    static void dropChildren(Codec c, long node, LongStack work) { }

    static void pushRefs(Codec c, long node, LongStack out) { }
}
