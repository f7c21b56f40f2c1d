package slab.vector;

import java.util.Arrays;

import clojure.lang.ASeq;
import clojure.lang.Counted;
import clojure.lang.IChunk;
import clojure.lang.IChunkedSeq;
import clojure.lang.IDrop;
import clojure.lang.IFn;
import clojure.lang.IPersistentMap;
import clojure.lang.IReduce;
import clojure.lang.ISeq;
import clojure.lang.Obj;
import clojure.lang.PersistentList;
import clojure.lang.Sequential;
import slab.ref.Handle;

/**
 * The chunked seq of a shared vector, as PersistentVector.ChunkedSeq: each
 * chunk is one leaf, read once ({@link LeafChunk}; longs boxed as asked
 * for). The seq holds the handle, so the version's nodes stay alive while
 * any part of the seq is reachable.
 */
public final class VecSeq extends ASeq implements IChunkedSeq, Counted, IReduce, IDrop {
    private final Handle root;
    private final LeafChunk chunk;
    /** Index of the leaf's first element in the vector. */
    private final int base;
    /** Index in the leaf of this seq's first element. */
    private final int offset;

    private VecSeq(IPersistentMap meta, Handle root, LeafChunk chunk, int base, int offset) {
        super(meta);
        this.root = root;
        this.chunk = chunk;
        this.base = base;
        this.offset = offset;
    }

    /** The seq of r from index start, or null when start is at or past the end. */
    static VecSeq create(Handle r, int start) {
        if (start < 0 || start >= r.count) return null;
        int mask = (1 << r.heap.segment().vecBits()) - 1;
        int b = start & ~mask;
        return new VecSeq(null, r, Vectors.chunk(r, b), b, start - b);
    }

    @Override
    public Object first() { return chunk.at(offset); }

    @Override
    public ISeq next() {
        if (offset + 1 < chunk.end()) return new VecSeq(null, root, chunk, base, offset + 1);
        return chunkedNext();
    }

    @Override
    public IChunk chunkedFirst() { return chunk.from(offset); }

    @Override
    public ISeq chunkedNext() { return create(root, base + chunk.end()); }

    @Override
    public ISeq chunkedMore() {
        ISeq s = chunkedNext();
        return s == null ? PersistentList.EMPTY : s;
    }

    @Override
    public int count() { return (int) root.count - (base + offset); }

    @Override
    public Obj withMeta(IPersistentMap meta) {
        if (meta == meta()) return this;
        return new VecSeq(meta, root, chunk, base, offset);
    }

    @Override
    public Object reduce(IFn f) { return Vectors.reduce(root, base + offset, f); }

    @Override
    public Object reduce(IFn f, Object init) { return Vectors.reduce(root, base + offset, f, init); }

    @Override
    public Sequential drop(int n) {
        long o = (long) offset + n;   // n up to Integer.MAX_VALUE: an int sum would wrap
        if (o < chunk.end()) return new VecSeq(null, root, chunk, base, (int) o);
        long at = base + o;
        return at >= root.count ? null : create(root, (int) at);
    }

    /** Serialized as the list of its elements, as clojure.core's seqs serialize theirs. */
    private Object writeReplace() { return PersistentList.create(Arrays.asList(toArray())); }
}
