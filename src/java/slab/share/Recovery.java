package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.Errors;
import slab.mem.BlockTypes;
import slab.ref.Heap;
import slab.ref.Ownership;
import slab.ref.RefCounts;
import slab.mem.Segment;

/**
 * Cleaning up after processes that died.
 *
 * <p>{@link #releaseDead} gives back every count a dead process's ledger
 * records and frees its slot; it is safe while other processes run, because
 * a ledger never records a count its owner had already given back.
 *
 * <p>What ledgers cannot account for (blocks a process allocated but never
 * published, counts it took but had not yet recorded) is reclaimed by the
 * {@link Sweeper}, which needs a still segment: it runs only while no other
 * live process is attached, under the file lock.
 */
public final class Recovery {
    private Recovery() {}

    /** Releases the ledgers of dead processes; returns how many were recovered. */
    public static int releaseDead(Segment s, long table, int mySlot) {
        Heap c = Heap.of(s);
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
                    if ((block & Ownership.MUTABLE) != 0) return;
                    for (long k = 0; k < count; k++) RefCounts.release(c, block);
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
        Report v = Sweeper.verify(sh);
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
        return sh.s.withFileLock(() -> othersAttached(sh) ? 0L : Sweeper.sweep(sh));
    }

    /** Walks the heap against a mark pass: what is reachable, what is live but unreachable, what is free. */
    public static Report verify(Sharing sh) { return Sweeper.verify(sh); }

    /**
     * Leaves the process table, giving back every count this process's
     * ledger records (its handles die with the segment's mapping).
     */
    public static void detach(Sharing sh) {
        sh.flushRetired();
        Segment s = sh.s;
        sh.heap.ownership().stopReleases(() -> {
            long ledger = s.getLongVolatile(sh.slot + SLOT_LEDGER_OFFSET);
            sh.heap.ownership().setLedger(null);
            if (ledger != 0) {
                // A transient's record (MUTABLE bit) counts as much as a handle's: this
                // process is alive, so its transients' nodes are whole.
                SegmentLedger.forEach(s, ledger, (block, count) -> {
                    for (long k = 0; k < count; k++) RefCounts.release(sh.heap, block & ~Ownership.MUTABLE);
                });
                s.allocator().free(ledger);
            }
            s.putLong(sh.slot + SLOT_LEDGER_OFFSET, 0);
            s.fill(sh.slot + SLOT_HAZARDS_OFFSET, 8L * HAZARDS, (byte) 0);
            s.putLongVolatile(sh.slot + SLOT_STATE_OFFSET, STATE_FREE);
        });
    }

    static RuntimeException notNamed(Segment s) {
        return Errors.info("bad-argument", "Segment " + s.describe() + " is anonymous: nothing outside this process "
            + "can hold its values, so there is nothing to recover.");
    }
}
