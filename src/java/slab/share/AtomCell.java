package slab.share;

import java.lang.ref.Cleaner;

import slab.ref.RefCounts;

/**
 * The cell an atom publishes through: a named root's entry (kept forever),
 * or an anonymous CELL block that the atom owns and gives back, through the
 * Cleaner, when the JVM collects the atom.
 */
public final class AtomCell {
    private static final Cleaner CLEANER = Cleaner.create();

    public final Sharing sharing;
    /** The cell word's offset. */
    public final long word;
    public final Object name;

    private AtomCell(Sharing sharing, long word, Object name) {
        this.sharing = sharing;
        this.word = word;
        this.name = name;
    }

    /** The cell of the named root name, set to init if it has never been set. */
    public static AtomCell named(Sharing sh, Object name, Object init, boolean hasInit) {
        long word = RootTable.cell(sh, name);
        if (hasInit && sh.s.getLongVolatile(word) == 0) {
            long box = Boxes.box(sh.heap, init);
            if (!Cells.publish(sh, word, 0, box)) RefCounts.release(sh.heap, box);   // someone set it first: keep theirs
        }
        return new AtomCell(sh, word, name);
    }

    /** A fresh anonymous cell holding init. */
    public static AtomCell anonymous(Sharing sh, Object init) {
        long block = Cells.newCell(sh, init);
        AtomCell c = new AtomCell(sh, Cells.wordOf(block), null);
        CLEANER.register(c, new Drop(sh, block));
        return c;
    }

    private record Drop(Sharing sh, long block) implements Runnable {
        @Override
        public void run() { Cells.dropCell(sh, block); }
    }
}
