package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.codec.BlockTypes;
import slab.codec.Codec;
import slab.codec.Ledger;
import slab.mem.Segment;

/**
 * This process's ledger in the segment: an open-addressing table of
 * (block, count) pairs recording the counts its handles own. Only this
 * process writes it (under this object's lock); another process reads it
 * only after this one has died, to give those counts back.
 */
final class SegmentLedger implements Ledger {
    private final Segment s;
    private final long slot;
    private long table;
    private long capacity;
    private long used;

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

    @Override
    public synchronized void own(long block) {
        if (2 * (used + 1) > capacity) grow();
        long i = hash(block, capacity);
        while (true) {
            long e = table + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e);
            if (b == block) {
                s.putLong(e + 8, s.getLong(e + 8) + 1);
                return;
            }
            if (b == 0) {
                s.putLong(e + 8, 1);          // count first: a crash here leaves an entry a reader skips
                s.putLongVolatile(e, block);
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
                long n = s.getLong(e + 8) - 1;
                if (n > 0) {
                    s.putLong(e + 8, n);
                    return;
                }
                removeAt(i);
                return;
            }
            i = (i + 1) & (capacity - 1);
        }
    }

    /** Backward-shift deletion keeps every probe chain unbroken without tombstones. */
    private void removeAt(long hole) {
        long mask = capacity - 1;
        long j = hole;
        while (true) {
            j = (j + 1) & mask;
            long ej = table + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(ej);
            if (b == 0) break;
            long home = hash(b, capacity);
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                long eh = table + LEDGER_ENTRIES_OFFSET + hole * LEDGER_ENTRY_LENGTH;
                s.putLong(eh + 8, s.getLong(ej + 8));
                s.putLongVolatile(eh, b);
                hole = j;
            }
        }
        long eh = table + LEDGER_ENTRIES_OFFSET + hole * LEDGER_ENTRY_LENGTH;
        s.putLongVolatile(eh, 0);
        s.putLong(eh + 8, 0);
        used--;
        s.putLong(table + LEDGER_USED_OFFSET, used);
    }

    private void grow() {
        long oldTable = table, oldCap = capacity;
        long cap = oldCap * 2;
        long t = newTable(cap);
        for (long i = 0; i < oldCap; i++) {
            long e = oldTable + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLong(e);
            if (b == 0) continue;
            long j = hash(b, cap);
            while (s.getLong(t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH) != 0) j = (j + 1) & (cap - 1);
            long ne = t + LEDGER_ENTRIES_OFFSET + j * LEDGER_ENTRY_LENGTH;
            s.putLong(ne, b);
            s.putLong(ne + 8, s.getLong(e + 8));
        }
        s.putLong(t + LEDGER_USED_OFFSET, used);
        table = t;
        capacity = cap;
        s.putLongVolatile(slot + SLOT_LEDGER_OFFSET, t);   // a crash before this leaves the old, complete table
        s.allocator().free(oldTable);
    }

    /** Calls f(block, count) for every record in the ledger block at t (used for a dead process's ledger). */
    static void forEach(Segment s, long t, java.util.function.BiConsumer<Long, Long> f) {
        long cap = s.getLong(t + LEDGER_CAPACITY_OFFSET);
        for (long i = 0; i < cap; i++) {
            long e = t + LEDGER_ENTRIES_OFFSET + i * LEDGER_ENTRY_LENGTH;
            long b = s.getLongVolatile(e);
            if (b != 0) f.accept(b, s.getLong(e + 8));
        }
    }

    synchronized void forEachOwned(java.util.function.BiConsumer<Long, Long> f) { forEach(s, table, f); }

    synchronized long table() { return table; }
}
