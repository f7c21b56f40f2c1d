package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.codec.BlockTypes;
import slab.codec.Codec;
import slab.codec.Ledger;
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

    SegmentLedger(Codec c, long slot) {
        this.s = c.segment();
        this.slot = slot;
        this.capacity = LEDGER_INITIAL_CAPACITY;
        this.table = newTable(capacity);
        s.putLongVolatile(slot + SLOT_LEDGER_OFFSET, table);
    }

    private long newTable(long cap) {
        long t = s.allocator().allocate(LEDGER_ENTRIES_OFFSET - HEADER + cap * LEDGER_ENTRY_LENGTH, BlockTypes.LEDGER);
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
     * leaves each record either before or after the change, never doubled:
     * a record whose count drops to 0 stays in place (and is reused when the
     * block is owned again) instead of being moved or deleted.
     */
    @Override
    public synchronized void own(long block) {
        if (2 * (used + 1) > capacity) grow();
        long i = hash(block, capacity);
        while (true) {
            long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e);
            if (b == block) {
                long n = s.getLong(e + 8);
                s.putLongVolatile(e + 8, n + 1);
                if (n == 0) live++;
                return;
            }
            if (b == 0) {
                s.putLongVolatile(e + 8, 1);      // count first: a crash here leaves a record a reader skips
                s.putLongVolatile(e, block);
                live++;
                used++;
                s.putLong(table + LEDGER_USED_OFFSET, used);
                return;
            }
            i = (i + 1) & (capacity - 1);
        }
    }

    @Override
    public synchronized void disown(long block) {
        long i = hash(block, capacity);
        while (true) {
            long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e);
            if (b == 0) return;   // taken before this process attached: nothing was recorded
            if (b == block) {
                long n = s.getLong(e + 8);
                if (n > 0) s.putLongVolatile(e + 8, n - 1);
                if (n == 1 && --live * 16 < capacity && capacity > LEDGER_INITIAL_CAPACITY) grow();
                return;
            }
            i = (i + 1) & (capacity - 1);
        }
    }

    /**
     * Rebuilds the table without records at count 0, sized for the records
     * left (at most a quarter full, at least the initial size): it grows when
     * handles pile up and shrinks when they are gone.
     */
    private void grow() {
        long oldTable = table, oldCap = capacity;
        long counted = 0;
        for (long i = 0; i < oldCap; i++) {
            long e = oldTable + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            if (s.getLong(e) != 0 && s.getLong(e + 8) > 0) counted++;
        }
        live = counted;
        long cap = LEDGER_INITIAL_CAPACITY;
        while (4 * (live + 1) > cap) cap *= 2;
        long t = newTable(cap);
        for (long i = 0; i < oldCap; i++) {
            long e = oldTable + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e), n = s.getLong(e + 8);
            if (b == 0 || n == 0) continue;
            long j = hash(b, cap);
            while (s.getLong(t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH) != 0) j = (j + 1) & (cap - 1);
            long ne = t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH;
            s.putLong(ne + 8, n);
            s.putLong(ne, b);
        }
        used = live;
        s.putLong(t + LEDGER_USED_OFFSET, used);
        table = t;
        capacity = cap;
        // Publish, then free: a crash between leaves an orphan ledger, which the sweep frees.
        s.putLongVolatile(slot + SLOT_LEDGER_OFFSET, t);
        s.allocator().free(oldTable);
    }

    /** Calls f(block, count) for every record in the ledger block at t (used for a dead process's ledger). */
    static void forEach(Segment s, long t, java.util.function.BiConsumer<Long, Long> f) {
        long cap = s.getLong(t + LEDGER_CAPACITY_OFFSET);
        for (long i = 0; i < cap; i++) {
            long e = t + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLongVolatile(e);
            long n = s.getLongVolatile(e + 8);
            if (b != 0 && n > 0) f.accept(b, n);
        }
    }

    synchronized void forEachOwned(java.util.function.BiConsumer<Long, Long> f) { forEach(s, table, f); }

    synchronized long table() { return table; }
}
