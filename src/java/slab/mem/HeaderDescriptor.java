package slab.mem;

import java.util.function.IntFunction;

/**
 * Layout of the segment header: the first {@link #HEADER_LENGTH} bytes of
 * every segment. All multi-byte fields are little-endian.
 *
 * <pre>
 *   0                   8                  16                  24
 *   +-------------------+---------+--------+-------------------+
 *   | magic "SLABSEG1"  | version | hdrLen |     capacity      |
 *   +---------+---------+---------+--------+-------------------+
 *   | mapBits | vecBits | classes | pageSz |   createdMillis   |
 *   +---------+---------+---------+--------+-------------------+
 *   |  checksum of bytes 0..48  |   (reserved to 64)           |
 *   +-----------------------------------------------------------+ 64
 *   | allocator words, one per cache line (frontier, commit     |
 *   | claim, committed, next edit id), then the offsets of the   |
 *   | intern table, root table and process table, the sweep word,|
 *   | the page pool's lock word and abandoned-span count, then   |
 *   | the heads of the free-run bins (see AllocatorDescriptor),  |
 *   | the lineage lock, then the foreign-reader table            |
 *   +-----------------------------------------------------------+ HEADER_LENGTH
 *   | the page table: one word per page of the heap              |
 *   +-----------------------------------------------------------+ heapBase(capacity)
 *   | the heap: pages of PAGE_LENGTH bytes                       |
 * </pre>
 *
 * The fixed part (bytes 0..48) never changes after creation and is covered
 * by the checksum, so a damaged or foreign file is refused before any offset
 * in it is trusted.
 */
public final class HeaderDescriptor {
    private HeaderDescriptor() {}

    /** "SLABSEG1" read as a little-endian long. */
    public static final long MAGIC = 0x3147455342414C53L;
    /** 4: the foreign-reader table in the header (3 had none; its readers could not pin safely). */
    public static final int FORMAT_VERSION = 6;
    public static final int CACHE_LINE = 64;

    public static final int MAGIC_OFFSET;
    public static final int VERSION_OFFSET;
    public static final int HEADER_LENGTH_OFFSET;
    public static final int CAPACITY_OFFSET;
    public static final int MAP_BITS_OFFSET;
    public static final int VEC_BITS_OFFSET;
    public static final int CLASS_COUNT_OFFSET;
    public static final int PAGE_SIZE_OFFSET;
    public static final int CREATED_OFFSET;
    public static final int CHECKSUM_OFFSET;
    /** Bytes covered by the checksum: everything before it. */
    public static final int FIXED_LENGTH;

    public static final int FRONTIER_OFFSET;
    public static final int COMMIT_CLAIM_OFFSET;
    public static final int COMMITTED_OFFSET;
    public static final int NEXT_EDIT_OFFSET;
    public static final int INTERN_TABLE_OFFSET;
    public static final int ROOT_TABLE_OFFSET;
    public static final int PROCESS_TABLE_OFFSET;
    public static final int SWEEP_OFFSET;
    public static final int POOL_LOCK_OFFSET;
    public static final int ABANDONED_OFFSET;
    public static final int PRESSURE_OFFSET;
    public static final int POOL_BINS_OFFSET;
    public static final int LINEAGE_LOCK_OFFSET;
    /** The foreign-reader table: slots for processes that read without allocating (slab.share.ReaderDescriptor). */
    public static final int READERS_OFFSET;
    /** Bytes of the header the reader table may use (it ends at HEADER_LENGTH). */
    public static final int READERS_LENGTH;

    public static final int PAGE_SIZE = 4096;
    /** Bytes reserved for the header; the first block starts here. */
    public static final int HEADER_LENGTH;

    static {
        int offset = 0;
        MAGIC_OFFSET = offset;         offset += 8;
        VERSION_OFFSET = offset;       offset += 4;
        HEADER_LENGTH_OFFSET = offset; offset += 4;
        CAPACITY_OFFSET = offset;      offset += 8;
        MAP_BITS_OFFSET = offset;      offset += 4;
        VEC_BITS_OFFSET = offset;      offset += 4;
        CLASS_COUNT_OFFSET = offset;   offset += 4;
        PAGE_SIZE_OFFSET = offset;     offset += 4;
        CREATED_OFFSET = offset;       offset += 8;
        FIXED_LENGTH = offset;
        CHECKSUM_OFFSET = offset;      offset += 8;

        // Words that threads update each get a cache line, so CAS traffic
        // on one does not slow readers of another.
        offset = CACHE_LINE;
        FRONTIER_OFFSET = offset;      offset += CACHE_LINE;
        COMMIT_CLAIM_OFFSET = offset;  offset += 8;
        COMMITTED_OFFSET = offset;     offset += CACHE_LINE - 8;
        NEXT_EDIT_OFFSET = offset;     offset += CACHE_LINE;
        INTERN_TABLE_OFFSET = offset;  offset += 8;
        ROOT_TABLE_OFFSET = offset;    offset += 8;
        PROCESS_TABLE_OFFSET = offset; offset += 8;
        SWEEP_OFFSET = offset;         offset += CACHE_LINE - 24;
        POOL_LOCK_OFFSET = offset;     offset += 8;
        ABANDONED_OFFSET = offset;     offset += 8;
        PRESSURE_OFFSET = offset;      offset += CACHE_LINE - 16;
        POOL_BINS_OFFSET = offset;
        offset += AllocatorDescriptor.BINS * 8;
        offset = (offset + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
        LINEAGE_LOCK_OFFSET = offset;  offset += CACHE_LINE;
        // Foreign readers need slots that exist from creation on: they cannot
        // allocate, so their table lives in the header page itself.
        READERS_OFFSET = offset;
        HEADER_LENGTH = (offset + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        READERS_LENGTH = HEADER_LENGTH - READERS_OFFSET;
    }

    /** The page table starts right after the header: one word per page of the heap. */
    public static final int PAGE_TABLE_OFFSET = HEADER_LENGTH;

    /** Where the heap (page 0) starts in a segment of this capacity: after the page table, file-page aligned. */
    public static long heapBase(long capacity) {
        long maxPages = (capacity - HEADER_LENGTH) >>> AllocatorDescriptor.PAGE_SHIFT;
        long end = HEADER_LENGTH + maxPages * AllocatorDescriptor.PAGE_WORD_LENGTH;
        return (end + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    }

    /** Pages in the heap of a segment of this capacity. */
    public static long pages(long capacity) {
        return (capacity - heapBase(capacity)) >>> AllocatorDescriptor.PAGE_SHIFT;
    }

    /** FNV-1a over the fixed fields of a finished header, so any flipped byte there is detected. */
    public static long checksum(Segment s) { return checksum(s::getByte); }

    /**
     * FNV-1a over bytes 0 .. FIXED_LENGTH, read through {@code byteAt}. The
     * magic is part of it: a header being created must supply the magic's
     * bytes here, because the magic itself is written last.
     */
    public static long checksum(IntFunction<Byte> byteAt) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < FIXED_LENGTH; i++) {
            h ^= (byteAt.apply(i) & 0xFF);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Byte i of the magic, as it lies in the file (little-endian). */
    public static byte magicByte(int i) { return (byte) (MAGIC >>> (8 * i)); }
}
