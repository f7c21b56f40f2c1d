package slab.value;

import slab.ref.Handle;
import slab.ref.Heap;

/**
 * The slots of a run of elements read from the segment (a seq's chunk): a
 * long is kept as its payload and boxed when asked for, so a caller that
 * unboxes at once lets the JIT drop the box; any other value is decoded
 * once, when stored, so every read of it hands out the same object. Filled
 * by one thread before the chunk holding it is published, then only read.
 */
public final class Slots {
    private final long[] payloads;
    private Object[] decoded;
    /** Bit j set: slot j holds a long (a run has at most 32 elements). */
    private int longs;

    public Slots(int n) { payloads = new long[n]; }

    /** The array a bulk read fills with the payloads, before {@link #tag} gives each slot its tag. */
    public long[] payloads() { return payloads; }

    /** Slot j holds tag with payloads()[j]: a long is kept, any other value decoded now, borrowing r's counts. */
    public void tag(Heap h, Handle r, int j, int tag) {
        if (tag == Tags.LONG) {
            longs |= 1 << j;
            return;
        }
        if (decoded == null) decoded = new Object[payloads.length];
        decoded[j] = Decoder.decodeIn(h, r, tag, payloads[j]);
    }

    /** Stores slot j: tag with payload (see {@link #tag}). */
    public void put(Heap h, Handle r, int j, int tag, long payload) {
        payloads[j] = payload;
        tag(h, r, j, tag);
    }

    public Object get(int j) { return (longs >>> j & 1) != 0 ? (Object) payloads[j] : decoded[j]; }
}
