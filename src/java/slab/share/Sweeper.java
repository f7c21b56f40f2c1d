package slab.share;

import static slab.share.SharingDescriptor.*;

import java.util.ArrayList;
import java.util.List;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.HeaderDescriptor;
import slab.mem.KillPoints;
import slab.mem.LongStack;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.BlockSeals;
import slab.ref.Ownership;
import slab.ref.RefWalker;
import slab.ref.SegmentLineage;
import slab.share.Recovery.Report;

/**
 * Mark and sweep over the whole heap, for what reference counts cannot
 * account for after a crash: blocks a process allocated but never published
 * (it died mid-swap!) and counts it took but had not yet recorded. It marks
 * every block reachable from the named roots, the ledgers of live processes,
 * the boxes foreign readers pin and the segment's bookkeeping (following references only through
 * {@link RefWalker}, as the reclaimer does), frees every live block not
 * marked, and resets every count to the references that hold it. verify
 * runs the same mark and reports instead of freeing.
 */
final class Sweeper {
    private Sweeper() {}

    /**
     * Sweeps (the caller holds the file lock and is alone). The sweep word
     * in the header names the sweeper while it runs: counts are being reset,
     * so a process that finds the word naming a dead sweeper must sweep again
     * before it trusts any count ({@link #finishInterrupted}). A sweep is
     * idempotent: the mark reads only reachable blocks, which it never
     * changes but for their counts, which it sets afresh; free lists are
     * rebuilt from the headers.
     */
    static long sweep(Sharing sh) {
        long[] reclaimed = {0};
        Segment s = sh.s;
        sh.heap.ownership().withReleasesPaused(() -> {
            sh.flushRetired();
            s.putLongVolatile(HeaderDescriptor.SWEEP_OFFSET, Slots.actorWord(1));
            KillPoints.step("sweep");
            long frontier = s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET);
            long[] marks;
            try {
                long[] marked = {0};
                marks = mark(sh, frontier, false, false, null, marked);
                checkCovered(s, frontier, marks, marked[0]);
            } catch (RuntimeException e) {
                // Damage found while marking (nothing changed yet): no sweep, since freeing
                // what the mark could not reach would free what a damaged block names.
                s.putLongVolatile(HeaderDescriptor.SWEEP_OFFSET, 0);
                throw e;
            }
            KillPoints.step("sweep");
            reclaimed[0] = sweepUnmarked(sh, marks, frontier);
            long committed = s.getLongVolatile(HeaderDescriptor.COMMITTED_OFFSET);
            s.putLongVolatile(HeaderDescriptor.COMMIT_CLAIM_OFFSET, committed);   // a dead process's unfinished commit
            KillPoints.step("sweep");
            s.putLongVolatile(HeaderDescriptor.SWEEP_OFFSET, 0);
            KillPoints.step("sweep");
        });
        return reclaimed[0];
    }

    /** Sweeps again if a sweeper died half-way (see {@link #sweep}); the caller holds the file lock. */
    static void finishInterrupted(Sharing sh) {
        long w = sh.s.getLongVolatile(HeaderDescriptor.SWEEP_OFFSET);
        if (w != 0 && !Slots.actorAlive(w)) sweep(sh);
    }

    /**
     * The mark alone (through counts, seals checked), throwing at the first
     * damage: recovery runs it on a still segment before it changes anything.
     */
    static void checkBeforeRecovery(Sharing sh) {
        mark(sh, sh.s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET), true, true, null, new long[1]);
    }

    /** Walks the heap against a mark pass: what is reachable, what is live but unreachable, what is free. */
    public static Report verify(Sharing sh) {
        sh.heap.interner().forgetWalks();
        long frontier = sh.s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET);
        List<Object> damaged = new ArrayList<>();
        long[] marked = {0};
        long[] marks = mark(sh, frontier, true, false, damaged, marked);
        long[] walkedMarked = {0};
        long[] sums = new long[3];
        // counts held, and references that hold them: plain and offset-weighted sums
        long[] balance = new long[4];
        Segment s = sh.s;
        LongStack refs = new LongStack();
        try {
            walk(s, frontier, (off, header) -> {
                long size = SizeClasses.sizeOf(AllocatorDescriptor.classOf(header));
                int state = AllocatorDescriptor.stateOf(header);
                if (state != AllocatorDescriptor.STATE_LIVE) return;
                if (isMarked(marks, s, off)) {
                    sums[0] += size;
                    walkedMarked[0]++;
                } else {
                    sums[1] += size;
                }
                long count = AllocatorDescriptor.refcountOf(header);
                // A count of 0 is a block some release was freeing when it was cut
                // short (a kill, a close): its references may be given back or not,
                // so they are not counted; the block is unreachable, and a sweep frees it.
                if (count == 0) return;
                balance[0] += count;
                balance[1] += count * off;
                if (BlockTypes.isSystem(AllocatorDescriptor.typeOf(header))) {
                    balance[2] += 1;
                    balance[3] += off;
                }
                try {
                    RefWalker.pushRefs(sh.heap, off, refs);
                } catch (RuntimeException e) {
                    // reported by the mark when the block is reachable; else it is garbage a sweep frees
                    if (!Damage.is(e)) throw e;
                }
                while (!refs.isEmpty()) {
                    long r = refs.pop();
                    balance[2] += 1;
                    balance[3] += r;
                }
            });
        } catch (RuntimeException e) {
            // a span the page table describes wrongly: the walk stops there (the rest is approximate)
            if (!Damage.is(e)) throw e;
            damaged.add(Damage.data(e));
        }
        if (walkedMarked[0] != marked[0]) damaged.add(Damage.data(uncovered(s, marked[0], walkedMarked[0])));
        ReachableCheck.check(sh, damaged);
        DamageReport.complete(sh, damaged);
        RootTable.forEachCell(s, cell -> {
            long box = s.getLongVolatile(cell);
            if (box != 0) {
                balance[2] += 1;
                balance[3] += box;
            }
        });
        int stuck = 0;
        for (int i = 0; i < MAX_PROCESSES; i++) {
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            if (st == STATE_FREE) continue;
            if (i != sh.slotIndex && Slots.isDead(s, sl, st)) stuck++;
            long ledger = s.getLongVolatile(sl + SLOT_LEDGER_OFFSET);
            if (ledger == 0) continue;
            balance[2] += 1;
            balance[3] += ledger;
            SegmentLedger.forEach(s, ledger, (block, count) -> {
                balance[2] += count;
                balance[3] += (block & ~Ownership.MUTABLE) * count;
            });
        }
        for (long box : sh.retiredBoxes()) {
            balance[2] += 1;
            balance[3] += box;
        }
        Readers.forEachPin(s, box -> {
            balance[2] += 1;
            balance[3] += box;
        });
        stuck += Readers.stuck(s);
        long surplus = balance[0] - balance[2];
        sums[2] = s.capacity() - HeaderDescriptor.heapBase(s.capacity()) - sums[0] - sums[1];
        return new Report(0, sums[0], sums[1], sums[2], 0, stuck, surplus, surplus == 0 && balance[1] == balance[3], false,
            damaged);
    }

    // --- marking ---------------------------------------------------------------------------

    /**
     * Marks what is reachable among the blocks below frontier (blocks made
     * later are left alone): through the counts blocks hold (held, verify's
     * view, which reaches the bases nodes borrow from), or through their
     * slots alone (the sweep's, which then makes every node own its slots).
     */
    private static long[] mark(Sharing sh, long frontier, boolean held, boolean replayed, List<Object> damaged,
                               long[] marked) {
        Segment s = sh.s;
        long[] marks = new long[(int) (((frontier - HeaderDescriptor.HEADER_LENGTH) >>> 4) / 64 + 1)];
        LongStack work = new LongStack();
        try {
            walk(s, frontier, (off, header) -> {
                if (AllocatorDescriptor.stateOf(header) == AllocatorDescriptor.STATE_LIVE
                        && BlockTypes.isSystem(AllocatorDescriptor.typeOf(header))) work.push(off);
            });
        } catch (RuntimeException e) {
            damage(s, damaged, e);   // a span the page table describes wrongly (verify goes on without the rest)
        }
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
                // replayed (before recovery): only what a replay gives back; a transient's records
                // (bit 0) are left to the sweep, and a killed one may name a block it freed since
                SegmentLedger.forEach(s, ledger, (block, count) -> {
                    if (!replayed || (block & Ownership.MUTABLE) == 0) work.push(block & ~Ownership.MUTABLE);
                });
            }
        }
        Readers.forEachPin(s, work::push);
        // Every block is marked once, so the walk ends whatever cycles the references form.
        // Each is checked first (a live block below the frontier): a reference to anything
        // else is damage, which verify reports (going on with the rest) and the sweep refuses.
        while (!work.isEmpty()) {
            long b = work.pop();
            if (b < HeaderDescriptor.HEADER_LENGTH || b >= frontier) {
                // a block made after the mark began (another process allocating during verify) is
                // left alone; anything else is damage
                try {
                    s.liveHeader(b, "a live block where a reachable block holds a count");
                } catch (RuntimeException e) {
                    damage(s, damaged, e);
                }
                continue;
            }
            if (isMarked(marks, s, b)) continue;
            setMark(marks, b);
            try {
                s.liveHeader(b, "a live block where a reachable block holds a count");
                marked[0]++;
                BlockSeals.check(sh.heap, b, false);   // before anything it names is followed
                if (held) RefWalker.pushRefs(sh.heap, b, work);
                else RefWalker.pushSlots(sh.heap, b, work);
            } catch (RuntimeException e) {
                damage(s, damaged, e);
            }
        }
        return marks;
    }

    /**
     * Damage unless the heap walk (through the page table) meets every block
     * the mark reached: a reachable block in pages the table does not hold
     * as a span or large block would be given to the pool by the rebuild,
     * and its bytes handed out again while it is still in use.
     */
    private static void checkCovered(Segment s, long frontier, long[] marks, long marked) {
        long[] walked = {0};
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) == AllocatorDescriptor.STATE_LIVE && isMarked(marks, s, off)) walked[0]++;
        });
        if (walked[0] != marked) throw uncovered(s, marked, walked[0]);
    }

    private static RuntimeException uncovered(Segment s, long marked, long walked) {
        return Damage.at(s, 0, "every block reachable from the roots in a span or large block of the page table: "
            + marked + " are reachable, the page table holds " + walked);
    }

    /** Records damage e (verify), or throws it (the sweep, damaged null); rethrows anything else. */
    private static void damage(Segment s, List<Object> damaged, RuntimeException e) {
        if (damaged == null || !Damage.is(e)) throw e;
        if (damaged.size() < MAX_REPORTED) damaged.add(Damage.data(e));
    }

    /** verify reports at most this many damaged blocks found by its mark (one damage can orphan many). */
    private static final int MAX_REPORTED = 100;

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
     * the slots of reachable blocks, named-root cells, live ledgers and, for
     * the bookkeeping blocks, the segment itself. Every node's lineage is
     * flattened (no base, no heir: it owns its slots), which also frees the
     * nodes kept only as bases and mends lineage words a kill left stale.
     */
    private static long sweepUnmarked(Sharing sh, long[] marks, long frontier) {
        Segment s = sh.s;
        long[] freed = {0};
        long[] seen = {0};
        LongStack unreached = new LongStack();
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) != AllocatorDescriptor.STATE_LIVE) return;
            if ((++seen[0] & 255) == 0) KillPoints.step("sweep");
            if (isMarked(marks, s, off)) {
                int type = AllocatorDescriptor.typeOf(header);
                long system = BlockTypes.isSystem(type) ? 1 : 0;
                s.putLongVolatile(off, (header & ~AllocatorDescriptor.REFCOUNT_MASK) | system);
                if (SegmentLineage.isLineageType(type)) SegmentLineage.clear(s, off);
            } else {
                freed[0] += SizeClasses.sizeOf(AllocatorDescriptor.classOf(header));
                s.putLongVolatile(off, header | 1);          // free() wants a live block; its count is moot
                unreached.push(off);
            }
        });
        // Freed after the walk, which must not see spans go back to the pool under it.
        while (!unreached.isEmpty()) s.allocator().free(unreached.pop());
        LongStack refs = new LongStack();
        walk(s, frontier, (off, header) -> {
            if (AllocatorDescriptor.stateOf(header) != AllocatorDescriptor.STATE_LIVE || !isMarked(marks, s, off)) return;
            if ((++seen[0] & 255) == 0) KillPoints.step("sweep");
            RefWalker.pushSlots(sh.heap, off, refs);
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
        Readers.forEachPin(s, box -> addCount(s, box, 1));
        KillPoints.step("sweep");
        s.allocator().rebuildAll();
        KillPoints.step("sweep");
        return freed[0];
    }

    /** Only blocks in the heap: a damaged slot naming the header must not change it. */
    private static void addCount(Segment s, long block, long n) {
        if (block >= HeaderDescriptor.HEADER_LENGTH) s.getAndAddLong(block, n);
    }

    /** Visits every block of the heap (the frontier is the mark's bound, which the allocator's walk respects). */
    static void walk(Segment s, long frontier, slab.mem.Allocator.BlockVisitor v) {
        s.allocator().forEachBlock(frontier, v);
    }
}
