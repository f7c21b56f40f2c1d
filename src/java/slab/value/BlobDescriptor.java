package slab.value;

import slab.mem.AllocatorDescriptor;

/**
 * Layouts of the blob blocks (block type BLOB) the value codec writes for
 * counted scalars: long strings, big numbers, ratios, UUIDs and instants.
 * Offsets are from the block's start; every block begins with the 8-byte
 * allocator header, and every blob keeps its value's hasheq right after it.
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
}
