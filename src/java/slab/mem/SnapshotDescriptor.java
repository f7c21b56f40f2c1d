package slab.mem;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/**
 * Layout of the trailer that ends a snapshot file (slab/snapshot!): the
 * file is a complete segment cut off at its frontier, followed by these
 * bytes. All fields are little-endian.
 *
 * <pre>
 *   0                   8                  16                  24
 *   +-------------------+-------------------+-------------------+
 *   | magic "SLABSNP1"  |  covered length   |  CRC32C           |
 *   +-------------------+-------------------+-------------------+
 * </pre>
 *
 * The covered length is where the trailer starts: the segment's frontier,
 * so every block lies before it. The checksum is CRC32C (zero-extended to a
 * word) of every byte of the file before the checksum field: the whole
 * segment part, header included, and the trailer's magic and length. So one
 * flipped bit anywhere in the file is found before any offset in it is
 * trusted. A file whose last 24 bytes do not start with the magic is an
 * ordinary segment, whose length must equal its capacity.
 */
public final class SnapshotDescriptor {
    private SnapshotDescriptor() {}

    /** "SLABSNP1" read as a little-endian long. */
    public static final long TRAILER_MAGIC = 0x31504E53424C4153L;

    public static final int TRAILER_MAGIC_OFFSET;
    public static final int TRAILER_COVERED_OFFSET;
    public static final int TRAILER_CHECKSUM_OFFSET;
    public static final int TRAILER_LENGTH;

    static {
        int offset = 0;
        TRAILER_MAGIC_OFFSET = offset;    offset += 8;
        TRAILER_COVERED_OFFSET = offset;  offset += 8;
        TRAILER_CHECKSUM_OFFSET = offset; offset += 8;
        TRAILER_LENGTH = offset;
    }

    /** Bytes read per step of the checksum (a ByteBuffer view is at most 2 GiB). */
    private static final long CHUNK = 1L << 30;

    /**
     * CRC32C of bytes [0, len) of ms, as stored in the trailer (the JDK's
     * CRC32C uses the CPU's crc32 instructions: gigabytes per second).
     */
    public static long checksum(MemorySegment ms, long len) {
        CRC32C crc = new CRC32C();
        for (long at = 0; at < len; at += CHUNK) {
            crc.update(ms.asSlice(at, Math.min(CHUNK, len - at)).asByteBuffer());
        }
        return crc.getValue();
    }

    /** How many bytes of a snapshot file of covered segment bytes the checksum covers. */
    public static long checkedLength(long covered) { return covered + TRAILER_CHECKSUM_OFFSET; }
}
