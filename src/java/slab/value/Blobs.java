package slab.value;

import static slab.value.BlobDescriptor.*;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.UUID;

import clojure.lang.Ratio;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;

/**
 * Reading blobs (layout in {@link BlobDescriptor}) from untrusted offsets:
 * each blob is checked to be a live BLOB block, and every length in it
 * against that block before anything is allocated or copied, so a damaged
 * length is reported instead of reading past the block or sizing an array
 * by it.
 */
final class Blobs {
    private Blobs() {}

    /** The length word of string blob b after checking that its chars fit the block. */
    static int stringLength(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a string blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.STRING);
        int len = s.getInt(b + LENGTH_OFFSET);
        long chars = len & ~UTF16_FLAG;
        s.within(b, hd, b + STRING_DATA_OFFSET, (len & UTF16_FLAG) != 0 ? 2 * chars : chars, "a string blob's chars");
        return len;
    }

    static String string(Segment s, long b) {
        int len = stringLength(s, b);
        return Strings.readAt(s, b + STRING_DATA_OFFSET, (len & UTF16_FLAG) != 0, len & ~UTF16_FLAG);
    }

    /** The hash every blob keeps beside its data. */
    static int hash(Segment s, long b) {
        s.block(b, BlockTypes.BLOB, "a blob");
        return s.getInt(b + HASH_OFFSET);
    }

    static BigInteger bigInteger(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a big-integer blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.BIGINT);
        return new BigInteger(bytes(s, b, hd, b + BIGINT_DATA_OFFSET, s.getInt(b + LENGTH_OFFSET), "a big integer's bytes"));
    }

    static BigDecimal bigDecimal(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a big-decimal blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.BIGDECIMAL);
        byte[] unscaled = bytes(s, b, hd, b + BIGDEC_DATA_OFFSET, s.getInt(b + LENGTH_OFFSET), "a big decimal's bytes");
        return new BigDecimal(new BigInteger(unscaled), s.getInt(b + BIGDEC_SCALE_OFFSET));
    }

    static Ratio ratio(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a ratio blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.RATIO);
        int p = s.getInt(b + LENGTH_OFFSET), q = s.getInt(b + RATIO_DEN_LENGTH_OFFSET);
        BigInteger num = new BigInteger(bytes(s, b, hd, b + RATIO_DATA_OFFSET, p, "a ratio's numerator"));
        BigInteger den = new BigInteger(bytes(s, b, hd, b + RATIO_DATA_OFFSET + p, q, "a ratio's denominator"));
        if (den.signum() <= 0) throw Damage.at(s, b, "a ratio blob with a positive denominator");
        return new Ratio(num, den);
    }

    static UUID uuid(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a UUID blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.UUID);
        s.within(b, hd, b, UUID_LENGTH, "a whole UUID blob");
        return new UUID(s.getLong(b + UUID_MSB_OFFSET), s.getLong(b + UUID_LSB_OFFSET));
    }

    static Instant instant(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "an instant blob");
        if (s.verifyOnRead) ValueSeals.checkBlob(s, b, Tags.INSTANT);
        s.within(b, hd, b, INSTANT_LENGTH, "a whole instant blob");
        long seconds = s.getLong(b + INSTANT_SECONDS_OFFSET);
        int nanos = s.getInt(b + INSTANT_NANOS_OFFSET);
        if (nanos < 0 || nanos > 999_999_999 || seconds < Instant.MIN.getEpochSecond() || seconds > Instant.MAX.getEpochSecond())
            throw Damage.at(s, b, "an instant blob within Instant's range, found " + seconds + " s and " + nanos + " ns");
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /** n (at least 1) bytes at from, inside the block at b: two's complement has no empty form. */
    private static byte[] bytes(Segment s, long b, long hd, long from, int n, String what) {
        if (n < 1) throw Damage.at(s, b, what + " (at least one byte), found length " + n);
        s.within(b, hd, from, n, what);
        byte[] out = new byte[n];
        s.readBytes(from, out, 0, n);
        return out;
    }
}
