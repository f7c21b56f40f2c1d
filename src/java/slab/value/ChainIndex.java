package slab.value;

import static slab.value.InternDescriptor.INTERN_BUCKETS;

/**
 * One process's index of the intern table's bucket chains: the offset and
 * hash of every block it has walked over, and per bucket the head its last
 * walk began at. Chains only grow at the head and a linked block never
 * changes, so the next walk of a bucket stops where the last one began, and
 * looking a name up costs the blocks linked since, plus the few of its hash
 * (the table has a fixed 16,384 buckets: with ten million names a chain is
 * hundreds of blocks long, and walking it per new name made interning
 * quadratic).
 *
 * <p>An open-addressing multimap hash -> offsets in two flat arrays (no
 * object per entry, nothing for a full GC to trace). Not thread-safe: the
 * Interner holds its lock around every use.
 */
final class ChainIndex {
    /** Made on the first walk: most segments a process opens it interns nothing in. */
    private long[] walked;
    private long[] offsets = new long[1 << 6];
    private int[] hashes = new int[1 << 6];
    private int size;

    /** The head bucket's last walk began at; 0 if it was never walked. */
    long walkedFrom(int bucket) { return walked == null ? 0 : walked[bucket]; }

    void walkedFrom(int bucket, long head) {
        if (walked == null) walked = new long[INTERN_BUCKETS];
        walked[bucket] = head;
    }

    private static int slot(int hash, int mask) {
        return (int) ((hash * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    /** The first slot at or after i holding a block of this hash, or -1. */
    int next(int hash, int i) {
        int mask = offsets.length - 1;
        for (; offsets[i & mask] != 0; i++) if (hashes[i & mask] == hash) return i & mask;
        return -1;
    }

    /** The first slot holding a block of this hash, or -1; continue with next(hash, slot + 1). */
    int first(int hash) { return next(hash, slot(hash, offsets.length - 1)); }

    long offsetAt(int slot) { return offsets[slot]; }

    /** Adds block off of this hash, unless it is there already. */
    void add(int hash, long off) {
        for (int i = first(hash); i >= 0; i = next(hash, i + 1)) if (offsets[i] == off) return;
        if (4 * (size + 1) > 3 * offsets.length) grow();
        put(hash, off);
        size++;
    }

    private void put(int hash, long off) {
        int mask = offsets.length - 1;
        int i = slot(hash, mask);
        while (offsets[i] != 0) i = (i + 1) & mask;
        offsets[i] = off;
        hashes[i] = hash;
    }

    private void grow() {
        long[] oldOffsets = offsets;
        int[] oldHashes = hashes;
        // Both made before either is installed: an OutOfMemoryError leaves the index as it was.
        long[] newOffsets = new long[oldOffsets.length * 2];
        int[] newHashes = new int[oldHashes.length * 2];
        offsets = newOffsets;
        hashes = newHashes;
        for (int i = 0; i < oldOffsets.length; i++) if (oldOffsets[i] != 0) put(oldHashes[i], oldOffsets[i]);
    }

    /** Forgets every walk, so the next look at each bucket walks (and checks) its whole chain again. */
    void clear() {
        walked = null;
        offsets = new long[1 << 6];
        hashes = new int[1 << 6];
        size = 0;
    }
}
