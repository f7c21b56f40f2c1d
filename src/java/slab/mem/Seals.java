package slab.mem;

import static slab.mem.SealDescriptor.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The seal function (constants and rationale in {@link SealDescriptor})
 * and the parts every block type shares: trailer seals, and the error for
 * a seal that does not match. Which bytes a block type's seal covers is
 * coded next to its layout (MapNodes, VecNodes, CollBlocks, Boxes, Blobs,
 * Interner, MetaSymbols); slab.ref.BlockSeals dispatches on the type.
 */
public final class Seals {
    private Seals() {}

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG;   // aligned: start is 8 or 24 in a 16-aligned block

    /**
     * The seal of bytes [start, end) of block b (offsets from b), the word at
     * maskAt (from b, a multiple of 8 at or after start; -1 for none) read
     * ANDed with keep, so the seal's own bits read as 0. The caller has
     * checked that the block holds [start, end) (the last word may reach
     * into the block's slack, which is masked off).
     */
    public static int of(Segment s, long b, long start, long end, long maskAt, long keep) {
        try {
            return of(s.memory(), b + start, end - start, maskAt < 0 ? -1 : maskAt - start, keep);
        } catch (RuntimeException | InternalError e) {
            throw s.fault(e);
        }
    }

    /** The seal of n bytes at from, the word at from + maskAt ANDed with keep; no allocation. */
    static int of(MemorySegment ms, long from, long n, long maskAt, long keep) {
        long h = SEED ^ (n * MUL);
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            long w = ms.get(WORD, from + i);
            if (i == maskAt) w &= keep;
            h = (h ^ w) * MUL;
            h ^= h >>> 32;
        }
        if (i < n) {
            long w = ms.get(WORD, from + i) & ((1L << ((n - i) << 3)) - 1);
            if (i == maskAt) w &= keep;
            h = (h ^ w) * MUL;
            h ^= h >>> 32;
        }
        h ^= h >>> 33;
        h *= FIN;
        h ^= h >>> 33;
        int seal = (int) h;
        return seal == 0 ? 1 : seal;
    }

    /** The seal of bytes as if they were a block's covered range (for the test vectors). */
    public static int ofBytes(byte[] bytes) {
        long[] words = new long[(bytes.length + 7) / 8 + 1];
        MemorySegment ms = MemorySegment.ofArray(words);
        MemorySegment.copy(bytes, 0, ms, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return of(ms, 0, bytes.length, -1, 0);
    }

    // --- trailer seals (BLOB, INTERNED, META_SYMBOL) --------------------------------------

    /** Offset (from the block) of the trailer seal of a block whose layout ends at end. */
    public static long trailerOffset(long end) { return (end + TRAILER_ALIGNMENT - 1) & -TRAILER_ALIGNMENT; }

    /** Bytes a block whose layout ends at end needs with its trailer seal, header included. */
    public static long withTrailer(long end) { return trailerOffset(end) + SEAL_LENGTH; }

    /** Seals block b, whose layout (written) covers [8, end), in its trailer. */
    public static void sealTrailer(Segment s, long b, long end) {
        s.putInt(b + trailerOffset(end), of(s, b, AllocatorDescriptor.BLOCK_HEADER_LENGTH, end, -1, 0));
    }

    /** Checks the trailer seal of block b (of this type), whose block holds the layout up to end and the trailer. */
    public static void checkTrailer(Segment s, long b, int type, long end) {
        long hd = s.header(b, "a sealed block");
        s.within(b, hd, b, withTrailer(end), "a block holding its layout and its seal");
        int stored = s.getInt(b + trailerOffset(end));
        int computed = of(s, b, AllocatorDescriptor.BLOCK_HEADER_LENGTH, end, -1, 0);
        if (stored != computed) throw mismatch(s, b, type, stored, computed);
    }

    // --- errors -----------------------------------------------------------------------

    /** The damage of block b (of this type) whose stored seal is not the one its contents give. */
    public static RuntimeException mismatch(Segment s, long b, int type, int stored, int computed) {
        return Damage.seal(s, b, type, "a block whose seal matches its contents (stored 0x" + Integer.toHexString(stored)
            + ", computed 0x" + Integer.toHexString(computed) + ")", stored, computed);
    }

    /** The damage of a node reachable from a published version that carries no seal. */
    public static RuntimeException unsealed(Segment s, long b, int type, long word) {
        return Damage.seal(s, b, type, "a sealed node (a node reachable from a published version carries a seal), found the "
            + "unsealed word 0x" + Long.toHexString(word), 0, 0);
    }
}
