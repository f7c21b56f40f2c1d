package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.Errors;
import slab.mem.HeaderDescriptor;
import slab.mem.KillPoints;
import slab.ref.Heap;
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

    /**
     * Releases the ledgers of dead processes; returns how many were
     * recovered. A slot is taken over by one compare-and-set of its state
     * word to "being recovered by me" (the word names the recoverer), so a
     * slot whose recoverer died too is taken over by the next caller, and
     * continues where it stopped: the ledger erases each count as it goes back.
     */
    public static int releaseDead(Segment s, long table, int mySlot) {
        Heap h = Heap.of(s);
        long me = Slots.actorWord(STATE_RECOVERING);
        int recovered = 0;
        for (int i = 0; i < MAX_PROCESSES; i++) {
            if (i == mySlot) continue;
            long sl = table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            Slots.checkState(s, sl, st);
            if (!Slots.isDead(s, sl, st)) continue;
            if (!s.casLong(sl + SLOT_STATE_OFFSET, st, me)) continue;
            KillPoints.step("recover");
            emptySlot(h, sl, true, "recover");
            recovered++;
        }
        // Foreign readers that died or left pins behind: a dead reader is a dead process.
        return recovered + Readers.releaseGone(h);
    }

    /**
     * Gives back what slot sl's ledger records, then frees the ledger and the
     * slot. Every step can be cut by a kill: the ledger is unlinked before it
     * is freed (a kill between leaks it to the sweep, never frees it twice),
     * and the slot is freed last.
     */
    static void emptySlot(Heap h, long sl, boolean skipMutable, String protocol) {
        Segment s = h.segment();
        long ledger = s.getLongVolatile(sl + SLOT_LEDGER_OFFSET);
        if (ledger != 0) {
            SegmentLedger.giveBack(h, ledger, skipMutable, protocol);
            s.putLongVolatile(sl + SLOT_LEDGER_OFFSET, 0);
            KillPoints.step(protocol);
            s.allocator().free(ledger);
            KillPoints.step(protocol);
        }
        s.fill(sl + SLOT_HAZARDS_OFFSET, 8L * HAZARDS, (byte) 0);
        s.putLongVolatile(sl + SLOT_STATE_OFFSET, STATE_FREE);
        KillPoints.step(protocol);
    }

    /** True if a live process other than sh's, or a live foreign reader, is attached. */
    public static boolean othersAttached(Sharing sh) {
        for (int i = 0; i < MAX_PROCESSES; i++) {
            if (i == sh.slotIndex) continue;
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = sh.s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            if (st != STATE_FREE && !Slots.isDead(sh.s, sl, st)) return true;
        }
        return Readers.anyAttached(sh.s);   // a sweep would reset counts under a reader's pin
    }

    /**
     * What a sweep or a verify found, in bytes; stuckSlots counts process
     * slots held by a process that no longer runs (recover! frees them);
     * countSurplus is the sum of all block counts minus the references that
     * account for them (0 when counts add up; above 0, counts that will
     * never be given back; below 0, counts given back twice), and
     * countsAddUp also compares an offset-weighted sum, so two errors do not
     * cancel out. Counts are exact only in a still segment. damaged holds
     * the ex-data of each damage found (empty for a sound segment).
     */
    public record Report(int deadProcesses, long reachable, long unreachable, long free, long reclaimed,
                         int stuckSlots, long countSurplus, boolean countsAddUp, boolean swept,
                         java.util.List<Object> damaged) { }

    /** How long recover! waits for this process's updates in flight before it gives up sweeping. */
    private static final long SWEEP_WAIT_NANOS = 5_000_000_000L;

    /**
     * Releases dead processes, then (if no other live process is attached and
     * this is a named segment) sweeps, and reports what the heap holds.
     */
    public static Report recover(Sharing sh) {
        sh.s.checkWritable();
        int dead = releaseDead(sh.s, sh.table, sh.slotIndex);
        sh.s.allocator().abandonDeadOwners();
        long[] reclaimed = {-1};
        // Other threads of this process may be updating: the sweep waits until none
        // is inside an update and holds new ones at the gate while it runs.
        sh.heap.gate().exclusive(SWEEP_WAIT_NANOS, () -> reclaimed[0] = sweepIfAlone(sh));
        Report v = verify(sh);
        return new Report(dead, v.reachable(), v.unreachable(), v.free(), Math.max(0, reclaimed[0]), v.stuckSlots(),
            v.countSurplus(), v.countsAddUp(), reclaimed[0] >= 0, v.damaged());
    }

    /**
     * On open, before this process can use the segment: when a dead process
     * left a slot (or a sweep was cut short) and no other live process is
     * attached, so nothing changes the heap meanwhile, checks everything the
     * recovery would touch
     * (the mark of the sweep, seals included, through the dead ledgers too)
     * and refuses with damaged-segment before a ledger is replayed or a block
     * freed: giving back counts through damaged blocks would free live ones.
     * With other processes attached the segment is not still, so recovery
     * goes on as they do (their reads and verify report damage).
     */
    private static void checkBeforeRecovery(Sharing sh) {
        Segment s = sh.s;
        boolean work = s.getLongVolatile(HeaderDescriptor.SWEEP_OFFSET) != 0;
        for (int i = 0; i < MAX_PROCESSES && !work; i++) {
            if (i == sh.slotIndex) continue;
            long sl = sh.table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            Slots.checkState(s, sl, st);
            work = Slots.isDead(s, sl, st);
        }
        if (work && !othersAttached(sh)) Sweeper.checkBeforeRecovery(sh);
    }

    /**
     * What opening a segment does: releases dead processes and, only if some
     * had died and no other process is attached, sweeps. Opening a segment
     * that every process closed properly costs O(1).
     */
    static int onOpen(Sharing sh) {
        checkBeforeRecovery(sh);
        int dead = releaseDead(sh.s, sh.table, sh.slotIndex);
        // Spans dead processes owned (a process that died without a slot leaves
        // its spans to the allocator's own scans for dead owners).
        if (dead > 0) sh.s.allocator().abandonDeadOwners();
        if (dead > 0) sweepIfAlone(sh);
        return dead;
    }

    /**
     * Sweeps under the file lock, so no process can attach (and allocate) while
     * it runs; never in a process whose ledger once ran out of room (its
     * unrecorded handles' nodes would look unreachable).
     */
    private static long sweepIfAlone(Sharing sh) {
        if (sh.ledger == null || !sh.ledger.complete()) return -1;
        return sh.s.withFileLock(() -> othersAttached(sh) ? -1L : Sweeper.sweep(sh));
    }

    /**
     * Walks the heap against a mark pass: what is reachable, what is live but
     * unreachable, what is free; with this process's updates held at the gate
     * while it walks (if they pause within the wait).
     */
    public static Report verify(Sharing sh) {
        Report[] found = {null};
        sh.heap.gate().exclusive(SWEEP_WAIT_NANOS, () -> found[0] = stillVerify(sh));
        return found[0] != null ? found[0] : Sweeper.verify(sh);
    }

    /** verify with the Cleaner's releases held back too, so no count or ledger moves under the walk. */
    private static Report stillVerify(Sharing sh) {
        Report[] found = {null};
        sh.heap.ownership().withReleasesPaused(() -> found[0] = Sweeper.verify(sh));
        return found[0];
    }

    static RuntimeException notNamed(Segment s) {
        return Errors.info("bad-argument", "Segment " + s.describe() + " is anonymous: nothing outside this process "
            + "can hold its values, so there is nothing to recover.");
    }
}
