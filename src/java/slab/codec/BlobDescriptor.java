package slab.codec;

import slab.mem.AllocatorDescriptor;

/**
 * Layouts of the blocks the codec writes besides nodes. Offsets are from the
 * block's start; every block begins with the 8-byte allocator header.
 *
 * <pre>
 * String blob (tag STRING):
 *   8  hasheq (int)    12  length in chars, bit 31 set when UTF-16LE (int)
 *   16 chars: Latin-1 bytes, or UTF-16LE code units
 *
 * Big-integer blob (BIGINT, BIGINTEGER):
 *   8  hasheq (int)    12  byte length (int)    16 two's-complement, big-endian
 *
 * Big-decimal blob (BIGDECIMAL):
 *   8  hasheq  12 byte length  16 scale (int)  20 (pad)  24 unscaled value bytes
 *
 * Ratio blob (RATIO):
 *   8  hasheq  12 numerator length  16 denominator length  20 (pad)
 *   24 numerator bytes, then denominator bytes
 *
 * UUID blob: 8 hasheq  16 most significant bits  24 least significant bits
 * Instant blob: 8 hasheq  12 nanos (int)  16 epoch seconds (long)
 *
 * Interned keyword or symbol (never freed):
 *   8  next in bucket chain (offset)   16 hasheq (int)
 *   20 kind: 1 keyword, 2 symbol (byte)  21 encoding: 0 Latin-1, 1 UTF-16LE (byte)
 *   24 namespace length in chars, -1 for none (int)   28 name length (int)
 *   32 namespace chars then name chars
 *
 * Intern table (one block, offset in the header's intern-table word):
 *   8  INTERN_BUCKETS bucket heads (offsets of interned blocks, 0 = empty);
 *      a keyword or symbol with hasheq h lives in chain h & (INTERN_BUCKETS - 1)
 *
 * Box (the value a named root or atom publishes):
 *   8  tag (byte)   16 payload (counted if the tag is)
 *
 * Cell (an anonymous atom's word): 8 box offset
 *
 * Collection block (tags MAP, SET, VECTOR, LIST):
 *   8  kind: the slot tag (byte)   9 metadata tag (byte)   10 vector shift (byte)
 *   12 hasheq (int)   16 count (long)   24 root node (offset, counted, 0 = empty)
 *   32 vector tail node (offset, counted, 0 = none)   40 metadata payload
 * </pre>
 */
public final class BlobDescriptor {
    private BlobDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    public static final int HASH_OFFSET = HEADER;              // every blob keeps its hasheq here
    public static final int LENGTH_OFFSET = HEADER + 4;
    public static final int STRING_DATA_OFFSET = 16;
    public static final int UTF16_FLAG = 0x8000_0000;

    public static final int BIGINT_DATA_OFFSET = 16;

    public static final int BIGDEC_SCALE_OFFSET = 16;
    public static final int BIGDEC_DATA_OFFSET = 24;

    public static final int RATIO_DEN_LENGTH_OFFSET = 16;
    public static final int RATIO_DATA_OFFSET = 24;

    public static final int UUID_MSB_OFFSET = 16;
    public static final int UUID_LSB_OFFSET = 24;
    public static final int UUID_LENGTH = 32;

    public static final int INSTANT_NANOS_OFFSET = 12;
    public static final int INSTANT_SECONDS_OFFSET = 16;
    public static final int INSTANT_LENGTH = 24;

    public static final int INTERN_NEXT_OFFSET = 8;
    public static final int INTERN_HASH_OFFSET = 16;
    public static final int INTERN_KIND_OFFSET = 20;
    public static final int INTERN_ENCODING_OFFSET = 21;
    public static final int INTERN_NS_LENGTH_OFFSET = 24;
    public static final int INTERN_NAME_LENGTH_OFFSET = 28;
    public static final int INTERN_DATA_OFFSET = 32;
    public static final int INTERN_KEYWORD = 1;
    public static final int INTERN_SYMBOL = 2;
    /** Bucket heads in the intern table, a power of two; they start at HEADER. */
    public static final int INTERN_BUCKETS = 1 << 14;

    public static final int BOX_TAG_OFFSET = 8;
    public static final int BOX_PAYLOAD_OFFSET = 16;
    public static final int BOX_LENGTH = 24;
    public static final int CELL_WORD_OFFSET = 8;
    public static final int CELL_LENGTH = 16;

    public static final int COLL_KIND_OFFSET = 8;
    public static final int COLL_META_TAG_OFFSET = 9;
    public static final int COLL_SHIFT_OFFSET = 10;
    public static final int COLL_HASH_OFFSET = 12;
    public static final int COLL_COUNT_OFFSET = 16;
    public static final int COLL_ROOT_OFFSET = 24;
    public static final int COLL_TAIL_OFFSET = 32;
    public static final int COLL_META_OFFSET = 40;
    public static final int COLL_LENGTH = 48;
}
