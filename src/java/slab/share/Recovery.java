package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.Errors;
import slab.codec.BlockTypes;
import slab.codec.Codec;
import slab.codec.LongStack;
import slab.mem.AllocatorDescriptor;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;
import slab.mem.SizeClasses;

/**
 * Cleaning up after processes that died.
 *
 * <p>{@link #releaseDead} gives back every count a dead process's ledger
 * records and frees its slot; it is safe while other processes run, because
 * a ledger never records a count its owner had already given back.
 *
 * <p>{@link #sweep} reclaims what ledgers cannot account for: blocks a
 * process allocated but never published (it died mid-swap!) and counts it
 * took but had not yet recorded. It marks every block reachable from the
 * named roots, the ledgers of live processes and the segment's bookkeeping,
 * then frees every live block not marked, giving back the counts such a
 * block held on marked ones. A sweep needs a still segment: it refuses to
 * run while another live process is attached, and the caller must not use
 * the segment from other threads meanwhile (on open that holds trivially).
 */
public final class Recovery {
    private Recovery() {}

    /** Releases the ledgers of dead processes; returns how many were recovered. */
    public static int releaseDead(Segment s, long table, int mySlot) {
        Codec c = Codec.of(s);
        int recovered = 0;
        for (int i = 0; i < MAX_PROCESSES; i++) {
            if (i == mySlot) continue;
            long sl = table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            if (st != STATE_LIVE && st != STATE_CLAIMING) continue;
            if (Sharing.isAlive(s, sl)) continue;
            if (!s.casLong(sl + SLOT_STATE_OFFSET, st, STATE_RECOVERING)) continue;
            long ledger = s.getLongVolatile(sl + SLOT_LEDGER_OFFSET);
            if (ledger != 0) {
                // A transient's nodes may be torn mid-edit: their counts are left for the sweep.
                SegmentLedger.forEach(s, ledger, (block, count) -> {
                    if ((block & Codec.MUTABLE) != 0) return;
                    for (long k = 0; k < count; k++) c.releaseRef(block);
                });
                s.allocator().free(ledger);
            }
            s.putLong(sl + SLOT_LEDGER_OFFSET, 0);
            s.fill(sl + SLOT_HAZARDS_OFFSET, 8L * HAZARDS, (byte) 0);
            s.putLongVolatile(sl + SLOT_STATE_OFFSET, STATE_FREE);
            recovered++;
        }
        return recovered;
    }

    /** True if a live process other than sh's is attached. */
    public static boolean othersAttached(Sharing sh) {
        for (int i = 0; i < MAX_PROCESSES; i++) {
            if (i == sh.slotIndex) continue;
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            if (sh.s.getLongVolatile(sl + SLOT_STATE_OFFSET) != STATE_FREE && Sharing.isAlive(sh.s, sl)) return true;
        }
        return false;
    }

    /** What a sweep or a verify found, in bytes. */
    public record Report(int deadProcesses, long reachable, long unreachable, long free, long reclaimed) { }

    /**
     * Releases dead processes, then (if no other live process is attached and
     * this is a named segment) sweeps, and reports what the heap holds.
     */
    public static Report recover(Sharing sh) {
        int dead = releaseDead(sh.s, sh.table, sh.slotIndex);
        long reclaimed = sweepIfAlone(sh);
        Report v = verify(sh);
        return new Report(dead, v.reachable(), v.unreachable(), v.free(), reclaimed);
    }

    /**
     * What opening a segment does: releases dead processes and, only if some
     * had died and no other process is attached, sweeps. Opening a segment
     * that every process closed properly costs O(1).
     */
    public static int onOpen(Sharing sh) {
        int dead = releaseDead(sh.s, sh.table, sh.slotIndex);
        if (dead > 0) sweepIfAlone(sh);
        return dead;
    }

    /**
     * Sweeps under the file lock, so no process can attach (and allocate) while
     * it runs; never in a process whose ledger once ran out of room (its
     * unrecorded handles' nodes would look unreachable).
     */
    private static long sweepIfAlone(Sharing sh) {
        if (sh.ledger == null || !sh.ledger.complete()) return 0;
        return sh.s.withFileLock(() -> othersAttached(sh) ? 0L : sweep(sh));
    }

    private static long sweep(Sharing sh) {
        long[] reclaimed = {0};
        sh.codec.withReleasesPaused(() -> {
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

    /**
     * Leaves the process table, giving back every count this process's
     * ledger records (its handles die with the segment's mapping).
     */
    public static void detach(Sharing sh) {
        sh.flushRetired();
        Segment s = sh.s;
        sh.codec.stopReleases(() -> {
            long ledger = s.getLongVolatile(sh.slot + SLOT_LEDGER_OFFSET);
            sh.codec.setLedger(null);
            if (ledger != 0) {
                // A transient's record (MUTABLE bit) counts as much as a handle's: this
                // process is alive, so its transients' nodes are whole.
                SegmentLedger.forEach(s, ledger, (block, count) -> {
                    for (long k = 0; k < count; k++) sh.codec.releaseRef(block & ~Codec.MUTABLE);
                });
                s.allocator().free(ledger);
            }
            s.putLong(sh.slot + SLOT_LEDGER_OFFSET, 0);
            s.fill(sh.slot + SLOT_HAZARDS_OFFSET, 8L * HAZARDS, (byte) 0);
            s.putLongVolatile(sh.slot + SLOT_STATE_OFFSET, STATE_FREE);
        });
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
                SegmentLedger.forEach(s, ledger, (block, count) -> work.push(block & ~Codec.MUTABLE));
            }
        }
        while (!work.isEmpty()) {
            long b = work.pop();
            if (b < HeaderDescriptor.HEADER_LENGTH || b >= frontier || isMarked(marks, s, b)) continue;
            setMark(marks, b);
            sh.codec.pushRefs(b, work);
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
            sh.codec.pushRefs(off, refs);
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
            SegmentLedger.forEach(s, ledger, (block, count) -> addCount(s, block & ~Codec.MUTABLE, count));
        }
        s.allocator().rebuild(frontier);
        return freed[0];
    }

    private static void addCount(Segment s, long block, long n) {
        s.getAndAddLong(block, n);
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

    static RuntimeException notNamed(Segment s) {
        return Errors.info("bad-argument", "Segment " + s.describe() + " is anonymous: nothing outside this process "
            + "can hold its values, so there is nothing to recover.");
    }
}
