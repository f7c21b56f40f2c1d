package slab.mem;

/**
 * The allocator's block sizes. A block's size includes its 8-byte header.
 *
 * <p>Classes 0..31 are 16, 32, ... 512 bytes (16-byte steps, so map nodes
 * and vector nodes fit with little waste). From 512 bytes on, each doubling
 * has four classes (640, 768, 896, 1024, 1280, ...), so rounding wastes at
 * most a quarter; above 16 KiB every class is a whole number of 4 KiB pages.
 * The last class is 2^40 bytes, the largest capacity a segment may have.
 */
public final class SizeClasses {
    private SizeClasses() {}

    public static final int SMALL_STEP = 16;
    public static final int SMALL_COUNT = 32;
    public static final long SMALL_MAX = SMALL_STEP * SMALL_COUNT;   // 512
    public static final int LOG_MAX = 40;
    public static final long MAX_BLOCK = 1L << LOG_MAX;
    public static final int COUNT = SMALL_COUNT + (LOG_MAX - 9) * 4;   // 156

    /** The smallest class whose blocks hold {@code size} bytes (header included). */
    public static int classFor(long size) {
        if (size <= SMALL_MAX) return size <= SMALL_STEP ? 0 : (int) ((size + SMALL_STEP - 1) >>> 4) - 1;
        long s = size - 1;
        int lg = 63 - Long.numberOfLeadingZeros(s);          // 2^lg <= s < 2^(lg+1)
        int quarter = (int) ((s >>> (lg - 2)) & 3);
        return SMALL_COUNT + (lg - 9) * 4 + quarter;
    }

    /** sizeOf of every class, so the read path's block checks cost one load. */
    private static final long[] SIZES = new long[COUNT];
    static {
        for (int c = 0; c < COUNT; c++) SIZES[c] = computeSize(c);
    }

    /** A class's block size; a class at or past COUNT (a damaged header) has none a reader may use. */
    public static long sizeOf(int cls) {
        return cls >= 0 && cls < COUNT ? SIZES[cls] : computeSize(cls);
    }

    private static long computeSize(int cls) {
        if (cls < SMALL_COUNT) return (long) (cls + 1) * SMALL_STEP;
        int k = cls - SMALL_COUNT;
        int lg = 9 + k / 4;
        return (1L << lg) + (long) (k % 4 + 1) * (1L << (lg - 2));
    }
}
