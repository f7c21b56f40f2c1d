package slab.codec;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;

import clojure.lang.Murmur3;

/**
 * An on-heap handle on one version of a shared collection. It owns exactly
 * one count on its root node (and, for vectors, one on the tail node), and
 * gives them back when it is released explicitly or when the JVM collects it:
 * it is registered with the codec's Cleaner, whose action holds only the
 * codec and the offsets, never the handle.
 *
 * <p>Readers call {@link #check} before and {@code Reference.reachabilityFence}
 * after reading through the handle, so neither a released handle nor the JIT
 * ending the handle's life early can let them read freed nodes.
 */
public final class Root {
    public final Codec codec;
    public final int kind;
    /** Root node offset, 0 for an empty collection. */
    public final long node;
    /** Vector tail node offset, 0 if none. */
    public final long tail;
    public final long count;
    public final int shift;
    /** Maps and sets: the sum of entry hashes (hasheq = mixCollHash(sum, count)). Others: the hasheq once known. */
    private int hash;
    private volatile boolean hashKnown;
    private volatile boolean released;
    private final Release release;
    private final Cleaner.Cleanable cleanable;
    /**
     * For a borrowed handle (a collection nested in parent's version), the
     * handle whose counts keep this one's nodes alive; null for an owning one.
     */
    private final Root parent;

    /** Takes over one count the caller holds on node and one on tail (where non-zero). */
    public Root(Codec codec, int kind, long node, long tail, long count, int shift, int hash, boolean hashKnown) {
        this.codec = codec;
        this.kind = kind;
        this.node = node;
        this.tail = tail;
        this.count = count;
        this.shift = shift;
        this.hash = hash;
        this.hashKnown = hashKnown;
        this.parent = null;
        codec.own(node);
        codec.own(tail);
        this.release = new Release(codec, node, tail);
        this.cleanable = (node | tail) == 0 ? null : codec.cleaner().register(this, release);
        if (cleanable != null) codec.handlesMade.increment();
    }

    /**
     * A handle on a collection nested in parent's version. It takes no counts
     * and needs no Cleaner: it holds parent, and parent's counts hold every
     * node of parent's (immutable) version, this one's included. That makes
     * reading nested values as cheap as reading scalars.
     */
    Root(Root parent, int kind, long node, long tail, long count, int shift, int hash) {
        this.codec = parent.codec;
        this.kind = kind;
        this.node = node;
        this.tail = tail;
        this.count = count;
        this.shift = shift;
        this.hash = hash;
        this.hashKnown = true;
        this.parent = parent;
        this.release = null;
        this.cleanable = null;
    }

    /** Throws the clear error for a released handle or a closed segment. */
    public void check() {
        if (parent != null) parent.check();
        if (released) throw new IllegalStateException(
            "This slab collection was released with slab/release! and can no longer be used; "
            + "release a version only after its last use (keep the version itself, or one derived from it).");
        if (codec.segment().isClosed()) throw codec.segment().closedError();
    }

    /** Gives the counts back now. Releasing twice is a no-op. */
    public void release() {
        released = true;
        if (cleanable != null) cleanable.clean();
    }

    public boolean isReleased() { return released; }

    /** Maps and sets: the running sum of entry hashes. */
    public int hashSum() { return hash; }

    public boolean hashKnown() { return hashKnown; }

    /** Clojure's hasheq; for maps and sets O(1), for vectors computed once. */
    public int hasheq() {
        if (kind == Tags.MAP || kind == Tags.SET) return Murmur3.mixCollHash(hash, (int) count);
        if (!hashKnown) {
            check();
            try {
                hash = codec.orderedHash(this);
                hashKnown = true;
            } finally {
                Reference.reachabilityFence(this);
            }
        }
        return hash;
    }

    /** The Cleaner's action: tiny, and free of any reference to the handle. */
    static final class Release extends CleanerAction {
        private final long node;
        private final long tail;

        Release(Codec codec, long node, long tail) {
            super(codec);
            this.node = node;
            this.tail = tail;
        }

        @Override
        void giveBack() {
            codec.handlesGone.increment();
            codec.releaseOwned(node);
            codec.releaseOwned(tail);
        }
    }
}
