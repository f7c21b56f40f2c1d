package slab.mem;

import slab.Errors;

/**
 * The error for a segment whose bytes contradict its format: an offset
 * that names no block of the expected kind, a length past its block, a
 * trie deeper than its hash bits allow. Every offset and length read from
 * the segment is untrusted (another process, a disk or a copy may have
 * damaged it), so readers check what they follow and raise this instead
 * of reading past a block, looping on a cycle or allocating by a damaged
 * length. Always an ex-info with {@code :slab/error :damaged-segment},
 * the file, the offset and what was expected there.
 */
public final class Damage {
    private Damage() {}

    /** Damage at offset off (0 when unknown): expected says what a sound segment has there. */
    public static RuntimeException at(Segment s, long off, String expected) {
        return Errors.info("damaged-segment", "Segment " + s.describe() + " is damaged"
            + (off != 0 ? " at offset " + off : "") + ": expected " + expected + ". slab/verify reports "
            + "the damage it finds; restore the file from a copy, or read the roots that are still sound.", "path", s.describe(), "offset", off, "expected", expected);
    }

    /**
     * Damage found by a block's seal: as {@link #at}, plus the block type and
     * the seal stored and computed (both 0 for a node that carries no seal).
     */
    public static RuntimeException seal(Segment s, long off, int type, String expected, int stored, int computed) {
        return Errors.info("damaged-segment", "Segment " + s.describe() + " is damaged at offset " + off + ": expected "
            + expected + ". slab/verify reports the damage it finds; restore the file from a copy, or read the roots "
            + "that are still sound.", "path", s.describe(), "offset", off, "expected", expected, "type", type,
            "stored", Integer.toUnsignedLong(stored), "computed", Integer.toUnsignedLong(computed));
    }

    /** Is e (or its cause) slab's damaged-segment error? */
    public static boolean is(Throwable e) { return data(e) != null; }

    /** The ex-data of the damaged-segment error e is or wraps, with its message as :message; null if none. */
    public static clojure.lang.IPersistentMap data(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof clojure.lang.ExceptionInfo x && DAMAGED.equals(x.getData().valAt(Errors.ERROR)))
                return x.getData().assoc(clojure.lang.Keyword.intern("message"), x.getMessage());
        return null;
    }

    private static final clojure.lang.Keyword DAMAGED = clojure.lang.Keyword.intern("damaged-segment");
}
