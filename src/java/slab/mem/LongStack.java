package slab.mem;

import java.util.Arrays;

/**
 * A growable stack of longs: the reclaimer's work list, so releases never recurse.
 *
 * <p>The bottom element lives in a field and the array is made only when a
 * second element is pushed. Freeing a dropped version usually frees a chain
 * (its root, then the one path-copied child that reaches zero, ...), which
 * never holds more than one element, so it allocates no array.
 */
public class LongStack {
    private long bottom;
    private long[] rest;
    private int size;

    public void push(long v) {
        if (size == 0) {
            bottom = v;
        } else {
            if (rest == null) rest = new long[16];
            else if (size - 1 == rest.length) rest = Arrays.copyOf(rest, rest.length * 2);
            rest[size - 1] = v;
        }
        size++;
    }

    public long pop() {
        size--;
        return size == 0 ? bottom : rest[size - 1];
    }

    public boolean isEmpty() { return size == 0; }
}
