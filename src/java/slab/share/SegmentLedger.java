package slab.share;

import static slab.share.SharingDescriptor.*;

import clojure.lang.ExceptionInfo;
import slab.mem.BlockTypes;
import slab.mem.KillPoints;
import slab.ref.Ownership;
import slab.ref.RefCounts;
import slab.ref.Heap;
import slab.ref.Ledger;
import slab.mem.Damage;
import slab.mem.Segment;

/**
 * This process's ledger in the segment: an open-addressing table (linear
 * probing) of (block, count) pairs recording the counts its handles own. Only this
 * process writes it (under this object's lock); another process reads it
 * only after this one has died, to give those counts back.
 */
final class SegmentLedger implements Ledger {
    private final Segment s;
    private final long slot;
    private long table;
    private long capacity;
    private long used;
    /** Records with a count above 0; the table shrinks when they become few. */
    private long live;
    /** After a grow found no room: the record count at which to try again. */
    private long retryAt;
    /** Set once a count went unrecorded for want of room. */
    private boolean incomplete;

    SegmentLedger(Heap c, long slot) {
        this.s = c.segment();
        this.slot = slot;
        this.capacity = LEDGER_INITIAL_CAPACITY;
        this.table = newTable(capacity, true);
        s.putLongVolatile(slot + SLOT_LEDGER_OFFSET, table);
    }

    /** A zeroed table for cap records, or 0 if !wait and there is no room now. */
    private long newTable(long cap, boolean wait) {
        long payload = LEDGER_ENTRIES_OFFSET - HEADER + cap * LEDGER_ENTRY_LENGTH;
        long t = wait ? s.allocator().allocate(payload, BlockTypes.LEDGER)
                      : s.allocator().allocateIfRoom(payload, BlockTypes.LEDGER);
        if (t == 0) return 0;
        s.fill(t + HEADER, LEDGER_ENTRIES_OFFSET - HEADER + cap * LEDGER_ENTRY_LENGTH, (byte) 0);
        s.putLong(t + LEDGER_CAPACITY_OFFSET, cap);
        return t;
    }

    private static long hash(long block, long cap) {
        long h = (block >>> 4) * 0x9E3779B97F4A7C15L;
        return (h >>> 20) & (cap - 1);
    }

    /**
     * Every change is one aligned 8-byte write, so a crash at any instant
     * leaves each record either before or after the change, never doubled.
     * A record whose count drops to 0 stays in place (probe chains run
     * through it) and is reused, for its block or another; a block has at
     * most one record, so its probe chain is searched to the end first.
     */
    @Override
    public synchronized void own(long block) {
        if (2 * (used + 1) > capacity && used >= retryAt) grow();
        long spare = -1;
        long i = hash(block, capacity);
        while (true) {
            long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e + LEDGER_ENTRY_BLOCK_OFFSET);
            if (b == block) {
                long n = s.getLong(e + LEDGER_ENTRY_COUNT_OFFSET);
                s.putLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET, n + 1);
                if (n == 0) live++;
                return;
            }
            if (b == 0) break;
            if (spare < 0 && s.getLong(e + LEDGER_ENTRY_COUNT_OFFSET) == 0) spare = e;
            i = (i + 1) & (capacity - 1);
        }
        if (spare >= 0) {
            s.putLongVolatile(spare + LEDGER_ENTRY_BLOCK_OFFSET, block);          // block first: at count 0 a reader skips the record
            s.putLongVolatile(spare + LEDGER_ENTRY_COUNT_OFFSET, 1);
            live++;
            return;
        }
        if (8 * (used + 1) > 7 * capacity) {
            // Full, and no room to grow: leave the count unrecorded (probe chains stay
            // short), as a crash between taking a count and recording it would. Another
            // process's sweep reclaims it if this one dies; this process never sweeps again,
            // since a sweep trusts its ledger to name everything its handles hold.
            incomplete = true;
            return;
        }
        long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
        s.putLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET, 1);      // count first: a crash here leaves a record a reader skips
        s.putLongVolatile(e + LEDGER_ENTRY_BLOCK_OFFSET, block);
        live++;
        used++;
        s.putLong(table + LEDGER_USED_OFFSET, used);
    }

    @Override
    public synchronized void disown(long block) {
        long i = hash(block, capacity);
        while (true) {
            long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e + LEDGER_ENTRY_BLOCK_OFFSET);
            if (b == 0) return;   // taken before this process attached: nothing was recorded
            if (b == block) {
                long n = s.getLong(e + LEDGER_ENTRY_COUNT_OFFSET);
                if (n > 0) s.putLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET, n - 1);
                if (n == 1 && --live * 16 < capacity && capacity > LEDGER_INITIAL_CAPACITY) {
                    try {
                        rebuild();
                    } catch (ExceptionInfo ignored) {
                        // shrinking is optional; a release must not fail (e.g. :commit-stalled)
                    }
                }
                return;
            }
            i = (i + 1) & (capacity - 1);
        }
    }

    /**
     * Past half full the table grows if there is room now. It never waits for
     * room: that would hold this lock, which every release (the Cleaner's
     * too) needs. Without room it stays as it is (a fuller table only probes
     * longer) and tries again a little later.
     */
    private void grow() {
        try {
            if (rebuild()) return;
        } catch (ExceptionInfo e) {
            // no room after all (e.g. :commit-stalled): as above
        }
        retryAt = used + Math.max(1, capacity / 64);
    }

    /**
     * Rebuilds the table without records at count 0, sized for the records
     * left (at most a quarter full, at least the initial size): it grows when
     * handles pile up and shrinks when they are gone. With no room for the
     * new table now it keeps the old one and returns false.
     */
    private boolean rebuild() {
        long oldTable = table, oldCap = capacity;
        long cap = LEDGER_INITIAL_CAPACITY;
        while (4 * (live + 1) > cap) cap *= 2;
        long t = newTable(cap, false);
        if (t == 0) return false;
        KillPoints.step("ledger");
        for (long i = 0; i < oldCap; i++) {
            long e = oldTable + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e + LEDGER_ENTRY_BLOCK_OFFSET), n = s.getLong(e + LEDGER_ENTRY_COUNT_OFFSET);
            if (b == 0 || n == 0) continue;
            long j = hash(b, cap);
            while (s.getLong(t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH + LEDGER_ENTRY_BLOCK_OFFSET) != 0) j = (j + 1) & (cap - 1);
            long ne = t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH;
            s.putLong(ne + LEDGER_ENTRY_COUNT_OFFSET, n);
            s.putLong(ne + LEDGER_ENTRY_BLOCK_OFFSET, b);
        }
        used = live;
        retryAt = 0;
        s.putLong(t + LEDGER_USED_OFFSET, used);
        table = t;
        capacity = cap;
        // Publish, then free: a crash between leaves an orphan ledger, which the sweep frees.
        KillPoints.step("ledger");
        s.putLongVolatile(slot + SLOT_LEDGER_OFFSET, t);
        KillPoints.step("ledger");
        s.allocator().free(oldTable);
        KillPoints.step("ledger");
        return true;
    }

    /**
     * Gives back every count the ledger block at t records (a dead process's,
     * or this process's at close), erasing each before giving it back: a kill
     * at any instant leaves every count either still recorded or given back,
     * never both, so whoever continues (another opener) gives each back
     * exactly once. skipMutable leaves a transient's records (MUTABLE bit) to
     * the sweep: a process killed mid-edit may have left those nodes torn.
     */
    static void giveBack(Heap h, long t, boolean skipMutable, String protocol) {
        Segment s = h.segment();
        long cap = capacity(s, t);
        for (long i = 0; i < cap; i++) {
            long e = t + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLongVolatile(e + LEDGER_ENTRY_BLOCK_OFFSET);
            long n = s.getLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET);
            if (b == 0 || n <= 0 || (skipMutable && (b & Ownership.MUTABLE) != 0)) continue;
            for (long k = n; k > 0; k--) {
                s.putLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET, k - 1);
                KillPoints.step(protocol);
                RefCounts.release(h, b & ~Ownership.MUTABLE);
                KillPoints.step(protocol);
            }
        }
    }

    /** Calls f(block, count) for every record in the ledger block at t (used for a dead process's ledger). */
    static void forEach(Segment s, long t, java.util.function.BiConsumer<Long, Long> f) {
        long cap = capacity(s, t);
        for (long i = 0; i < cap; i++) {
            long e = t + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLongVolatile(e + LEDGER_ENTRY_BLOCK_OFFSET);
            long n = s.getLongVolatile(e + LEDGER_ENTRY_COUNT_OFFSET);
            if (b != 0 && n > 0) f.accept(b, n);
        }
    }

    /**
     * The capacity of the ledger block at t, checked before a walk trusts it:
     * a live LEDGER block whose capacity is a power of two whose entries fit.
     */
    static long capacity(Segment s, long t) {
        long hd = s.block(t, BlockTypes.LEDGER, "a ledger");
        long cap = s.getLong(t + LEDGER_CAPACITY_OFFSET);
        if (cap < 1 || Long.bitCount(cap) != 1 || cap > s.capacity() / LEDGER_ENTRY_LENGTH)
            throw Damage.at(s, t, "a ledger whose capacity is a power of two, found " + cap);
        s.within(t, hd, t + LEDGER_ENTRIES_OFFSET, cap * LEDGER_ENTRY_LENGTH, "a ledger's entries");
        return cap;
    }

    /** Does this ledger name every count this process's owners hold? */
    synchronized boolean complete() { return !incomplete; }

    synchronized void forEachOwned(java.util.function.BiConsumer<Long, Long> f) { forEach(s, table, f); }

    synchronized long table() { return table; }
}
