package slab.value;

import clojure.lang.IChunk;
import clojure.lang.IFn;
import clojure.lang.RT;

/**
 * A chunk of a seq over a run of elements read from the segment at once:
 * the run's elements [off, end), each made by {@link #at} when asked for.
 * Immutable: the seqs and chunks of one run share what it read.
 */
public abstract class RunChunk implements IChunk {
    protected final int off, end;

    protected RunChunk(int off, int end) {
        this.off = off;
        this.end = end;
    }

    /** Element j of the run (j an index in the run, not in this chunk). */
    public abstract Object at(int j);

    /** The elements from index at of the run on (this chunk when at is its first). */
    public abstract RunChunk from(int at);

    /** Index in the run past this chunk's last element. */
    public final int end() { return end; }

    @Override
    public final Object nth(int i) {
        if (i < 0 || i >= end - off)   // the exception of ArrayChunk's array read
            throw new ArrayIndexOutOfBoundsException("Index " + i + " out of bounds for length " + (end - off));
        return at(off + i);
    }

    @Override
    public final Object nth(int i, Object notFound) { return i >= 0 && i < end - off ? at(off + i) : notFound; }

    @Override
    public final int count() { return end - off; }

    @Override
    public final IChunk dropFirst() {
        if (off == end) throw new IllegalStateException("dropFirst of empty chunk");
        return from(off + 1);
    }

    /** Returns a reduced value still wrapped, as IChunk's reduce does: the caller stops on it. */
    @Override
    public final Object reduce(IFn f, Object start) {
        Object acc = start;
        for (int j = off; j < end; j++) {
            acc = f.invoke(acc, at(j));
            if (RT.isReduced(acc)) return acc;
        }
        return acc;
    }
}
