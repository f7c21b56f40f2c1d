package slab.codec;

import java.util.Arrays;

/** A growable stack of longs: the reclaimer's work list, so releases never recurse. */
public final class LongStack {
    private long[] items = new long[16];
    private int size;

    public void push(long v) {
        if (size == items.length) items = Arrays.copyOf(items, size * 2);
        items[size++] = v;
    }

    public long pop() { return items[--size]; }
    public boolean isEmpty() { return size == 0; }
}
