package slab.mem;

import static slab.mem.AllocatorDescriptor.*;
import static slab.mem.HeaderDescriptor.*;

import slab.Errors;

/**
 * The segment's allocator, shared by every process that maps it (all its
 * state lives in the segment), in the manner of mimalloc: the heap is cut
 * into pages ({@link PagePool}); blocks up to {@link AllocatorDescriptor#SPAN_MAX_BLOCK}
 * live in spans of pages, one size class per span ({@link Spans}); larger
 * blocks take runs of whole pages. A span whose blocks are all free goes
 * back to the pool, and neighbouring free runs merge, so freed memory serves
 * any size later.
 *
 * <p>Each process has a few arenas (about one per core); a thread allocates
 * through the arena its id picks (another one if that is busy). An arena
 * owns spans, and allocates and frees in them with plain reads and writes:
 * no atomic instruction on a shared word. A block freed by another arena or
 * process goes on its span's remote stack (one compare-and-set), which the
 * owner takes over when it runs out of blocks.
 *
 * <p>Every block starts with the header word described in
 * {@link AllocatorDescriptor}; its reference count is changed only through
 * {@link #retain} and {@link #release}, which check that the block is live.
 */
public final class Allocator {
    private final Segment s;
    private final long capacity;
    private final PagePool pool;
    /**
     * Tells this allocator's arenas from those of another mapping of the same
     * file in this process (closing uses one): a span's arena word is id << 16 | arena.
     */
    private final long id = (NEXT_ID.incrementAndGet() ^ (ProcessHandle.current().pid() << 20)) & ((1L << 47) - 1) | 1L << 47;
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();
    private final Arena[] arenas;
    private final int arenaMask;
    private volatile Runnable pressureHook = System::gc;
    /** Set when the file system could not back memory an allocation needed (a full disk, not a full segment). */
    private volatile boolean commitFellShort;
    /** A count that moves while memory is still being given back (the Cleaner's progress). */
    private volatile java.util.function.LongSupplier releaseProgress = () -> 0;
    /** Small classes: those served from spans. */
    static final int SMALL_CLASSES = SizeClasses.classFor(SPAN_MAX_BLOCK) + 1;

    Allocator(Segment s) {
        this.s = s;
        this.capacity = s.capacity();
        this.pool = new PagePool(s, this::ensureCommitted);
        int n = Integer.highestOneBit(Math.max(2, Math.min(64, Runtime.getRuntime().availableProcessors())) * 2 - 1);
        this.arenas = new Arena[n];
        for (int i = 0; i < n; i++) arenas[i] = new Arena(i);
        this.arenaMask = n - 1;
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
     * after its header, reference count 1. Under pressure it gives back this
     * process's empty spans, asks the JVM to collect, waits while the Cleaner
     * gives memory back, retries, and only then throws {@code :slab/error
     * :segment-full}. A failed call changes nothing.
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
        return allocate(payload, type, false, false);
    }

    /**
     * As {@link #allocateIfRoom}, from untouched room where there is some:
     * consecutive calls get consecutive blocks of their size class (from
     * the untouched end of a span, then a span of free pages), not holes
     * left by earlier frees, while a quarter of the segment has never been
     * used. For copies laid out in the order they will be read.
     */
    public long allocateFresh(long payload, int type) {
        return allocate(payload, type, false, true);
    }

    private long allocate(long payload, int type, boolean wait) { return allocate(payload, type, wait, false); }

    private long allocate(long payload, int type, boolean wait, boolean fresh) {
        s.checkOpen();
        s.checkWritable();
        if (payload < 0 || type < 0 || type > 0xFF)
            throw Errors.info("bad-argument", "Cannot allocate a block of " + payload + " bytes with type " + type
                + " (the size must not be negative, the type must be 0..255)", "requested", payload, "type", (long) type);
        if (payload > capacity - pool.base) {
            if (wait) throw full(payload);
            return 0;
        }
        int cls = SizeClasses.classFor(payload + BLOCK_HEADER_LENGTH);
        long off = tryAllocate(cls, type, false, fresh);
        if (off == 0) {
            if (!wait) {
                reclaimEmpty();
                off = tryAllocate(cls, type, true);
                if (off == 0) return 0;
            } else {
                off = allocateUnderPressure(cls, type, payload);
            }
        }
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
    private long allocateUnderPressure(int cls, int type, long payload) {
        commitFellShort = false;
        reclaimEmpty();
        long off = tryAllocate(cls, type, true);
        if (off != 0) return off;
        s.getAndAddLong(PRESSURE_OFFSET, 1);   // other processes give back what they hold empty (see watchPressure)
        runPressureHook();
        long seen = releaseProgress.getAsLong();
        long start = System.nanoTime();
        int idle = 0;
        while (true) {
            off = tryAllocate(cls, type, true);
            if (off != 0) return off;
            reclaimEmpty();
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

    private long tryAllocate(int cls, int type, boolean thorough) { return tryAllocate(cls, type, thorough, false); }

    /**
     * thorough: look through every span the arena owns for room before
     * taking pages (under pressure); fresh: bump through a span without
     * holes, or a fresh one (Arena.allocateFresh).
     */
    private long tryAllocate(int cls, int type, boolean thorough, boolean fresh) {
        if (!isSmall(cls)) return allocateLarge(cls, type);
        Arena a = acquireArena();
        try {
            long off = fresh ? a.allocateFresh(cls) : a.allocate(cls, thorough);
            if (off != 0) s.putLongRelease(off, header(cls, STATE_LIVE, type, 1));   // after the bump (see Spans.pop)
            return off;
        } finally {
            a.release();
        }
    }

    /** A large block: a run of pages, its header made live before the run is published. */
    private long allocateLarge(int cls, int type) {
        long pages = largePages(cls);
        return pool.locked(() -> {
            long p = pool.take(pages);
            if (p < 0) return 0L;
            long off = pool.addr(p);
            s.putLongVolatile(off, header(cls, STATE_LIVE, type, 1));
            pool.publish(p, pages, PAGE_LARGE, cls);
            return off;
        });
    }

    // --- arenas ---------------------------------------------------------------------------------

    private Arena acquireArena() {
        int home = (int) Thread.currentThread().threadId() & arenaMask;
        for (int i = 0; i <= arenaMask; i++) {
            Arena a = arenas[(home + i) & arenaMask];
            if (a.tryAcquire()) return a;
        }
        Arena a = arenas[home];
        a.acquire();
        return a;
    }

    /**
     * One arena of this process: the span it allocates from in each small
     * class, and every span it owns. Only the thread holding the arena
     * touches the owned spans' local fields.
     */
    private final class Arena {
        final int index;
        private final java.util.concurrent.atomic.AtomicInteger busy = new java.util.concurrent.atomic.AtomicInteger();
        final long[] current = new long[SMALL_CLASSES];
        final SpanSet[] owned = new SpanSet[SMALL_CLASSES];
        /** Per class, owned spans (not current) that local frees gave room since they last filled up. */
        final SpanSet[] roomy = new SpanSet[SMALL_CLASSES];
        /** Per class, the abandon count when a look for abandoned spans last found none. */
        final long[] abandonedSeen = new long[SMALL_CLASSES];
        /** Per class, the page where the next look for abandoned spans starts. */
        final long[] adoptFrom = new long[SMALL_CLASSES];

        long arenaWord() { return id << 16 | index; }

        Arena(int index) {
            this.index = index;
            java.util.Arrays.fill(abandonedSeen, -1);
        }

        boolean tryAcquire() { return busy.get() == 0 && busy.compareAndSet(0, 1); }

        void acquire() {
            for (int spins = 0; !tryAcquire(); spins++) {
                if (spins < 64) Thread.onSpinWait();
                else if (spins < 128) Thread.yield();
                else java.util.concurrent.locks.LockSupport.parkNanos(10_000);
            }
        }

        void release() { busy.setRelease(0); }   // a release store: no fence on the fast path

        long allocate(int cls, boolean thorough) {
            long span = current[cls];
            if (span != 0) {
                long b = Spans.pop(s, span, cls);
                if (b != 0) return b;
                if (Spans.collect(s, span, cls) > 0) return Spans.pop(s, span, cls);
            }
            span = nextSpan(cls, thorough);
            if (span == 0) return 0;
            current[cls] = span;
            return Spans.pop(s, span, cls);   // nextSpan only returns a span with room
        }

        /**
         * A block from the untouched end of the current span (its holes are
         * left for allocate); once that is used up, from a span of free
         * pages, which becomes current (the one it replaces, holding holes,
         * is left for allocate to find). Every span is bumped to its end
         * before the next is taken, so this strands no room. With no pages
         * left, or where most of the segment is in use (spans of one class
         * would crowd out the classes that need pages), as allocate.
         */
        long allocateFresh(int cls) {
            if (capacity - s.getLongVolatile(FRONTIER_OFFSET) < capacity / 4) return allocate(cls, false);
            long span = current[cls];
            if (span != 0) {
                long b = Spans.bump(s, span, cls);
                if (b != 0) return b;
            }
            long sp = fresh(cls);
            if (sp == 0) return allocate(cls, false);
            if (span != 0 && hasRoom(span, cls)) {
                if (roomy[cls] == null) roomy[cls] = new SpanSet();
                roomy[cls].add(span);
            }
            current[cls] = sp;
            return Spans.bump(s, sp, cls);
        }

        private boolean hasRoom(long sp, int cls) {
            return s.getLong(sp + SPAN_LOCAL_OFFSET) != 0 || s.getLong(sp + SPAN_BUMP_OFFSET) < Spans.end(sp, cls);
        }

        /** Another span with room: one this arena owns, an abandoned one, or a fresh one from the pool. */
        private long nextSpan(int cls, boolean thorough) {
            SpanSet r = roomy[cls];
            while (r != null && r.size() > 0) {
                long sp = r.removeLast();
                if (hasRoom(sp, cls)) return sp;
            }
            SpanSet set = owned[cls];
            if (set != null) {
                int n = thorough ? set.size() : Math.min(set.size(), 8);
                for (int i = 0; i < n; i++) {
                    long sp = set.next();
                    if (sp == current[cls]) continue;
                    if (hasRoom(sp, cls) || Spans.collect(s, sp, cls) > 0) return sp;
                }
            }
            long adopted = adopt(cls);
            if (adopted != 0) return adopted;
            return fresh(cls);
        }

        /**
         * An abandoned span of class cls with room, now this arena's (spans
         * met on the way that are abandoned but full are taken too). The walk
         * resumes where the last one stopped, so adopting many spans one
         * at a time walks the page table once, not once per span.
         */
        private long adopt(int cls) {
            long count = s.getLongVolatile(ABANDONED_OFFSET);
            if (count == abandonedSeen[cls]) return 0;
            Processes.Cache live = new Processes.Cache();
            long hit = pool.findRun(adoptFrom[cls], (p, w) -> {
                if (pageKind(w) != PAGE_SPAN || pageClass(w) != cls) return false;
                long sp = pool.addr(p);
                long owner = s.getLongVolatile(sp + SPAN_OWNER_OFFSET);
                if (owner != 0 && (owner == Processes.me() || live.alive(owner))) return false;
                if (!s.casLong(sp + SPAN_OWNER_OFFSET, owner, Processes.me())) return false;
                Spans.rebuild(s, sp, cls, false);
                Spans.collect(s, sp, cls);
                s.putLong(sp + SPAN_ARENA_OFFSET, arenaWord());
                own(cls, sp);                      // ours now, full or not
                return hasRoom(sp, cls);
            });
            if (hit < 0) {
                abandonedSeen[cls] = count;
                adoptFrom[cls] = 0;
                return 0;
            }
            adoptFrom[cls] = hit + 1;
            return pool.addr(hit);
        }

        private long fresh(int cls) {
            long pages = spanPages(cls);
            long sp = pool.locked(() -> {
                long p = pool.take(pages);
                if (p < 0) return 0L;
                long span = pool.addr(p);
                Spans.init(s, span, cls, Processes.me(), arenaWord());
                pool.publish(p, pages, PAGE_SPAN, cls);
                return span;
            });
            if (sp != 0) own(cls, sp);
            return sp;
        }

        void own(int cls, long sp) {
            if (owned[cls] == null) owned[cls] = new SpanSet();
            owned[cls].add(sp);
        }

        /** The owner frees b in span sp (its header already FREE); an empty span that is not current goes back. */
        void free(long sp, int cls, long b) {
            boolean wasFull = s.getLong(sp + SPAN_LOCAL_OFFSET) == 0;
            long used = Spans.pushLocal(s, sp, b);
            if (sp == current[cls]) return;
            if (used == 0) giveBack(cls, sp);
            else if (wasFull) {
                if (roomy[cls] == null) roomy[cls] = new SpanSet();
                roomy[cls].add(sp);
            }
        }

        void giveBack(int cls, long sp) {
            owned[cls].remove(sp);
            if (roomy[cls] != null) roomy[cls].remove(sp);
            if (current[cls] == sp) current[cls] = 0;
            long p = pool.pageOf(sp);
            pool.locked(() -> {
                pool.give(p);
                return null;
            });
        }

        /** Takes over remote frees in every owned span and gives back the empty ones (pressure, close). */
        void reclaimEmpty() {
            for (int cls = 0; cls < SMALL_CLASSES; cls++) {
                SpanSet set = owned[cls];
                if (set == null) continue;
                for (long sp : set.toArray()) {
                    Spans.collect(s, sp, cls);
                    if (s.getLong(sp + SPAN_USED_OFFSET) == 0) giveBack(cls, sp);
                }
            }
        }

        void forget() {
            java.util.Arrays.fill(current, 0);
            java.util.Arrays.fill(owned, null);
            java.util.Arrays.fill(roomy, null);
            java.util.Arrays.fill(abandonedSeen, -1);
            java.util.Arrays.fill(adoptFrom, 0);
        }
    }

    /** The spans an arena owns in one class, with a cursor that walks them round-robin. */
    private static final class SpanSet {
        private long[] spans = new long[4];
        private int size, cursor;
        /** Where each span is in spans: open addressing with linear probing (no span is at offset 0). */
        private long[] keys = new long[16];
        private int[] places = new int[16];

        int size() { return size; }

        void add(long sp) {
            if (find(sp) >= 0) return;
            if (size == spans.length) spans = java.util.Arrays.copyOf(spans, size * 2);
            if (2 * (size + 1) > keys.length) rehash(keys.length * 2);
            put(sp, size);
            spans[size++] = sp;
        }

        void remove(long sp) {
            int at = find(sp);
            if (at < 0) return;
            int i = places[at];
            delete(at);
            long last = spans[--size];
            if (i < size) {
                spans[i] = last;
                places[find(last)] = i;
            }
        }

        long next() {
            if (cursor >= size) cursor = 0;
            return spans[cursor++];
        }

        long removeLast() {
            long sp = spans[size - 1];
            remove(sp);
            return sp;
        }

        long[] toArray() { return java.util.Arrays.copyOf(spans, size); }

        private int home(long sp) { return (int) ((sp >>> 14) * 0x9E3779B97F4A7C15L >>> 40) & (keys.length - 1); }

        private int find(long sp) {
            int mask = keys.length - 1;
            for (int at = home(sp); keys[at] != 0; at = (at + 1) & mask) if (keys[at] == sp) return at;
            return -1;
        }

        private void put(long sp, int place) {
            int mask = keys.length - 1, at = home(sp);
            while (keys[at] != 0) at = (at + 1) & mask;
            keys[at] = sp;
            places[at] = place;
        }

        /** Removes the key at at, moving later keys of its probe run back (no tombstones). */
        private void delete(int at) {
            int mask = keys.length - 1;
            keys[at] = 0;
            for (int next = (at + 1) & mask; keys[next] != 0; next = (next + 1) & mask) {
                long k = keys[next];
                int p = places[next];
                keys[next] = 0;
                put(k, p);
            }
        }

        private void rehash(int n) {
            long[] ok = keys;
            int[] op = places;
            keys = new long[n];
            places = new int[n];
            for (int i = 0; i < ok.length; i++) if (ok[i] != 0) put(ok[i], op[i]);
        }
    }

    /** Gives back every empty span this process owns, and every abandoned one that is empty. */
    private void reclaimEmpty() {
        reclaimOwn();
        Processes.Cache live = new Processes.Cache();
        pool.forEachRun((p, w) -> {
            if (pageKind(w) != PAGE_SPAN) return;
            long sp = pool.addr(p);
            long owner = s.getLongVolatile(sp + SPAN_OWNER_OFFSET);
            if (owner != 0 && (owner == Processes.me() || live.alive(owner))) return;
            if (!s.casLong(sp + SPAN_OWNER_OFFSET, owner, Processes.me())) return;
            releaseAdopted(p, sp, pageClass(w));
        });
    }

    /** Takes over remote frees in every span this process owns and gives back those left empty. */
    private void reclaimOwn() {
        for (Arena a : arenas) {
            a.acquire();
            try {
                a.reclaimEmpty();
            } finally {
                a.release();
            }
        }
    }

    /** One daemon thread per JVM looks after every named segment's pressure word. */
    private static final java.util.concurrent.ScheduledExecutorService WATCHER =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slab pressure watcher");
            t.setDaemon(true);
            return t;
        });
    private static final long WATCH_MILLIS = 20;

    /**
     * Blocks freed by another process go on the owner's spans, which only the
     * owner can give back. So that an idle process does not keep another's
     * freed memory from it, a process that finds the segment full moves the
     * pressure word, and every process that maps the file (this watcher,
     * every 20 ms) then gives back what it holds empty. Started for named
     * segments; stops when the segment closes.
     */
    void watchPressure() {
        long[] seen = {s.getLongVolatile(PRESSURE_OFFSET)};
        Runnable watch = () -> {
            try {
                if (s.isClosed()) throw new IllegalStateException("closed");
                long now = s.getLongVolatile(PRESSURE_OFFSET);
                if (now == seen[0]) return;
                seen[0] = now;
                reclaimOwn();
            } catch (RuntimeException e) {
                if (s.isClosed()) throw e;   // a task that throws is not run again
            }
        };
        WATCHER.scheduleWithFixedDelay(watch, WATCH_MILLIS, WATCH_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** A span this process just took from a dead or absent owner: rebuilt, then given back if empty, else abandoned. */
    private void releaseAdopted(long p, long sp, int cls) {
        Spans.rebuild(s, sp, cls, false);
        Spans.collect(s, sp, cls);
        if (s.getLong(sp + SPAN_USED_OFFSET) == 0) {
            pool.locked(() -> {
                pool.give(p);
                return null;
            });
        } else {
            s.putLongVolatile(sp + SPAN_ARENA_OFFSET, 0);   // no arena's: frees go remote until adopted
            s.putLongVolatile(sp + SPAN_OWNER_OFFSET, 0);
            s.getAndAddLong(ABANDONED_OFFSET, 1);
        }
    }

    /**
     * Makes [.., end) committed, holding the pool lock (the frontier grows
     * only under it, in {@link PagePool#take}). The claim word journals the
     * step under way: set to the target before zero-filling it through the
     * file (nothing lives there yet), back to the committed end after. Since
     * the lock is held, a claim that differs from the committed end was left
     * by a holder that died (or a mapping closed) half-way: the step is
     * simply done again. On a full disk or tmpfs it publishes the part it did
     * commit, so the frontier can still use that, and returns false if that
     * part does not reach {@code end}.
     */
    private boolean ensureCommitted(long end) {
        if (!pool.held()) throw new IllegalStateException("slab: commit outside the pool lock");
        long committed = s.getLongVolatile(COMMITTED_OFFSET);
        if (end <= committed) return true;
        long target = Math.min(capacity, Math.max(end, committed + COMMIT_STEP));
        target = Math.min(capacity, (target + COMMIT_STEP - 1) / COMMIT_STEP * COMMIT_STEP);
        s.putLongVolatile(COMMIT_CLAIM_OFFSET, target);
        long reached;
        try {
            reached = s.commit(committed, target);
        } catch (RuntimeException | Error e) {
            s.putLongVolatile(COMMIT_CLAIM_OFFSET, committed);
            throw e;
        }
        KillPoints.step("pool");
        s.putLongRelease(COMMITTED_OFFSET, reached);
        s.putLongVolatile(COMMIT_CLAIM_OFFSET, reached);
        if (end > reached) commitFellShort = true;
        return end <= reached;
    }

    // --- freeing and reference counts -----------------------------------------

    /** Returns a block to its span or the pool. Throws if the offset is not a live block. */
    public void free(long off) {
        s.checkOpen();
        long p = checkOffset(off);
        long w = pool.word(p);
        long h = s.getLongVolatile(off);
        int cls = classOf(h);
        if (stateOf(h) != STATE_LIVE || cls >= SizeClasses.COUNT) throw notLive(off);
        if (pageKind(w) == PAGE_LARGE) {
            if (pool.addr(p) != off) throw notLive(off);
            // Under the lock, so a kill between the two steps is repaired by the next holder.
            boolean freed = pool.locked(() -> {
                if (!s.casLong(off, h, header(cls, STATE_FREE, 0, 0))) return false;
                KillPoints.step("pool");
                pool.give(p);
                return true;
            });
            if (!freed) throw notLive(off);
            return;
        }
        long sp = pool.addr(p);
        if (pageClass(w) != cls || off < Spans.first(sp) || off >= Spans.end(sp, cls) || !isBlockStart(off - Spans.first(sp), cls))
            throw notLive(off);
        long owner = s.getLongVolatile(sp + SPAN_OWNER_OFFSET);
        long tag = s.getLong(sp + SPAN_ARENA_OFFSET);
        if (owner == Processes.me() && tag >>> 16 == id) {
            Arena a = arenas[(int) tag & arenaMask];
            if (a.tryAcquire()) {
                try {
                    // Still that arena's once we hold it (a sweep may have abandoned it meanwhile).
                    if (s.getLongVolatile(sp + SPAN_OWNER_OFFSET) == Processes.me()
                            && s.getLong(sp + SPAN_ARENA_OFFSET) == tag) {
                        if (!s.casLong(off, h, header(cls, STATE_FREE, 0, 0))) throw notLive(off);
                        a.free(sp, cls, off);
                        return;
                    }
                } finally {
                    a.release();
                }
            }
        }
        if (!s.casLong(off, h, header(cls, STATE_REMOTE, 0, 0))) throw notLive(off);
        Spans.pushRemote(s, sp, off);
    }

    // A count or a free of a block that is not live, or of an offset no block can start at, means the
    // offset came from damaged memory (or a stale reference): damage, reported before anything changes.
    private RuntimeException notLive(long off) {
        return Damage.at(s, off, "a live block to free (not a double free or a stale reference)");
    }

    /**
     * Adds one count to a live block. A count of zero means the block is being
     * freed: whoever retains it holds a stale offset, so that is refused too.
     */
    public void retain(long off) {
        checkRange(off);
        // A compare-and-set, not an add undone on refusal: a stale offset must never
        // change, even for an instant, the header of a block that was freed and reused.
        while (true) {
            long old = s.getLongVolatile(off);
            if (stateOf(old) != STATE_LIVE || refcountOf(old) == 0 || refcountOf(old) == REFCOUNT_MASK)
                throw Damage.at(s, off, "a live block to retain (a count above 0)");
            if (s.casLong(off, old, old + 1)) return;
        }
    }

    /** Removes one count; true when it reached zero and the caller must free the block. */
    public boolean release(long off) {
        checkRange(off);
        while (true) {
            long old = s.getLongVolatile(off);
            if (stateOf(old) != STATE_LIVE || refcountOf(old) == 0)
                throw Damage.at(s, off, "a live block to release (its count would go below zero)");
            if (s.casLong(off, old, old - 1)) return refcountOf(old) == 1;
        }
    }

    /** A cheap check (no shared word read) that off can be a block's header in the heap. */
    private void checkRange(long off) {
        if (off < pool.base || off > capacity - BLOCK_HEADER_LENGTH || (off & (ALIGNMENT - 1)) != 0)
            throw Damage.at(s, off, "a block offset in the heap");
    }

    public long refcount(long off) { return refcountOf(s.getLongVolatile(off)); }
    public int typeOf(long off) { return AllocatorDescriptor.typeOf(s.getLong(off)); }
    public boolean isLive(long off) { return stateOf(s.getLongVolatile(off)) == STATE_LIVE; }
    /** Bytes a block occupies, header included. */
    public long blockSize(long off) { return SizeClasses.sizeOf(classOf(s.getLong(off))); }

    /** The page of a block offset; throws if off is not where a block can start. */
    private long checkOffset(long off) {
        long p = pool.headOf(off);
        if (p < 0 || (off & (ALIGNMENT - 1)) != 0)
            throw Damage.at(s, off, "a block offset on a page the page table assigns");
        return p;
    }

    // --- walking, recovery and closing --------------------------------------------------------------

    public interface BlockVisitor { void visit(long off, long header); }

    /** Calls v for every block in the heap (live, free or remotely freed) whose header was written. */
    public void forEachBlock(BlockVisitor v) { forEachBlock(Long.MAX_VALUE, v); }

    /** As {@link #forEachBlock(BlockVisitor)}, for the blocks in pages below offset limit only. */
    public void forEachBlock(long limit, BlockVisitor v) {
        pool.forEachRun((p, w) -> {
            long off = pool.addr(p);
            if (off + pageCount(w) * PAGE_LENGTH > limit) return;
            if (pageKind(w) == PAGE_LARGE) {
                long h = s.getLongVolatile(off);
                if (stateOf(h) == STATE_LIVE && classOf(h) != pageClass(w))
                    throw Spans.damaged(s, off, "its large block has size class " + classOf(h)
                        + ", the page table says " + pageClass(w));
                if (stateOf(h) == STATE_LIVE) v.visit(off, h);
            } else {
                Spans.forEachBlock(s, off, pageClass(w), v);
            }
        });
    }

    /**
     * Gives up every span owned by a process that is not running (including
     * owner, which must be dead or this process closing): each is rebuilt
     * from its blocks and left abandoned for any arena to adopt, or goes back
     * to the pool if empty. Also repairs the pool if its lock's holder died.
     * Safe while other processes allocate.
     */
    public void abandonSpansOf(java.util.function.LongPredicate isGone) {
        pool.locked(() -> null);   // takes over (and repairs) a pool a dead process held
        pool.forEachRun((p, w) -> {
            if (pageKind(w) != PAGE_SPAN) return;
            long sp = pool.addr(p);
            long owner = s.getLongVolatile(sp + SPAN_OWNER_OFFSET);
            if (owner == 0 || !isGone.test(owner)) return;
            // Taken first, so two recoverers never rebuild one span at once; a recoverer
            // killed after this leaves the span to the next, as a dead owner's.
            if (!s.casLong(sp + SPAN_OWNER_OFFSET, owner, Processes.me())) return;
            KillPoints.step("span");
            releaseAdopted(p, sp, pageClass(w));
        });
    }

    /** Gives up the spans of every process that no longer runs (recovery on open). */
    public void abandonDeadOwners() {
        Processes.Cache live = new Processes.Cache();
        abandonSpansOf(o -> o != Processes.me() && !live.alive(o));
    }

    /**
     * This process leaves the segment (close): its spans are abandoned
     * (rebuilt, since threads may have been cut short inside them) or given
     * back. Runs through a mapping that no other thread of this process uses.
     */
    public void abandonOwn() {
        for (Arena a : arenas) a.forget();
        long me = Processes.me();
        abandonSpansOf(o -> o == me);
    }

    /**
     * After a sweep freed what nothing reaches, with the segment still (no
     * other process attached, no other thread of this one inside an update):
     * every span is rebuilt from its blocks (a REMOTE block on no stack was
     * being freed by a process that died, so it is free), empty spans go
     * back to the pool, the others are abandoned for adoption, and the pool
     * is rebuilt from the page table.
     */
    public void rebuildAll() {
        for (Arena a : arenas) a.forget();
        pool.locked(() -> {
            pool.forEachRun((p, w) -> {
                if (pageKind(w) != PAGE_SPAN) return;
                long sp = pool.addr(p);
                Spans.rebuild(s, sp, pageClass(w), true);
                s.putLongVolatile(sp + SPAN_ARENA_OFFSET, 0);   // no arena's: frees go remote until adopted
                s.putLongVolatile(sp + SPAN_OWNER_OFFSET, 0);
                if (s.getLong(sp + SPAN_USED_OFFSET) == 0) pool.give(p);
            });
            pool.repair();
            s.getAndAddLong(ABANDONED_OFFSET, 1);
            return null;
        });
    }

    // --- statistics -------------------------------------------------------------

    /**
     * A snapshot of the allocator's counters; exact when no thread is
     * allocating. headerBytes is where the heap starts (header and page
     * table); free bytes include blocks cached in spans.
     */
    public record Stats(long capacity, long headerBytes, long frontier, long committed,
                        long bytesInUse, long bytesFree, long[] blocksInUse) { }

    public Stats stats() {
        s.checkOpen();
        long[] blocks = new long[SizeClasses.COUNT];
        pool.forEachRun((p, w) -> {
            int cls = pageClass(w);
            if (pageKind(w) == PAGE_LARGE) {
                if (isLive(pool.addr(p))) blocks[cls]++;
            } else {
                long sp = pool.addr(p);
                blocks[cls] += Math.max(0, s.getLongVolatile(sp + SPAN_USED_OFFSET) - Spans.remoteCount(s, sp, cls));
            }
        });
        long inUse = 0;
        for (int c = 0; c < SizeClasses.COUNT; c++) inUse += blocks[c] * SizeClasses.sizeOf(c);
        return new Stats(capacity, pool.base, s.getLongVolatile(FRONTIER_OFFSET),
            s.getLongVolatile(COMMITTED_OFFSET), inUse, capacity - pool.base - inUse, blocks);
    }

    /** The page pool, for audits in slab.mem. */
    PagePool pool() { return pool; }

    private RuntimeException full(long payload) {
        Stats st = stats();
        if (payload > capacity - pool.base)
            return Errors.info("segment-full", "Cannot allocate " + payload + " bytes in segment " + s.describe()
                + ": that is more than its whole heap (capacity " + Errors.mib(st.capacity()) + "). Open a segment "
                + "with a larger :capacity.", "capacity", st.capacity(), "bytes-in-use", st.bytesInUse(),
                "requested", payload);
        if (commitFellShort && st.committed() < st.capacity()) {
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
