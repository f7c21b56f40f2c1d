package slab.vector;

import java.util.Iterator;
import java.util.ListIterator;
import java.util.NoSuchElementException;

import slab.ref.Handle;

/**
 * Iterators over a vector version: one that walks decoded chunks, and
 * java.util.List's read-only list iterator. Each holds its handle, so the
 * version's nodes stay alive while the iterator exists, and reads through
 * {@link Vectors}, which checks and fences the handle on every read.
 */
final class VecIterator implements Iterator<Object> {
    private final Handle r;
    private final int end, mask;
    private int i, base;
    private LeafChunk chunk;

    VecIterator(Handle r, int start, int end) {
        this.r = r;
        this.i = start;
        this.end = end;
        this.mask = (1 << r.heap.segment().vecBits()) - 1;
    }

    @Override
    public boolean hasNext() { return i < end; }

    @Override
    public Object next() {
        if (i >= end) throw new NoSuchElementException();
        if (chunk == null || i - base >= chunk.end()) {
            base = i & ~mask;
            chunk = Vectors.chunk(r, base);
        }
        return chunk.at(i++ - base);
    }

    /** java.util.List's list iterator, read-only, as APersistentVector's. */
    static final class ListIter implements ListIterator<Object> {
        private final Handle r;
        private int next;

        ListIter(Handle r, int index) {
            this.r = r;
            this.next = index;
        }

        @Override public boolean hasNext() { return next < r.count; }
        @Override public Object next() { return Vectors.nth(r, next++); }
        @Override public boolean hasPrevious() { return next > 0; }
        @Override public Object previous() { return Vectors.nth(r, --next); }
        @Override public int nextIndex() { return next; }
        @Override public int previousIndex() { return next - 1; }
        @Override public void remove() { throw new UnsupportedOperationException(); }
        @Override public void set(Object o) { throw new UnsupportedOperationException(); }
        @Override public void add(Object o) { throw new UnsupportedOperationException(); }
    }
}
