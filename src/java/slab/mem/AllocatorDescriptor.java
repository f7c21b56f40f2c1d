package slab.mem;

/**
 * Layout of allocator metadata: the block header every block starts with,
 * and the per-size-class lines of the header's class table.
 *
 * <pre>
 * Block header, one little-endian 64-bit word at the block's offset:
 *
 *   63          48 47     40 39     32 31                            0
 *   +-------------+---------+---------+-------------------------------+
 *   | size class  |  state  |  type   |        reference count        |
 *   +-------------+---------+---------+-------------------------------+
 *
 * A free block keeps its class and state FREE; its next word (offset + 8)
 * holds the offset of the next free block of its class (0 ends the list).
 *
 * Class line i, at CLASS_TABLE_OFFSET + 64 * i:
 *   +0  free-list head: (version tag, 24 bits) << 40 | (block offset >>> 4)
 *   +8  blocks of this class in use (allocated and not yet freed)
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
    /** Blocks start on 16-byte boundaries; a free-list head stores offset >>> 4. */
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
    public static final int STATE_FREE = 0xF7;

    /** Free-list next pointer, stored in a free block's first payload word. */
    public static final int NEXT_FREE_OFFSET = BLOCK_HEADER_LENGTH;

    public static final int CLASS_LINE_LENGTH = 64;
    public static final int HEAD_OFFSET = 0;
    public static final int IN_USE_OFFSET = 8;

    public static final int TAG_SHIFT = 40;
    public static final long POINTER_MASK = (1L << TAG_SHIFT) - 1;

    /** Threads carve blocks up to this size from private chunks of CHUNK_LENGTH bytes. */
    public static final long CHUNKED_MAX = 2048;
    public static final long CHUNK_LENGTH = 64 * 1024;
    /** Backing store is committed ahead of the frontier in steps of this size. */
    public static final long COMMIT_STEP = 4L * 1024 * 1024;

    public static long header(int cls, int state, int type, long refcount) {
        return ((long) cls << CLASS_SHIFT) | ((long) state << STATE_SHIFT)
            | ((long) type << TYPE_SHIFT) | refcount;
    }

    public static int classOf(long header) { return (int) (header >>> CLASS_SHIFT); }
    public static int stateOf(long header) { return (int) (header >>> STATE_SHIFT) & 0xFF; }
    public static int typeOf(long header) { return (int) (header >>> TYPE_SHIFT) & 0xFF; }
    public static long refcountOf(long header) { return header & REFCOUNT_MASK; }

    public static long classLine(int cls) {
        return HeaderDescriptor.CLASS_TABLE_OFFSET + (long) cls * CLASS_LINE_LENGTH;
    }
}
