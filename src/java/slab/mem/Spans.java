package slab.mem;

import static slab.mem.AllocatorDescriptor.*;

/**
 * A span: a run of pages cut into blocks of one size class, owned by one
 * process (and inside it by one arena). The owner allocates and frees with
 * plain reads and writes of the span header: its local free list, its bump
 * pointer over blocks never used, its count of blocks in use. Any other
 * thread or process frees a block by pushing it on the span's remote stack
 * (one compare-and-set); the owner later takes the whole stack over.
 *
 * <p>Block states carry the truth for recovery: a block is LIVE, FREE (on
 * the local list, or never used) or REMOTE (on the remote stack, or about to
 * be pushed there). {@link #rebuild} recomputes the owner's fields from the
 * blocks and the remote stack alone, so an owner killed anywhere leaves a
 * span the next owner can use exactly: no block lost, none handed out twice.
 */
final class Spans {
    private Spans() {}

    static long first(long span) { return span + SPAN_HEADER_LENGTH; }

    static long end(long span, int cls) { return first(span) + spanBlockBytes(cls); }

    /** Makes a fresh span's header (before its pages are published). */
    static void init(Segment s, long span, int cls, long owner, long arena) {
        s.putLong(span + SPAN_REMOTE_OFFSET, 0);
        s.putLong(span + SPAN_USED_OFFSET, 0);
        s.putLong(span + SPAN_LOCAL_OFFSET, 0);
        s.putLong(span + SPAN_BUMP_OFFSET, first(span));
        s.putLong(span + SPAN_ARENA_OFFSET, arena);
        s.putLongVolatile(span + SPAN_OWNER_OFFSET, owner);
    }

    // --- the owner's side ----------------------------------------------------------------------------

    /**
     * A block for the owner, 0 if the span is full. The caller then makes
     * its header live with a release store, which orders it after the bump
     * (so a block below the bump is never taken for unused by a rebuild).
     */
    static long pop(Segment s, long span, int cls) {
        long b = s.getLong(span + SPAN_LOCAL_OFFSET);
        if (b == 0) return bump(s, span, cls);
        s.putLong(span + SPAN_LOCAL_OFFSET, s.getLong(b + NEXT_FREE_OFFSET));
        s.putLong(span + SPAN_USED_OFFSET, s.getLong(span + SPAN_USED_OFFSET) + 1);
        return b;
    }

    /** As pop, from the span's untouched end only (its free list left for later); 0 when it has none. */
    static long bump(Segment s, long span, int cls) {
        long b = s.getLong(span + SPAN_BUMP_OFFSET);
        if (b >= end(span, cls)) return 0;
        s.putLong(span + SPAN_BUMP_OFFSET, b + SizeClasses.sizeOf(cls));
        s.putLong(span + SPAN_USED_OFFSET, s.getLong(span + SPAN_USED_OFFSET) + 1);
        return b;
    }

    /** The owner frees block b (already marked FREE); returns the blocks still in use. */
    static long pushLocal(Segment s, long span, long b) {
        s.putLong(b + NEXT_FREE_OFFSET, s.getLong(span + SPAN_LOCAL_OFFSET));
        s.putLong(span + SPAN_LOCAL_OFFSET, b);
        long used = s.getLong(span + SPAN_USED_OFFSET) - 1;
        s.putLong(span + SPAN_USED_OFFSET, used);
        return used;
    }

    /**
     * The owner takes the remote stack over: marks its blocks FREE while
     * they are still on the stack, cuts the stack off, then adds them to the
     * local list (a kill between leaves each block in exactly one place:
     * on the stack, or free and on no list, which a rebuild finds). Returns
     * how many blocks it took.
     */
    static long collect(Segment s, long span, int cls) {
        long h = s.getLongVolatile(span + SPAN_REMOTE_OFFSET);
        if (h == 0) return 0;
        long n = 0, tail = 0;
        long limit = spanBlocks(cls);
        for (long b = h; b != 0; b = s.getLongVolatile(b + NEXT_FREE_OFFSET)) {
            if (++n > limit) throw damaged(s, span, "its remote stack has a cycle");
            long hd = s.getLongVolatile(b);
            s.putLongVolatile(b, header(classOf(hd), STATE_FREE, 0, 0));
            tail = b;
        }
        if (!s.casLong(span + SPAN_REMOTE_OFFSET, h, 0)) {
            // Pushed meanwhile: cut below the newer blocks (only the owner ever removes).
            long y = s.getLongVolatile(span + SPAN_REMOTE_OFFSET);
            while (s.getLongVolatile(y + NEXT_FREE_OFFSET) != h) y = s.getLongVolatile(y + NEXT_FREE_OFFSET);
            s.putLongVolatile(y + NEXT_FREE_OFFSET, 0);
        }
        KillPoints.step("span");
        s.putLong(tail + NEXT_FREE_OFFSET, s.getLong(span + SPAN_LOCAL_OFFSET));
        s.putLong(span + SPAN_LOCAL_OFFSET, h);
        s.putLong(span + SPAN_USED_OFFSET, s.getLong(span + SPAN_USED_OFFSET) - n);
        return n;
    }

    // --- everyone else's side ---------------------------------------------------------------------------

    /** A block freed by a thread that is not the owner's arena: marked REMOTE, then pushed. */
    static void pushRemote(Segment s, long span, long b) {
        while (true) {
            long h = s.getLongVolatile(span + SPAN_REMOTE_OFFSET);
            s.putLongRelease(b + NEXT_FREE_OFFSET, h);
            if (s.casLong(span + SPAN_REMOTE_OFFSET, h, b)) return;
        }
    }

    // --- recovery -------------------------------------------------------------------------------------------

    /**
     * Recomputes the owner's fields from the blocks: the local list is every
     * FREE block not on the remote stack (and every block below the bump
     * whose header was never written), used counts the rest. REMOTE blocks
     * not on the stack are being pushed by a live process, unless the
     * segment is still (quiescent), when they belong to a process that died
     * mid-free and are free. The caller owns the span (or the segment is still).
     */
    static void rebuild(Segment s, long span, int cls, boolean quiescent) {
        java.util.HashSet<Long> onStack = new java.util.HashSet<>();
        long limit = spanBlocks(cls);
        long size = SizeClasses.sizeOf(cls);
        long first = first(span), end = end(span, cls);
        if (quiescent) {
            s.putLongVolatile(span + SPAN_REMOTE_OFFSET, 0);     // every REMOTE block below is free
        } else {
            for (long b = s.getLongVolatile(span + SPAN_REMOTE_OFFSET); b != 0;
                 b = s.getLongVolatile(b + NEXT_FREE_OFFSET)) {
                if (b < first || b >= end || (b - first) % size != 0 || onStack.size() > limit)
                    throw damaged(s, span, "its remote stack names " + b);
                onStack.add(b);
            }
        }
        long bump = s.getLong(span + SPAN_BUMP_OFFSET);
        if (bump < first || bump > end || (bump - first) % size != 0) bump = end;
        long local = 0, used = 0;
        for (long b = bump - size; b >= first; b -= size) {
            long hd = s.getLongVolatile(b);
            int st = stateOf(hd);
            if (onStack.contains(b) || st == STATE_LIVE || (st == STATE_REMOTE && !quiescent)) {
                used++;
                continue;
            }
            s.putLongVolatile(b, header(cls, STATE_FREE, 0, 0));
            s.putLong(b + NEXT_FREE_OFFSET, local);
            local = b;
        }
        s.putLong(span + SPAN_LOCAL_OFFSET, local);
        s.putLong(span + SPAN_USED_OFFSET, used);
        s.putLong(span + SPAN_BUMP_OFFSET, bump);
    }

    /** Blocks on the remote stack (at most a span's worth are counted). */
    static long remoteCount(Segment s, long span, int cls) {
        long n = 0, limit = spanBlocks(cls);
        for (long b = s.getLongVolatile(span + SPAN_REMOTE_OFFSET); b != 0 && n <= limit;
             b = s.getLongVolatile(b + NEXT_FREE_OFFSET)) n++;
        return n;
    }

    /** Calls v for every block below the span's bump whose header was written. */
    static void forEachBlock(Segment s, long span, int cls, Allocator.BlockVisitor v) {
        long size = SizeClasses.sizeOf(cls);
        long first = first(span), end = end(span, cls);
        long bump = s.getLongVolatile(span + SPAN_BUMP_OFFSET);
        if (bump < first || bump > end) bump = end;
        for (long b = first; b < bump; b += size) {
            long hd = s.getLongVolatile(b);
            int st = stateOf(hd);
            if (st != STATE_LIVE && st != STATE_FREE && st != STATE_REMOTE) continue;
            // A live block of another class: the page table's class is not the span's (stepping
            // at its size lands inside blocks), or the header is damaged. Either way a walk
            // that went on would rebuild free lists through live blocks. (A free one may be
            // a header never written over a page's earlier use: the rebuild takes it as free.)
            if (st == STATE_LIVE && classOf(hd) != cls)
                throw damaged(s, span, "the block at offset " + b + " has size class " + classOf(hd)
                    + ", the page table says " + cls);
            v.visit(b, hd);
        }
    }

    static RuntimeException damaged(Segment s, long span, String what) {
        return slab.Errors.info("damaged-segment", "Segment " + s.describe() + " is damaged: the span at offset "
            + span + " is inconsistent (" + what + "). Run slab/verify on it.", "offset", span);
    }
}
