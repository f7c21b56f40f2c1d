package slab.vector;

import slab.value.RunChunk;
import slab.value.Slots;

/**
 * One leaf's elements, read from the segment in bulk: the chunk of a
 * vector's seq and iterator. A codec leaf's slots keep longs unboxed
 * ({@link Slots}); a vector-of leaf's elements are kept as bits and boxed
 * as their type when asked for.
 */
final class LeafChunk extends RunChunk {
    /** A codec leaf's slots; null for a vector-of leaf. */
    private final Slots slots;
    /** A vector-of leaf's element bits; null for a codec leaf. */
    private final long[] bits;
    /** The vector-of element type, 0 for a codec leaf. */
    private final int elem;

    LeafChunk(Slots slots, long[] bits, int elem, int off, int end) {
        super(off, end);
        this.slots = slots;
        this.bits = bits;
        this.elem = elem;
    }

    @Override
    public Object at(int j) { return elem != 0 ? PrimElems.box(elem, bits[j]) : slots.get(j); }

    @Override
    public LeafChunk from(int at) { return at == off ? this : new LeafChunk(slots, bits, elem, at, end); }
}
