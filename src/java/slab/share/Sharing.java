package slab.share;

import static slab.share.SharingDescriptor.*;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import slab.Errors;
import slab.mem.BlockTypes;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;

/**
 * This process's membership of a segment: its slot in the process table
 * (pid and start time, so a dead process can be told from a live one and
 * from a later process that reuses its pid), its ledger, its hazard words,
 * and the boxes it has unpublished but not yet given back.
 *
 * <p>Publishing a new value into a cell is one compare-and-set of the cell
 * word to a fully built box, so a process killed at any instant leaves every
 * cell naming a complete value. A reader announces the box it is about to
 * read in a hazard word and re-checks the cell; a publisher gives back the
 * count on a box it replaced only once no live process announces it (hazard
 * pointers). A crash can only leak counts, never give one back twice; leaks
 * are reclaimed by {@link Sweeper}.
 */
public final class Sharing {
    private static final Map<Segment, Sharing> BY_SEGMENT = new ConcurrentHashMap<>();

    final Segment s;
    final Heap heap;
    final long table;
    final long slot;
    final int slotIndex;
    final SegmentLedger ledger;
    /** A reader of a read-only mapping: no slot, ledger or hazard words (see {@link ReadOnly}). */
    final boolean readOnly;
    private final ConcurrentLinkedQueue<Integer> freeHazards = new ConcurrentLinkedQueue<>();
    private final ArrayList<Long> retired = new ArrayList<>();

    private Sharing(Segment s) {
        this.s = s;
        this.heap = Heap.of(s);
        this.table = processTable(s);
        Sweeper.finishInterrupted(this);   // before any count is trusted (we hold the file lock)
        int idx = claimSlot();
        this.slotIndex = idx;
        this.slot = table + SLOTS_OFFSET + (long) idx * SLOT_LENGTH;
        // Only a segment other processes can open needs a ledger; the anonymous one dies with us.
        this.ledger = s.path() == null ? null : new SegmentLedger(heap, slot);
        s.putLongVolatile(slot + SLOT_STATE_OFFSET, STATE_LIVE);
        for (int i = 0; i < HAZARDS; i++) freeHazards.add(i);
        if (ledger != null) heap.ownership().setLedger(ledger);
        this.readOnly = false;
    }

    /**
     * A reader of a read-only mapping, which writes nothing: it takes no
     * slot (so it is invisible to other processes, and nothing of it needs
     * recovering) and announces nothing, since no block there can be freed.
     */
    private Sharing(Segment s, long table) {
        this.s = s;
        this.heap = Heap.of(s);
        this.table = table;
        this.slot = 0;
        this.slotIndex = -1;
        this.ledger = null;
        this.readOnly = true;
    }

    /**
     * This process's membership of s, registering it on first use: attaching,
     * giving back what dead processes held and (alone) sweeping all happen
     * under the file lock before the membership is published, so no other
     * thread of this process can use s while that recovery runs, and no
     * other process can attach meanwhile.
     */
    public static Sharing of(Segment s) {
        s.checkOpen();
        Sharing sh = BY_SEGMENT.get(s);
        if (sh != null) return sh;
        if (s.isReadOnly())
            return BY_SEGMENT.computeIfAbsent(s, ro -> new Sharing(ro, ReadOnly.processTable(ro)));
        return s.withFileLock(() -> {
            Sharing found = BY_SEGMENT.get(s);
            if (found != null) return found;
            s.refuseReadOnlyOpeners();   // one may have come since s was mapped
            Sharing fresh = new Sharing(s);
            if (s.path() != null) {
                try {
                    Recovery.onOpen(fresh);
                } catch (RuntimeException e) {
                    Recovery.emptySlot(fresh.heap, fresh.slot, true, "close");   // refused: leave no slot behind
                    throw e;
                }
            }
            BY_SEGMENT.put(s, fresh);
            return fresh;
        });
    }

    /** Whether this process has attached to s already. */
    public static boolean isAttached(Segment s) { return BY_SEGMENT.containsKey(s); }

    /** This process's membership of s, forgotten (s is closing); null if it never attached. */
    static Sharing remove(Segment s) { return BY_SEGMENT.remove(s); }

    public Heap heap() { return heap; }
    public Segment segment() { return s; }

    // --- the process table -----------------------------------------------------------

    private static long processTable(Segment s) {
        long t = s.getLongVolatile(HeaderDescriptor.PROCESS_TABLE_OFFSET);
        if (t != 0) {
            s.within(t, s.block(t, BlockTypes.PROCESS_TABLE, "the process table"), t, PROCESS_TABLE_LENGTH,
                "a whole process table");
            return t;
        }
        long fresh = s.allocator().allocate(PROCESS_TABLE_LENGTH - HEADER, BlockTypes.PROCESS_TABLE);
        s.fill(fresh + HEADER, PROCESS_TABLE_LENGTH - HEADER, (byte) 0);
        if (s.casLong(HeaderDescriptor.PROCESS_TABLE_OFFSET, 0, fresh)) return fresh;
        s.allocator().free(fresh);
        return s.getLongVolatile(HeaderDescriptor.PROCESS_TABLE_OFFSET);
    }

    private int claimSlot() {
        long pid = ProcessHandle.current().pid();
        long start = Slots.startMillis(ProcessHandle.current());
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < MAX_PROCESSES; i++) {
                long sl = table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
                if (s.casLong(sl + SLOT_STATE_OFFSET, STATE_FREE, Slots.actorWord(STATE_CLAIMING))) {
                    s.putLong(sl + SLOT_PID_OFFSET, pid);
                    s.putLong(sl + SLOT_START_OFFSET, start);
                    s.putLong(sl + SLOT_LEDGER_OFFSET, 0);
                    s.fill(sl + SLOT_HAZARDS_OFFSET, 8L * HAZARDS, (byte) 0);
                    return i;
                }
            }
            Recovery.releaseDead(s, table, -1);   // free the slots of processes that died, then look again
        }
        throw Errors.info("too-many-processes", "Segment " + s.describe() + " already has " + MAX_PROCESSES
            + " live processes attached; close it in some of them first.", "max", (long) MAX_PROCESSES);
    }

    /**
     * At close: gives back, through heap via (a private mapping of this
     * segment), every retired box no live process is reading. One still
     * announced stays counted; the sweep reclaims it later.
     */
    void giveBackRetired(Heap via) {
        java.util.HashSet<Long> announced = announcedBoxes(via.segment());
        synchronized (retired) {
            for (long b : retired) if (!announced.contains(b)) RefCounts.release(via, b);
            retired.clear();
        }
    }

    // --- hazards and retired boxes ---------------------------------------------------------

    /**
     * A free hazard word. Each is held only while one box is read (no user
     * code runs meanwhile), so a wait is short; a waiter yields, then parks,
     * so it never keeps a holder (or a virtual thread's carrier) off the CPU.
     */
    int acquireHazard() {
        for (int spins = 0; ; spins++) {
            Integer i = freeHazards.poll();
            if (i != null) return i;
            if (spins < 32) Thread.onSpinWait();
            else if (spins < 64) Thread.yield();
            else java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
    }

    void releaseHazard(int i) {
        if (!s.isClosed()) s.putLongVolatile(hazard(i), 0);
        freeHazards.add(i);
    }

    long hazard(int i) { return slot + SLOT_HAZARDS_OFFSET + 8L * i; }

    /** A box this process replaced in a cell: its count goes back once no live process reads it. */
    void retire(long box) {
        synchronized (retired) {
            retired.add(box);
        }
        reclaimRetired();
        // A foreign reader that unpinned a box this or another JVM retired
        // holds its last count and cannot free it: it is given back here.
        Readers.giveBackReturned(heap);
    }

    /** The boxes this process has retired and not yet given back (verify counts their counts). */
    long[] retiredBoxes() {
        synchronized (retired) {
            return retired.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /** Gives back every retired box no live process is reading (the sweep runs it first). */
    void flushRetired() { reclaimRetired(); }

    private void reclaimRetired() {
        ArrayList<Long> ready = new ArrayList<>();
        synchronized (retired) {
            if (retired.isEmpty()) return;
            java.util.HashSet<Long> announced = announcedBoxes(s);
            for (int i = retired.size() - 1; i >= 0; i--) {
                long b = retired.get(i);
                if (!announced.contains(b)) {
                    ready.add(b);
                    retired.set(i, retired.get(retired.size() - 1));
                    retired.remove(retired.size() - 1);
                }
            }
        }
        for (long b : ready) RefCounts.release(heap, b);
    }

    /**
     * Every box any process or foreign reader has announced in a hazard word,
     * as seg (this segment, or a mapping of it) shows them.
     */
    private java.util.HashSet<Long> announcedBoxes(Segment s) {
        java.util.HashSet<Long> out = new java.util.HashSet<>();
        for (int i = 0; i < MAX_PROCESSES; i++) {
            long sl = table + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            if (s.getLongVolatile(sl + SLOT_STATE_OFFSET) == STATE_FREE) continue;
            for (int h = 0; h < HAZARDS; h++) {
                long b = s.getLongVolatile(sl + SLOT_HAZARDS_OFFSET + 8L * h);
                if (b != 0) out.add(b);
            }
        }
        Readers.addAnnounced(s, out);
        return out;
    }
}
