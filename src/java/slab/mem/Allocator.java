package slab.mem;

import static slab.mem.AllocatorDescriptor.*;
import static slab.mem.HeaderDescriptor.*;

import slab.Errors;

/**
 * A lock-free size-class allocator whose every word lives in the segment, so
 * every process that maps the segment allocates from the same heap.
 *
 * <p>Each size class has a Treiber stack of free blocks; its head word carries
 * a version tag beside the block offset, so a pop that raced with a pop and a
 * push of the same block fails its compare-and-set instead of corrupting the
 * list (ABA). New blocks come from a frontier that only grows: small blocks
 * from per-thread chunks carved off the frontier (threads rarely touch a shared
 * word), large ones directly. When a class's list is empty and the frontier is
 * exhausted, a larger free block is split. Freed memory never returns to the
 * frontier and blocks are never merged: a segment that once held many small
 * blocks keeps them for small allocations.
 *
 * <p>Every block starts with the header word described in
 * {@link AllocatorDescriptor}; its reference count is changed only through
 * {@link #retain} and {@link #release}, which check that the block is live.
 */
public final class Allocator {
    private final Segment s;
    private final long capacity;
    /** Per thread: {next free byte, end} of its current chunk. */
    private final ThreadLocal<Chunk> chunks = ThreadLocal.withInitial(this::newChunk);
    /** Gives back the unused tail of a dead thread's chunk (core.async and virtual threads come and go). */
    private static final java.lang.ref.Cleaner CHUNK_CLEANER = java.lang.ref.Cleaner.create();
    private volatile Runnable pressureHook = System::gc;
    /** A count that moves while memory is still being given back (the Cleaner's progress). */
    private volatile java.util.function.LongSupplier releaseProgress = () -> 0;

    Allocator(Segment s) {
        this.s = s;
        this.capacity = s.capacity();
    }

    /** What to run when the segment is full: by default {@code System.gc()}. */
    public void onPressure(Runnable hook) { onPressure(hook, () -> 0); }

    /**
     * As {@link #onPressure(Runnable)}, with a count that moves while released
     * memory is still coming back (the ref layer gives its finished handle
     * releases): a full allocation keeps waiting as long as it moves.
     */
    public void onPressure(Runnable hook, java.util.function.LongSupplier progress) {
        this.releaseProgress = progress;
        this.pressureHook = hook;
    }

    // --- allocation -----------------------------------------------------------

    /**
     * Returns the offset of a new block with room for {@code payload} bytes
     * after its header, reference count 1. Under pressure it asks the JVM to
     * collect, waits while the Cleaner gives memory back, retries, and only
     * then throws {@code :slab/error :segment-full}. A failed call changes nothing.
     */
    public long allocate(long payload, int type) {
        return allocate(payload, type, true);
    }

    /**
     * As {@link #allocate}, but returns 0 at once instead of collecting and
     * waiting when there is no room: for space that is only nice to have
     * (and for the Cleaner's own thread, which must never wait on itself).
     */
    public long allocateIfRoom(long payload, int type) {
        return allocate(payload, type, false);
    }

    private long allocate(long payload, int type, boolean wait) {
        s.checkOpen();
        if (payload < 0 || payload > capacity) {
            if (wait) throw full(payload);
            return 0;
        }
        int cls = SizeClasses.classFor(payload + BLOCK_HEADER_LENGTH);
        long off = tryAllocate(cls);
        if (off == 0) {
            if (!wait) return 0;
            off = allocateUnderPressure(cls, payload);
        }
        s.putLong(off, header(cls, STATE_LIVE, type, 1));
        s.getAndAddLong(classLine(cls) + IN_USE_OFFSET, 1);
        return off;
    }

    /** Back-off steps (1, 2, 4 ... 256 ms, about half a second) with no release progress before giving up. */
    private static final int IDLE_STEPS = 9;
    /** However much is still being released, one allocation waits at most this long. */
    private static final long MAX_WAIT_NANOS = 60_000_000_000L;

    /**
     * As DirectByteBuffer does: collect, then retry while the Cleaner is still
     * giving memory back, however long the queue of dropped versions is (a
     * fast writer can leave hundreds of thousands between two collections).
     * Only once nothing comes back through a second collection and a
     * back-off is the segment full.
     */
    private long allocateUnderPressure(int cls, long payload) {
        runPressureHook();
        long seen = releaseProgress.getAsLong();
        long start = System.nanoTime();
        int idle = 0;
        while (true) {
            long off = tryAllocate(cls);
            if (off != 0) return off;
            long now = releaseProgress.getAsLong();
            long pause;
            if (now != seen && System.nanoTime() - start < MAX_WAIT_NANOS) {
                seen = now;
                idle = 0;
                pause = 1;
            } else {
                if (idle == IDLE_STEPS) throw full(payload);
                if (idle == IDLE_STEPS / 2) runPressureHook();
                pause = 1L << idle++;
            }
            try { Thread.sleep(pause); }
            catch (InterruptedException e) { Thread.currentThread().interrupt(); throw full(payload); }
        }
    }

    private void runPressureHook() {
        try { pressureHook.run(); } catch (RuntimeException ignored) { }
    }

    private long tryAllocate(int cls) {
        long off = pop(cls);
        if (off != 0) return off;
        long size = SizeClasses.sizeOf(cls);
        off = size <= CHUNKED_MAX ? bumpChunk(size) : bumpFrontier(size);
        if (off != 0) return off;
        return splitLarger(cls);
    }

    /** A thread's chunk; the Cleaner's action holds only the bounds, never the Chunk. */
    private static final class Chunk {
        final long[] bounds = new long[2];
    }

    private Chunk newChunk() {
        Chunk c = new Chunk();
        long[] b = c.bounds;
        CHUNK_CLEANER.register(c, () -> returnTail(b));
        return c;
    }

    /** Unused tails of dead threads' chunks, handed to the next thread that needs a chunk. */
    private final java.util.concurrent.ConcurrentLinkedQueue<long[]> spareTails = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private void returnTail(long[] b) {
        if (s.isClosed() || b[1] - b[0] < SizeClasses.SMALL_STEP) return;
        spareTails.add(new long[] {b[0], b[1]});
    }

    private long bumpChunk(long size) {
        long[] c = chunks.get().bounds;
        if (c[0] + size > c[1]) {
            long[] spare = spareTails.poll();
            long from, to;
            if (spare != null && spare[1] - spare[0] >= size) {
                from = spare[0];
                to = spare[1];
            } else {
                if (spare != null) carve(spare[0], spare[1] - spare[0]);
                from = bumpFrontier(CHUNK_LENGTH);
                if (from == 0) return 0;
                to = from + CHUNK_LENGTH;
            }
            if (c[1] > c[0]) carve(c[0], c[1] - c[0]);
            c[0] = from;
            c[1] = to;
        }
        long off = c[0];
        c[0] += size;
        return off;
    }

    /** Claims size bytes at the frontier, committing backing store first; 0 if there is no room. */
    private long bumpFrontier(long size) {
        while (true) {
            long f = s.getLongVolatile(FRONTIER_OFFSET);
            long end = f + size;
            if (end > capacity || end < f) return 0;
            if (end > s.getLongVolatile(COMMITTED_OFFSET) && !ensureCommitted(end)) return 0;
            if (s.casLong(FRONTIER_OFFSET, f, end)) return f;
        }
    }

    /**
     * Makes [.., end) committed. One process at a time claims the next step by
     * moving the claim word, zero-fills it through the file (nothing lives
     * there yet), then publishes it. On a full disk or tmpfs it publishes the
     * part it did commit, so the frontier can still use that, and returns
     * false if that part does not reach {@code end}.
     */
    private boolean ensureCommitted(long end) {
        long waitedSince = 0;
        while (true) {
            long committed = s.getLongVolatile(COMMITTED_OFFSET);
            if (end <= committed) return true;
            long claim = s.getLongVolatile(COMMIT_CLAIM_OFFSET);
            if (claim != committed) {            // another thread or process is committing
                if (waitedSince == 0) waitedSince = System.nanoTime();
                else if (System.nanoTime() - waitedSince > 30_000_000_000L)
                    throw Errors.info("commit-stalled", "Another process claimed segment space and never finished "
                        + "committing it (did it die?). Run slab/recover! on " + s.describe() + ".");
                Thread.onSpinWait();
                Thread.yield();
                continue;
            }
            long target = Math.min(capacity, Math.max(end, committed + COMMIT_STEP));
            target = Math.min(capacity, (target + COMMIT_STEP - 1) / COMMIT_STEP * COMMIT_STEP);
            if (!s.casLong(COMMIT_CLAIM_OFFSET, committed, target)) continue;
            long reached;
            try {
                reached = s.commit(committed, target);
            } catch (RuntimeException | Error e) {
                s.putLongVolatile(COMMIT_CLAIM_OFFSET, committed);
                throw e;
            }
            // committed first, then the claim: until both match, others wait
            s.putLongRelease(COMMITTED_OFFSET, reached);
            if (reached != target) s.putLongVolatile(COMMIT_CLAIM_OFFSET, reached);
            return end <= reached;
        }
    }

    /** Takes a free block of a larger class, keeps the front, frees the rest in class-sized pieces. */
    private long splitLarger(int cls) {
        long want = SizeClasses.sizeOf(cls);
        for (int c = cls + 1; c < SizeClasses.COUNT; c++) {
            long off = pop(c);
            if (off == 0) continue;
            carve(off + want, SizeClasses.sizeOf(c) - want);   // free blocks are not counted in use
            return off;
        }
        return 0;
    }

    /** Pushes [off, off+len) onto the free lists as the largest blocks that fit. */
    private void carve(long off, long len) {
        while (len >= SizeClasses.SMALL_STEP) {
            int c = SizeClasses.classFor(len);
            if (SizeClasses.sizeOf(c) > len) c--;
            long size = SizeClasses.sizeOf(c);
            s.putLong(off, header(c, STATE_FREE, 0, 0));
            push(c, off);
            off += size;
            len -= size;
        }
    }

    // --- freeing and reference counts -----------------------------------------

    /** Returns a block to its free list. Throws if the offset is not a live block. */
    public void free(long off) {
        s.checkOpen();
        checkOffset(off);
        long h = s.getLongVolatile(off);
        if (stateOf(h) != STATE_LIVE || !s.casLong(off, h, header(classOf(h), STATE_FREE, 0, 0)))
            throw new IllegalStateException("slab: free of a block that is not live at offset " + off
                + " (double free or stale reference)");
        int cls = classOf(h);
        push(cls, off);
        s.getAndAddLong(classLine(cls) + IN_USE_OFFSET, -1);
    }

    /**
     * Adds one count to a live block. A count of zero means the block is being
     * freed: whoever retains it holds a stale offset, so that is refused too.
     */
    public void retain(long off) {
        long old = s.getAndAddLong(off, 1);
        if (stateOf(old) != STATE_LIVE || refcountOf(old) == 0 || refcountOf(old) == REFCOUNT_MASK) {
            s.getAndAddLong(off, -1);
            throw new IllegalStateException("slab: retain of a block that is not live at offset " + off);
        }
    }

    /** Removes one count; true when it reached zero and the caller must free the block. */
    public boolean release(long off) {
        long old = s.getAndAddLong(off, -1);
        if (stateOf(old) != STATE_LIVE || refcountOf(old) == 0) {
            s.getAndAddLong(off, 1);
            throw new IllegalStateException("slab: release of a block that is not live at offset " + off
                + " (reference count would go below zero)");
        }
        return refcountOf(old) == 1;
    }

    public long refcount(long off) { return refcountOf(s.getLongVolatile(off)); }
    public int typeOf(long off) { return AllocatorDescriptor.typeOf(s.getLong(off)); }
    public boolean isLive(long off) { return stateOf(s.getLongVolatile(off)) == STATE_LIVE; }
    /** Bytes a block occupies, header included. */
    public long blockSize(long off) { return SizeClasses.sizeOf(classOf(s.getLong(off))); }

    private void checkOffset(long off) {
        if (off < HEADER_LENGTH || (off & (ALIGNMENT - 1)) != 0 || off >= s.getLongVolatile(FRONTIER_OFFSET))
            throw new IllegalStateException("slab: " + off + " is not a block offset in " + s.describe());
    }

    // --- free lists ------------------------------------------------------------

    private long pop(int cls) {
        long line = classLine(cls) + HEAD_OFFSET;
        while (true) {
            long head = s.getLongVolatile(line);
            long off = (head & POINTER_MASK) << ALIGNMENT_SHIFT;
            if (off == 0) return 0;
            long next = s.getLongVolatile(off + NEXT_FREE_OFFSET);   // may be stale; the CAS decides
            long tag = (head >>> TAG_SHIFT) + 1;
            if (s.casLong(line, head, (tag << TAG_SHIFT) | (next >>> ALIGNMENT_SHIFT))) return off;
        }
    }

    private void push(int cls, long off) {
        long line = classLine(cls) + HEAD_OFFSET;
        while (true) {
            long head = s.getLongVolatile(line);
            // A release store is enough: the CAS below publishes it to any pop
            // that reads the new head (a volatile store would add a full fence).
            s.putLongRelease(off + NEXT_FREE_OFFSET, (head & POINTER_MASK) << ALIGNMENT_SHIFT);
            long tag = (head >>> TAG_SHIFT) + 1;
            if (s.casLong(line, head, (tag << TAG_SHIFT) | (off >>> ALIGNMENT_SHIFT))) return;
        }
    }

    // --- rebuilding after a crash ---------------------------------------------------

    /**
     * Recomputes every class's blocks-in-use counter and free list from the
     * blocks themselves. A process killed inside allocate or free can leave a
     * counter off by one or a popped block on no list; this undoes both. Only
     * for a still segment: no other thread or process may allocate meanwhile.
     */
    public void rebuild(long frontier) {
        long[] live = new long[SizeClasses.COUNT];
        for (int c = 0; c < SizeClasses.COUNT; c++) s.putLongVolatile(classLine(c) + HEAD_OFFSET, 0);
        long off = HEADER_LENGTH;
        while (off < frontier) {
            long h = s.getLong(off);
            int state = stateOf(h);
            if (state == STATE_LIVE || state == STATE_FREE) {
                int cls = classOf(h);
                if (state == STATE_LIVE) live[cls]++;
                else push(cls, off);
                off += SizeClasses.sizeOf(cls);
            } else {
                off += ALIGNMENT;
            }
        }
        for (int c = 0; c < SizeClasses.COUNT; c++) s.putLongVolatile(classLine(c) + IN_USE_OFFSET, live[c]);
    }

    // --- statistics -------------------------------------------------------------

    /** A snapshot of the allocator's counters; exact when no thread is allocating. */
    public record Stats(long capacity, long headerBytes, long frontier, long committed,
                        long bytesInUse, long bytesFree, long[] blocksInUse) { }

    public Stats stats() {
        s.checkOpen();
        long[] blocks = new long[SizeClasses.COUNT];
        long inUse = 0;
        for (int c = 0; c < SizeClasses.COUNT; c++) {
            blocks[c] = s.getLongVolatile(classLine(c) + IN_USE_OFFSET);
            inUse += blocks[c] * SizeClasses.sizeOf(c);
        }
        return new Stats(capacity, HEADER_LENGTH, s.getLongVolatile(FRONTIER_OFFSET),
            s.getLongVolatile(COMMITTED_OFFSET), inUse, capacity - HEADER_LENGTH - inUse, blocks);
    }

    private RuntimeException full(long payload) {
        Stats st = stats();
        if (st.committed() < st.capacity() && st.capacity() - st.frontier() >= payload + BLOCK_HEADER_LENGTH) {
            // Room in the segment, none on the file system behind it: say so.
            String where = s.path() == null ? "the anonymous segment's directory " + Segment.anonymousDirectory()
                                            : "the file system holding " + s.describe();
            return Errors.info("disk-full", "No space left on " + where + ": could not commit memory for "
                + payload + " bytes (segment capacity " + Errors.mib(st.capacity()) + ", committed "
                + Errors.mib(st.committed()) + ", in use " + Errors.mib(st.bytesInUse()) + "). Free space on that "
                + "file system (or make the tmpfs larger); the segment itself is not full.",
                "path", s.describe(), "capacity", st.capacity(), "committed", st.committed(),
                "bytes-in-use", st.bytesInUse(), "requested", payload);
        }
        return Errors.info("segment-full", "Segment " + s.describe() + " is full: could not allocate "
            + payload + " bytes (capacity " + Errors.mib(st.capacity()) + ", in use " + Errors.mib(st.bytesInUse())
            + "). Release values you no longer need, or use a larger segment: "
            + (s.path() == null ? "start the JVM with -Dslab.capacity=32g (the default segment)."
                                : "open a new file with a larger :capacity."),
            "capacity", st.capacity(), "bytes-in-use", st.bytesInUse(), "requested", payload);
    }
}
