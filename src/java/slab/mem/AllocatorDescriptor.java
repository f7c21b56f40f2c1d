package slab.mem;

/**
 * Layout of allocator metadata: the block header every block starts with,
 * the page table's words, the header of a span, and the record at the start
 * of a free run of pages.
 *
 * <pre>
 * Block header, one little-endian 64-bit word at the block's offset:
 *
 *   63          48 47     40 39     32 31                            0
 *   +-------------+---------+---------+-------------------------------+
 *   | size class  |  state  |  type   |        reference count        |
 *   +-------------+---------+---------+-------------------------------+
 *
 * A free block's next word (offset + 8) links it into its span's local free
 * list (state FREE) or remote stack (state REMOTE).
 *
 * Page word, one per PAGE_LENGTH page of the heap, in the page table:
 *
 *   63      56 55            40 39     32 31                            0
 *   +---------+----------------+---------+-------------------------------+
 *   |  kind   |   size class   |    0    |  pages (head) / distance      |
 *   +---------+----------------+---------+-------------------------------+
 *
 * Span header, SPAN_HEADER_LENGTH bytes at the start of a span's first page:
 *   +0  owner: the owning process's owner word, 0 if abandoned
 *   +8  remote stack head: offset of the last block freed here by a thread
 *       of another arena or process, 0 if none
 *   +16 used: blocks not on the local free list (owner only)
 *   +24 local free list head (owner only)
 *   +32 bump: blocks at and above it were never used (owner only)
 *   +40 arena: which allocator object and arena of the owner (meaningful to the owner only)
 *
 * Free run record, at the start of a free run's first page (and, for a run
 * of more than one page, its length again at the start of its last page):
 *   +0 pages in the run, +8 next run in its bin, +16 previous run in its bin
 * </pre>
 *
 * The reference count sits in the low half so that one atomic add on the
 * whole word changes it; the state byte lets every count change check that
 * the block is live, so a stale offset is caught rather than corrupting a
 * block that has been reused.
 */
public final class AllocatorDescriptor {
    private AllocatorDescriptor() {}

    public static final int BLOCK_HEADER_LENGTH = 8;
    /** Blocks start on 16-byte boundaries. */
    public static final int ALIGNMENT = 16;
    public static final int ALIGNMENT_SHIFT = 4;

    public static final int REFCOUNT_BITS = 32;
    public static final int TYPE_SHIFT = 32;
    public static final int STATE_SHIFT = 40;
    public static final int CLASS_SHIFT = 48;
    public static final long REFCOUNT_MASK = 0xFFFF_FFFFL;
    /** The type byte alone, for readers that need only the type (the word is little-endian). */
    public static final int TYPE_BYTE_OFFSET = TYPE_SHIFT / 8;

    public static final int STATE_LIVE = 0xA1;
    /** On its span's local free list (or, at or above the span's bump, never used). */
    public static final int STATE_FREE = 0xF7;
    /** Freed by another arena or process: on its span's remote stack, or about to be pushed there. */
    public static final int STATE_REMOTE = 0x8E;

    /** Free-list next pointer, stored in a free block's first payload word. */
    public static final int NEXT_FREE_OFFSET = BLOCK_HEADER_LENGTH;

    // --- pages ---------------------------------------------------------------------------

    /** The unit the heap is divided into: small blocks live in spans of pages, large blocks in runs. */
    public static final long PAGE_LENGTH = 16 * 1024;
    public static final int PAGE_SHIFT = 14;
    public static final int PAGE_WORD_LENGTH = 8;

    public static final int PAGE_KIND_SHIFT = 56;
    public static final int PAGE_CLASS_SHIFT = 40;
    public static final long PAGE_COUNT_MASK = 0xFFFF_FFFFL;
    /** Never used: at or above the frontier. */
    public static final int PAGE_UNUSED = 0;
    /** Part of a free run. */
    public static final int PAGE_FREE = 0x11;
    /** First page of a span of small blocks; the count is the span's pages. */
    public static final int PAGE_SPAN = 0x22;
    /** First page of a large block; the count is the run's pages. */
    public static final int PAGE_LARGE = 0x33;
    /** Any later page of a span or large block; the count is the distance to its first page. */
    public static final int PAGE_INNER = 0x44;

    /** Backing store is committed ahead of the frontier in steps of this size. */
    public static final long COMMIT_STEP = 4L * 1024 * 1024;

    /** Free runs are kept in bins by floor(log2(pages)). */
    public static final int BINS = 40;

    // --- spans -------------------------------------------------------------------------------

    public static final int SPAN_OWNER_OFFSET = 0;
    public static final int SPAN_REMOTE_OFFSET = 8;
    public static final int SPAN_USED_OFFSET = 16;
    public static final int SPAN_LOCAL_OFFSET = 24;
    public static final int SPAN_BUMP_OFFSET = 32;
    public static final int SPAN_ARENA_OFFSET = 40;
    public static final int SPAN_HEADER_LENGTH = 64;

    /** Blocks up to this size (header included) live in spans; larger ones take runs of pages. */
    public static final long SPAN_MAX_BLOCK = 16 * 1024;
    /** A span has room for about this many blocks of its class (the span header takes a little). */
    public static final int SPAN_MIN_BLOCKS = 8;

    // --- free runs -----------------------------------------------------------------------------

    public static final int RUN_PAGES_OFFSET = 0;
    public static final int RUN_NEXT_OFFSET = 8;
    public static final int RUN_PREV_OFFSET = 16;

    public static long header(int cls, int state, int type, long refcount) {
        return ((long) cls << CLASS_SHIFT) | ((long) state << STATE_SHIFT)
            | ((long) type << TYPE_SHIFT) | refcount;
    }

    public static int classOf(long header) { return (int) (header >>> CLASS_SHIFT); }
    public static int stateOf(long header) { return (int) (header >>> STATE_SHIFT) & 0xFF; }
    public static int typeOf(long header) { return (int) (header >>> TYPE_SHIFT) & 0xFF; }
    public static long refcountOf(long header) { return header & REFCOUNT_MASK; }

    public static long pageWord(int kind, int cls, long count) {
        return ((long) kind << PAGE_KIND_SHIFT) | ((long) cls << PAGE_CLASS_SHIFT) | count;
    }

    public static int pageKind(long word) { return (int) (word >>> PAGE_KIND_SHIFT); }
    public static int pageClass(long word) { return (int) (word >>> PAGE_CLASS_SHIFT) & 0xFFFF; }
    public static long pageCount(long word) { return word & PAGE_COUNT_MASK; }

    /** Pages in a span of class cls: SPAN_MIN_BLOCKS blocks' worth, rounded up to whole pages. */
    public static int spanPages(int cls) {
        long need = SPAN_MIN_BLOCKS * SizeClasses.sizeOf(cls);
        return (int) ((need + PAGE_LENGTH - 1) >>> PAGE_SHIFT);
    }

    /** Blocks of class cls in one span. */
    public static int spanBlocks(int cls) {
        return cls >= 0 && cls < SizeClasses.COUNT ? SPAN_BLOCKS[cls] : computeSpanBlocks(cls);
    }

    private static int computeSpanBlocks(int cls) {
        return (int) ((spanPages(cls) * PAGE_LENGTH - SPAN_HEADER_LENGTH) / SizeClasses.sizeOf(cls));
    }

    // Every free and every bump asks a span's geometry: tables, so that neither divides
    // (a 64-bit division costs tens of cycles).
    private static final int[] SPAN_BLOCKS = new int[SizeClasses.COUNT];
    private static final long[] SPAN_BLOCK_BYTES = new long[SizeClasses.COUNT];
    private static final long[] MULTIPLE_OF = new long[SizeClasses.COUNT];
    static {
        for (int c = 0; c < SizeClasses.COUNT; c++) {
            SPAN_BLOCKS[c] = computeSpanBlocks(c);
            SPAN_BLOCK_BYTES[c] = SPAN_BLOCKS[c] * SizeClasses.sizeOf(c);
            MULTIPLE_OF[c] = Long.divideUnsigned(-1L, SizeClasses.sizeOf(c)) + 1;   // ceil(2^64 / size)
        }
    }

    /** Bytes the blocks of a span of class cls take (after the span header). */
    public static long spanBlockBytes(int cls) {
        return cls >= 0 && cls < SizeClasses.COUNT ? SPAN_BLOCK_BYTES[cls] : (long) computeSpanBlocks(cls) * SizeClasses.sizeOf(cls);
    }

    /**
     * Whether x, a distance into a span's blocks, is a whole number of class
     * cls's blocks: for 0 <= x < 2^32, x times ceil(2^64 / size) wraps to
     * below that factor exactly for multiples (Lemire, Kaser and Kurz,
     * "Faster remainder by direct computation", 2019), with no division.
     * Any other x divides; a class that does not exist starts no block.
     */
    public static boolean isBlockStart(long x, int cls) {
        if (cls < 0 || cls >= SizeClasses.COUNT) return false;
        if (x >>> 32 != 0) return x % SizeClasses.sizeOf(cls) == 0;
        long c = MULTIPLE_OF[cls];
        return Long.compareUnsigned(x * c, c - 1) <= 0;
    }

    /** Is class cls served from spans (else from runs of pages)? */
    public static boolean isSmall(int cls) { return SizeClasses.sizeOf(cls) <= SPAN_MAX_BLOCK; }

    /** Pages a large block of class cls takes. */
    public static long largePages(int cls) {
        return (SizeClasses.sizeOf(cls) + PAGE_LENGTH - 1) >>> PAGE_SHIFT;
    }
}
