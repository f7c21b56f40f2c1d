package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.HeaderDescriptor;
import slab.mem.LongStack;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.Ownership;
import slab.ref.RefWalker;
import slab.share.Recovery.Report;

/**
 * Mark and sweep over the whole heap, for what reference counts cannot
 * account for after a crash: blocks a process allocated but never published
 * (it died mid-swap!) and counts it took but had not yet recorded. It marks
 * every block reachable from the named roots, the ledgers of live processes
 * and the segment's bookkeeping (following references only through
 * {@link RefWalker}, as the reclaimer does), frees every live block not
 * marked, and resets every count to the references that hold it. verify
 * runs the same mark and reports instead of freeing.
 */
final class Sweeper {
    private Sweeper() {}

    static long sweep(Sharing sh) {
        long[] reclaimed = {0};
        sh.heap.ownership().withReleasesPaused(() -> {
            sh.flushRetired();
            long frontier = sh.s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET);
            long[] marks = mark(sh, frontier);
            reclaimed[0] = sweepUnmarked(sh, marks, frontier);
            Segment s = sh.s;
            long committed = s.getLongVolatile(HeaderDescriptor.COMMITTED_OFFSET);
            s.putLongVolatile(HeaderDescriptor.COMMIT_CLAIM_OFFSET, committed);   // a dead process's unfinished commit
        });
        return reclaimed[0];
    }

    /** Walks the heap against a mark pass: what is reachable, what is live but unreachable, what is free. */
    public static Report verify(Sharing sh) {
        long frontier = sh.s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET);
        long[] marks = mark(sh, frontier);
        long[] sums = new long[3];
        walk(sh.s, frontier, (off, header) -> {
            long size = SizeClasses.sizeOf(AllocatorDescriptor.classOf(header));
            int state = AllocatorDescriptor.stateOf(header);
            if (state == AllocatorDescriptor.STATE_FREE) sums[2] += size;
            else if (isMarked(marks, sh.s, off)) sums[0] += size;
            else sums[1] += size;
        });
        return new Report(0, sums[0], sums[1], sums[2], 0);
    }

    // --- marking ---------------------------------------------------------------------------

    /** Marks what is reachable among the blocks below frontier (blocks made later are left alone). */
    private static long[] mark(Sharing sh, long frontier) {
        Segment s = sh.s;
        long[] marks = new long[(int) (((frontier - HeaderDescriptor.HEADER_LENGTH) >>> 4) / 64 + 1)];
        LongStack work = new LongStack();
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) == AllocatorDescriptor.STATE_LIVE
                    && BlockTypes.isSystem(AllocatorDescriptor.typeOf(header))) work.push(off);
        });
        RootTable.forEachCell(s, cell -> {
            long box = s.getLongVolatile(cell);
            if (box != 0) work.push(box);
        });
        for (int i = 0; i < MAX_PROCESSES; i++) {
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            if (s.getLongVolatile(sl + SLOT_STATE_OFFSET) == STATE_FREE) continue;
            long ledger = s.getLongVolatile(sl + SLOT_LEDGER_OFFSET);
            if (ledger != 0) {
                work.push(ledger);
                SegmentLedger.forEach(s, ledger, (block, count) -> work.push(block & ~Ownership.MUTABLE));
            }
        }
        while (!work.isEmpty()) {
            long b = work.pop();
            if (b < HeaderDescriptor.HEADER_LENGTH || b >= frontier || isMarked(marks, s, b)) continue;
            setMark(marks, b);
            RefWalker.pushRefs(sh.heap, b, work);
        }
        return marks;
    }

    private static boolean isMarked(long[] marks, Segment s, long off) {
        long i = (off - HeaderDescriptor.HEADER_LENGTH) >>> 4;
        return (marks[(int) (i >>> 6)] & (1L << (i & 63))) != 0;
    }

    private static void setMark(long[] marks, long off) {
        long i = (off - HeaderDescriptor.HEADER_LENGTH) >>> 4;
        marks[(int) (i >>> 6)] |= 1L << (i & 63);
    }

    /**
     * Frees every live block the mark did not reach, without reading it (a
     * block a killed process was building may be torn), then sets every
     * reachable block's count to the number of references that hold it: from
     * reachable blocks, named-root cells, live ledgers and, for the
     * bookkeeping blocks, the segment itself.
     */
    private static long sweepUnmarked(Sharing sh, long[] marks, long frontier) {
        Segment s = sh.s;
        long[] freed = {0};
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) != AllocatorDescriptor.STATE_LIVE) return;
            if (isMarked(marks, s, off)) {
                long system = BlockTypes.isSystem(AllocatorDescriptor.typeOf(header)) ? 1 : 0;
                s.putLongVolatile(off, (header & ~AllocatorDescriptor.REFCOUNT_MASK) | system);
            } else {
                freed[0] += SizeClasses.sizeOf(AllocatorDescriptor.classOf(header));
                s.putLongVolatile(off, header | 1);          // free() wants a live block; its count is moot
                s.allocator().free(off);
            }
        });
        LongStack refs = new LongStack();
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) != AllocatorDescriptor.STATE_LIVE || !isMarked(marks, s, off)) return;
            RefWalker.pushRefs(sh.heap, off, refs);
            while (!refs.isEmpty()) addCount(s, refs.pop(), 1);
        });
        RootTable.forEachCell(s, cell -> {
            long box = s.getLongVolatile(cell);
            if (box != 0) addCount(s, box, 1);
        });
        for (int i = 0; i < MAX_PROCESSES; i++) {
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            if (s.getLongVolatile(sl + SLOT_STATE_OFFSET) == STATE_FREE) continue;
            long ledger = s.getLongVolatile(sl + SLOT_LEDGER_OFFSET);
            if (ledger == 0) continue;
            addCount(s, ledger, 1);
            SegmentLedger.forEach(s, ledger, (block, count) -> addCount(s, block & ~Ownership.MUTABLE, count));
        }
        s.allocator().rebuild(frontier);
        return freed[0];
    }

    /** Only blocks in the heap: a damaged slot naming the header must not change it. */
    private static void addCount(Segment s, long block, long n) {
        if (block >= HeaderDescriptor.HEADER_LENGTH) s.getAndAddLong(block, n);
    }

    interface BlockVisitor { void visit(long off, long header); }

    /** Visits every block between the header and the frontier; unformatted (zero) space is skipped. */
    static void walk(Segment s, long frontier, BlockVisitor v) {
        long off = HeaderDescriptor.HEADER_LENGTH;
        while (off < frontier) {
            long h = s.getLong(off);
            int state = AllocatorDescriptor.stateOf(h);
            if (state == AllocatorDescriptor.STATE_LIVE || state == AllocatorDescriptor.STATE_FREE) {
                v.visit(off, h);
                off += SizeClasses.sizeOf(AllocatorDescriptor.classOf(h));
            } else {
                off += AllocatorDescriptor.ALIGNMENT;
            }
        }
    }
}
