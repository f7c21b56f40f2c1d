package slab.ref;

import java.lang.ref.Reference;

import clojure.lang.Murmur3;
import slab.value.Tags;
import slab.vector.VecEquality;

/**
 * An on-heap handle on one version of a shared collection. An owning handle
 * holds exactly one count on its root node (and, for vectors, one on its
 * tail node) and gives them back when it is released explicitly or when the
 * JVM collects it: it is registered with the Cleaner, whose action holds
 * only the offsets, never the handle. A borrowing handle (a collection
 * nested in another version) takes no counts: it holds its parent.
 *
 * <p>Every public operation in slab.map and slab.vector calls {@link #check}
 * first and {@code Reference.reachabilityFence} on the handle last, so
 * neither a released handle nor the JIT ending the handle's life early can
 * let it read freed nodes.
 */
public final class Handle {
    public final Heap heap;
    public final int kind;
    /** Root node offset, 0 for an empty collection. */
    public final long node;
    /** Vector tail node offset, 0 if none. */
    public final long tail;
    public final long count;
    public final int shift;
    /** A vector-of's element type (slab.vector.PrimLeafDescriptor.ELEM_*); 0 for every other kind. */
    public final int elem;
    /**
     * Maps and sets: the sum of entry hashes (hasheq = mixCollHash(sum, count)).
     * Others: the hasheq when it was known at construction. Final (as is
     * hashGiven), so a handle whose hash is known, every borrowing one
     * included, costs no volatile store to make and is safe to publish.
     */
    private final int hash;
    private final boolean hashGiven;
    /** A vector's hasheq computed on first use, when not given; valid once computed is true. */
    private int computedHash;
    private volatile boolean computed;
    private volatile boolean released;
    /**
     * The one thread that has used this handle so far, or {@link #SHARED}
     * once a second thread has: release gives counts back at once only while
     * no other thread can be inside a read of this version.
     */
    private volatile Object user;
    private static final Object SHARED = new Object();
    /**
     * How many reads of this version its one user is in the middle of while
     * user code runs (a reduce's function): release then leaves the counts
     * to the Cleaner too. Touched only by that user, so a plain field.
     */
    private int inUserCode;
    /**
     * Set by the owning constructor once the handle exists (the action
     * tracks it); null for the others. Read only by release, which, should
     * it see null, leaves the counts to the Cleaner.
     */
    private Release cleanable;
    /** For a borrowing handle, the handle whose counts keep this one's nodes alive; null for an owning one. */
    private final Handle parent;

    /** An owning handle: takes over one count the caller holds on node and one on tail (where non-zero). */
    public Handle(Heap heap, int kind, long node, long tail, long count, int shift, int hash, boolean hashKnown) {
        this(heap, kind, 0, node, tail, count, shift, hash, hashKnown);
    }

    /** An owning handle on a vector-of (kind VECTOR_OF) of element type elem, or on any other kind with elem 0. */
    public Handle(Heap heap, int kind, int elem, long node, long tail, long count, int shift, int hash, boolean hashKnown) {
        this(heap, null, kind, elem, node, tail, count, shift, hash, hashKnown);
        // Only an owning handle gives counts back on release; the others never need to know their users.
        this.user = Thread.currentThread();
        // A read-only heap's handles hold no counts: no block of a read-only mapping is ever freed.
        if (heap.readOnly()) return;
        Ownership o = heap.ownership();
        o.own(node);
        o.own(tail);
        if ((node | tail) == 0) return;
        cleanable = new Release(this, o, node, tail);
        o.handlesMade.increment();
    }

    /**
     * A borrowing handle on a collection nested in parent's version: no
     * counts and no Cleaner, since parent's counts hold every node of its
     * (immutable) version, this one's included. That makes reading nested
     * values as cheap as reading scalars.
     */
    Handle(Handle parent, int kind, int elem, long node, long tail, long count, int shift, int hash) {
        this(parent.heap, parent, kind, elem, node, tail, count, shift, hash, true);
    }

    /**
     * The fields alone: small enough for the JIT to inline where a value is
     * decoded, which a borrowing handle (made for every nested collection
     * read) needs to cost about what any small object costs.
     */
    private Handle(Heap heap, Handle parent, int kind, int elem, long node, long tail, long count, int shift, int hash,
                   boolean hashKnown) {
        this.heap = heap;
        this.kind = kind;
        this.elem = elem;
        this.node = node;
        this.tail = tail;
        this.count = count;
        this.shift = shift;
        this.hash = hash;
        this.hashGiven = hashKnown;
        this.parent = parent;
    }

    /**
     * Throws the clear error for a released handle or a closed segment. A
     * thread other than the handle's one user marks it shared first: with
     * {@link #release} marking it released first, sequential consistency of
     * these volatiles (Dekker) means either this check sees it released, or
     * release sees it shared and leaves the counts to the Cleaner.
     */
    public void check() {
        if (parent != null) parent.check();
        else {
            Object u = user;
            if (u != SHARED && u != Thread.currentThread()) user = SHARED;
        }
        if (released) throw new IllegalStateException(
            "This slab collection was released with slab/release! and can no longer be used; "
            + "release a version only after its last use (keep the version itself, or one derived from it).");
        if (heap.segment().isClosed()) throw heap.segment().closedError();
    }

    /**
     * Makes the handle unusable in every thread, and gives its counts back:
     * now if no thread but this one has used it (so none can be inside a
     * read of it), otherwise when the JVM collects it, since every read
     * holds the handle until it ends. Releasing twice is a no-op.
     */
    public void release() {
        released = true;
        if (cleanable != null && releasesAtOnce()) cleanable.clean();
    }

    /** Whether release would give the counts back at once: no other thread has used this handle, and no read of it is running user code. */
    public boolean releasesAtOnce() { return user == Thread.currentThread() && inUserCode == 0; }

    /**
     * Brackets a read that calls user code (a reduce's function may release
     * the very version it walks). Counted on the owning handle, whose
     * counts the read relies on.
     */
    public void enterUserCode() { owner().inUserCode++; }

    public void exitUserCode() { owner().inUserCode--; }

    private Handle owner() {
        Handle h = this;
        while (h.parent != null) h = h.parent;
        return h;
    }

    /**
     * A handle for one comparison inside a read of a version the caller
     * holds: it takes no counts (the caller's version holds its nodes) and
     * must be {@link #release}d when the comparison ends, so a value made
     * from it that escaped into user code throws instead of reading on.
     */
    public static Handle scoped(Heap heap, int kind, int elem, long node, long tail, long count, int shift, int hash) {
        Handle r = new Handle(heap, null, kind, elem, node, tail, count, shift, hash, true);
        r.user = SHARED;
        return r;
    }

    public boolean isReleased() { return released; }

    /** Maps and sets: the running sum of entry hashes. */
    public int hashSum() { return hash; }

    public boolean hashKnown() { return hashGiven || computed; }

    /** Clojure's hasheq; for maps and sets O(1), for vectors and lists computed once. */
    public int hasheq() {
        if (kind == Tags.MAP || kind == Tags.SET) return Murmur3.mixCollHash(hash, (int) count);
        if (hashGiven) return hash;
        if (!computed) {
            check();
            try {
                computedHash = VecEquality.orderedHash(this);
                computed = true;
            } finally {
                Reference.reachabilityFence(this);
            }
        }
        return computedHash;
    }

    /** Tracks the handle and gives its counts back: the one object a version's tracking costs. */
    private static final class Release extends CleanerAction {
        private final long node;
        private final long tail;

        Release(Handle owner, Ownership owners, long node, long tail) {
            super(owner, owners);
            this.node = node;
            this.tail = tail;
        }

        @Override
        protected void giveBack() {
            owners.handlesGone.increment();
            owners.releaseOwned(node);
            owners.releaseOwned(tail);
        }
    }
}
