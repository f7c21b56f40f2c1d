package slab.vector;

import clojure.lang.IChunk;
import clojure.lang.IFn;
import clojure.lang.RT;

/**
 * One leaf's elements [off, end), read from the segment in bulk: the
 * chunk of a vector's seq and iterator. Stored longs and primitive
 * elements are boxed when asked for, not when read, so a caller that
 * unboxes at once (a loop summing {@code (.first s)}, an inlined
 * {@code reduce} step) lets the JIT drop the box; any other value is
 * decoded once, here, so every read of it hands out the same object.
 * Immutable: the seqs and chunks of one leaf share its arrays.
 */
public final class LeafChunk implements IChunk {
    /** Payloads (a codec leaf) or element bits (a vector-of leaf), by index in the leaf. */
    private final long[] bits;
    /** Decoded values of the slots that are not longs; null when every slot holds a long, or elem != 0. */
    private final Object[] decoded;
    /** Bit j set: slot j holds a long (a codec leaf). */
    private final int longs;
    /** The vector-of element type, 0 for a codec leaf. */
    private final int elem;
    private final int off, end;

    LeafChunk(long[] bits, Object[] decoded, int longs, int elem, int off, int end) {
        this.bits = bits;
        this.decoded = decoded;
        this.longs = longs;
        this.elem = elem;
        this.off = off;
        this.end = end;
    }

    /** Element j of the leaf (j an index in the leaf, not in this chunk). */
    Object at(int j) {
        if (elem != 0) return PrimElems.box(elem, bits[j]);
        return (longs >>> j & 1) != 0 ? (Object) bits[j] : decoded[j];
    }

    /** Index in the leaf past this chunk's last element. */
    int end() { return end; }

    /** The elements from index in the leaf at on. */
    LeafChunk from(int at) { return at == off ? this : new LeafChunk(bits, decoded, longs, elem, at, end); }

    @Override
    public Object nth(int i) {
        if (i < 0 || i >= end - off)   // the exception of ArrayChunk's array read
            throw new ArrayIndexOutOfBoundsException("Index " + i + " out of bounds for length " + (end - off));
        return at(off + i);
    }

    @Override
    public Object nth(int i, Object notFound) { return i >= 0 && i < end - off ? at(off + i) : notFound; }

    @Override
    public int count() { return end - off; }

    @Override
    public IChunk dropFirst() {
        if (off == end) throw new IllegalStateException("dropFirst of empty chunk");
        return new LeafChunk(bits, decoded, longs, elem, off + 1, end);
    }

    /** Returns a reduced value still wrapped, as IChunk's reduce does: the caller stops on it. */
    @Override
    public Object reduce(IFn f, Object start) {
        Object acc = start;
        for (int j = off; j < end; j++) {
            acc = f.invoke(acc, at(j));
            if (RT.isReduced(acc)) return acc;
        }
        return acc;
    }
}
