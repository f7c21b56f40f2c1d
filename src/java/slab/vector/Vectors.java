package slab.vector;

import java.lang.ref.Reference;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;

import clojure.lang.IFn;
import clojure.lang.ISeq;
import slab.ref.Handle;
import slab.ref.Heap;

/**
 * The operations the Clojure layer's vector type delegates to, one line
 * each (the counterpart of slab.map.Maps). Every method that reads through
 * a handle checks it first and fences it last, so the version it reads
 * stays alive for the whole call; seqs and iterators hold the handle and
 * read through these methods.
 */
public final class Vectors {
    private Vectors() {}

    /** An empty version of r's kind (and element type, for a vector-of). */
    public static Handle emptyLike(Handle r) { return VecUpdates.empty(r.heap, r.kind, r.elem); }

    /** A new vector (kind VECTOR) or list (LIST) of seqable's elements; see {@link VecBuild#build}. */
    public static Handle build(Heap h, Object seqable, int kind) { return VecBuild.build(h, seqable, kind); }

    /**
     * A new vector-of of seqable's elements; type is clojure.core's name of
     * the element type (:long, :double, :int, :float, :short, :char, :byte or
     * :boolean), anything else an IllegalArgumentException as in clojure.core.
     */
    public static Handle buildOf(Heap h, Object type, Object seqable) {
        return VecBuild.vectorOf(h, PrimElems.elemType(type), seqable);
    }

    /** The element type of a vector-of as clojure.core names it (:double ...), nil for a vector of slots. */
    public static Object elemType(Handle r) { return r.elem == 0 ? null : PrimElems.typeName(r.elem); }

    public static int count(Handle r) {
        r.check();
        return (int) r.count;
    }

    // --- lookup -----------------------------------------------------------------------

    /** Element i; IndexOutOfBoundsException outside 0..count-1, as PersistentVector. */
    public static Object nth(Handle r, int i) {
        r.check();
        try {
            return VecNodes.nth(r, i);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static Object nth(Handle r, int i, Object notFound) {
        r.check();
        try {
            return VecNodes.nth(r, i, notFound);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /**
     * (long (nth r i)) without boxing a stored long (see {@link VecNodes#nthLong}); an
     * index past an int throws ArithmeticException, as Clojure's cast of nth's index does.
     */
    public static long nthLong(Handle r, long i) {
        r.check();
        try {
            return VecNodes.nthLong(r, Math.toIntExact(i));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** The last element, or nil when empty. */
    public static Object peek(Handle r) {
        r.check();
        try {
            return r.count == 0 ? null : VecNodes.nth(r, (int) r.count - 1);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- updates ------------------------------------------------------------------------

    public static Handle cons(Handle r, Object v) {
        r.check();
        int g = r.heap.gate().enter();
        try {
            return VecUpdates.cons(r, v);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.heap.gate().exit(g);
            Reference.reachabilityFence(r);
        }
    }

    /** Element i replaced by v; i == count appends. */
    public static Handle assocN(Handle r, int i, Object v) {
        r.check();
        int g = r.heap.gate().enter();
        try {
            return VecUpdates.assocN(r, i, v);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.heap.gate().exit(g);
            Reference.reachabilityFence(r);
        }
    }

    /** Without the last element; IllegalStateException on an empty vector, as PersistentVector. */
    public static Handle pop(Handle r) {
        r.check();
        int g = r.heap.gate().enter();
        try {
            return VecUpdates.pop(r);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.heap.gate().exit(g);
            Reference.reachabilityFence(r);
        }
    }

    public static VecTransient asTransient(Handle r) { return VecTransient.of(r); }

    // --- iteration and reduction -------------------------------------------------------

    /** A chunked seq from index start, or nil when start is at or past the end. */
    public static ISeq seq(Handle r, int start) {
        r.check();
        return VecSeq.create(r, start);
    }

    /** The elements of the leaf holding index base (a multiple of the branching), read once. */
    static LeafChunk chunk(Handle r, int base) {
        r.check();
        try {
            return VecReads.chunk(r, base);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static Object[] toArray(Handle r) {
        r.check();
        try {
            return VecReads.toArray(r);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static Iterator<Object> iterator(Handle r) {
        r.check();
        return new VecIterator(r, 0, (int) r.count);
    }

    public static Iterator<Object> iterator(Handle r, int start, int end) {
        r.check();
        return new VecIterator(r, start, end);
    }

    public static ListIterator<Object> listIterator(Handle r, int index) {
        r.check();
        return new VecIterator.ListIter(r, index);
    }

    /** Reduces elements start.. with f from init; stops at a reduced value and returns what it wraps. */
    public static Object reduce(Handle r, int start, IFn f, Object init) {
        r.check();
        r.enterUserCode();
        try {
            return VecReads.reduce(r, start, f, init);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /** Reduce without an initial value: (f) on an empty range, else starts from element start. */
    public static Object reduce(Handle r, int start, IFn f) {
        r.check();
        r.enterUserCode();
        try {
            if (start >= r.count) return f.invoke();
            return VecReads.reduce(r, start + 1, f, VecNodes.nth(r, start));
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /**
     * A vector-of's leaves in order, each as a read-only MemorySegment over
     * its elements, reduced with f from init (see PrimReads.reduceLeaves).
     * The slices are valid only while f runs: the version is kept alive
     * until this returns, not after.
     */
    public static Object reduceLeaves(Handle r, IFn f, Object init) {
        r.check();
        r.enterUserCode();
        try {
            return PrimReads.reduceLeaves(r, f, init);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /** kv-reduce: f receives the index as an Integer, as PersistentVector passes it. */
    public static Object kvreduce(Handle r, IFn f, Object init) {
        r.check();
        r.enterUserCode();
        try {
            return VecReads.kvreduce(r, f, init);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            r.exitUserCode();
            Reference.reachabilityFence(r);
        }
    }

    /** The seq after dropping n elements, or nil past the end; n &lt;= 0 gives the whole seq. */
    public static ISeq drop(Handle r, int n) {
        r.check();
        return n < r.count ? VecSeq.create(r, Math.max(n, 0)) : null;
    }

    public static int indexOf(Handle r, Object o) {
        r.check();
        try {
            return VecReads.indexOf(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static int lastIndexOf(Handle r, Object o) {
        r.check();
        try {
            return VecReads.lastIndexOf(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- equality, hashing, ordering ------------------------------------------------------

    /** Clojure's = (equiv), with APersistentVector.doEquiv's rules. */
    public static boolean equiv(Handle r, Object o) {
        r.check();
        try {
            return VecEquality.equiv(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
            Reference.reachabilityFence(o);
        }
    }

    /** Java's equals, with APersistentVector.doEquals's rules; self is the vector (for its hashCode). */
    public static boolean equals(Handle r, List<?> self, Object o) {
        if (o == self) return true;
        r.check();
        try {
            return VecEquality.equals(r, self, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** APersistentVector.compareTo: shorter first, then element by element with Util.compare. */
    public static int compare(Handle r, Object o) {
        r.check();
        try {
            return VecEquality.compare(r, o);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** Clojure's hash, computed once per version. */
    public static int hasheq(Handle r) {
        r.check();
        return r.hasheq();
    }

    /** java.util.List's hashCode. */
    public static int javaHashCode(Handle r) {
        r.check();
        try {
            return VecEquality.javaHashCode(r);
        } catch (InternalError e) {
            throw r.heap.segment().fault(e);   // a file truncated under us
        } finally {
            Reference.reachabilityFence(r);
        }
    }
}
