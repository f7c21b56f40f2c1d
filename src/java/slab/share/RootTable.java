package slab.share;

import static slab.share.SharingDescriptor.*;

import java.util.ArrayList;
import java.util.List;

import clojure.lang.Keyword;
import slab.Errors;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;

/**
 * Named roots: a table in the segment from keyword to cell, which is what
 * processes hand each other. Entries are claimed by compare-and-set on the
 * name word and never removed (clearing a root empties its cell), so a name
 * always maps to the same cell in every process.
 */
public final class RootTable {
    private RootTable() {}

    /** The cell word of the root called name, creating the entry if needed. */
    public static long cell(Sharing sh, Object name) {
        if (!(name instanceof Keyword k)) throw Cells.notKeyword(name);
        Segment s = sh.s;
        s.checkOpen();
        if (sh.readOnly) {
            long found = find(sh, k);
            if (found != 0) return found;
            throw Errors.info("read-only", "Segment " + s.describe() + " was opened read-only and has no root named "
                + k + "; a root cannot be created in it.", "path", s.describe(), "name", k);
        }
        long t = checked(s, table(s));
        long nameOff;
        int g = sh.heap.gate().enter();   // interning a new name allocates
        try {
            nameOff = sh.heap.interner().intern(k);
        } finally {
            sh.heap.gate().exit(g);
        }
        long cell = probe(s, t, k, nameOff, true);
        if (cell != 0) return cell;
        long cap = s.getLong(t + ROOTS_CAPACITY_OFFSET);
        throw Errors.info("too-many-roots", "Segment " + s.describe() + " already holds " + cap
            + " named roots, its limit. Reuse names (set-root! an existing one) instead of making new ones.",
            "max", cap);
    }

    /** The value the root called name publishes, or nil; a name never used is not entered in the table. */
    public static Object value(Sharing sh, Object name) {
        if (!(name instanceof Keyword k)) throw Cells.notKeyword(name);
        sh.s.checkOpen();
        long cell = find(sh, k);
        return cell == 0 ? null : Cells.read(sh, cell).value;
    }

    /** The cell word of the root called k, or 0 if no root has that name (nothing is written). */
    static long find(Sharing sh, Keyword k) {
        Segment s = sh.s;
        long t = s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
        if (t == 0) return 0;
        t = checked(s, t);
        long nameOff = sh.heap.interner().find(k);
        return nameOff == 0 ? 0 : probe(s, t, k, nameOff, false);
    }

    /**
     * The cell word of the entry named nameOff in table t, probing from k's
     * hash; 0 if there is none. Entries are never removed, so a probe ends
     * at the first empty entry, which claim takes for the name (another
     * process may take it first, for this name or another).
     */
    private static long probe(Segment s, long t, Keyword k, long nameOff, boolean claim) {
        long cap = s.getLong(t + ROOTS_CAPACITY_OFFSET);
        long i = (k.hasheq() & 0xFFFF_FFFFL) & (cap - 1);
        for (long probes = 0; probes < cap; probes++) {
            long e = t + ROOTS_ENTRIES_OFFSET + i * ROOTS_ENTRY_LENGTH;
            long n = s.getLongVolatile(e + ROOTS_ENTRY_NAME_OFFSET);
            if (n == nameOff) return e + ROOTS_ENTRY_CELL_OFFSET;
            if (n == 0) {
                if (!claim) return 0;
                if (s.casLong(e + ROOTS_ENTRY_NAME_OFFSET, 0, nameOff)) return e + ROOTS_ENTRY_CELL_OFFSET;
                if (s.getLongVolatile(e + ROOTS_ENTRY_NAME_OFFSET) == nameOff) return e + ROOTS_ENTRY_CELL_OFFSET;
            }
            i = (i + 1) & (cap - 1);
        }
        return 0;
    }

    /** The names of every root that currently publishes a value. */
    public static List<Object> names(Sharing sh) {
        Segment s = sh.s;
        s.checkOpen();
        long t = s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
        List<Object> out = new ArrayList<>();
        if (t == 0) return out;
        long cap = s.getLong(checked(s, t) + ROOTS_CAPACITY_OFFSET);
        for (long i = 0; i < cap; i++) {
            long e = t + ROOTS_ENTRIES_OFFSET + i * ROOTS_ENTRY_LENGTH;
            long n = s.getLongVolatile(e + ROOTS_ENTRY_NAME_OFFSET);
            if (n != 0 && s.getLongVolatile(e + ROOTS_ENTRY_CELL_OFFSET) != 0) out.add(sh.heap.interner().decode(n, slab.value.Tags.KEYWORD));
        }
        return out;
    }

    /** Every cell word of the table (for marking). */
    static void forEachCell(Segment s, java.util.function.LongConsumer f) {
        long t = s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
        if (t == 0) return;
        long cap = s.getLong(checked(s, t) + ROOTS_CAPACITY_OFFSET);
        for (long i = 0; i < cap; i++) {
            long e = t + ROOTS_ENTRIES_OFFSET + i * ROOTS_ENTRY_LENGTH;
            if (s.getLongVolatile(e + ROOTS_ENTRY_NAME_OFFSET) != 0) f.accept(e + ROOTS_ENTRY_CELL_OFFSET);
        }
    }

    /** Receives a root table entry: the offset of its name's interned keyword, and its cell word. */
    @FunctionalInterface
    interface EntryVisitor { void visit(long name, long cell); }

    /** Every entry of the table with a name (for naming what a root reaches). */
    static void forEachEntry(Segment s, EntryVisitor f) {
        long t = s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
        if (t == 0) return;
        long cap = s.getLong(checked(s, t) + ROOTS_CAPACITY_OFFSET);
        for (long i = 0; i < cap; i++) {
            long e = t + ROOTS_ENTRIES_OFFSET + i * ROOTS_ENTRY_LENGTH;
            long n = s.getLongVolatile(e + ROOTS_ENTRY_NAME_OFFSET);
            if (n != 0) f.visit(n, e + ROOTS_ENTRY_CELL_OFFSET);
        }
    }

    /** The root table at t, checked: a live ROOT_TABLE block of ROOTS_CAPACITY entries that fit it. */
    private static long checked(Segment s, long t) {
        long hd = s.block(t, BlockTypes.ROOT_TABLE, "the named-root table");
        if (s.getLong(t + ROOTS_CAPACITY_OFFSET) != ROOTS_CAPACITY)
            throw Damage.at(s, t, "a named-root table of " + ROOTS_CAPACITY + " entries");
        s.within(t, hd, t + ROOTS_ENTRIES_OFFSET, (long) ROOTS_CAPACITY * ROOTS_ENTRY_LENGTH, "the named-root table's entries");
        return t;
    }

    private static long table(Segment s) {
        long t = s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
        if (t != 0) return t;
        long bytes = ROOTS_ENTRIES_OFFSET + (long) ROOTS_CAPACITY * ROOTS_ENTRY_LENGTH;
        long fresh = s.allocator().allocate(bytes - HEADER, BlockTypes.ROOT_TABLE);
        s.fill(fresh + HEADER, bytes - HEADER, (byte) 0);
        s.putLong(fresh + ROOTS_CAPACITY_OFFSET, ROOTS_CAPACITY);
        if (s.casLong(HeaderDescriptor.ROOT_TABLE_OFFSET, 0, fresh)) return fresh;
        s.allocator().free(fresh);
        return s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET);
    }
}
