package slab.value;

import static slab.value.BlobDescriptor.*;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import clojure.lang.BigInt;
import clojure.lang.Ratio;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;

/**
 * Turns slots back into Clojure values. A decoded value is = to what was
 * stored; a nested collection comes back as a handle on its version, either
 * owning its own counts ({@link #decode}) or borrowing those of the version
 * it was read from ({@link #decodeIn}).
 */
public final class Decoder {
    private Decoder() {}

    /** The value of a slot; a nested collection gets a handle that owns its own counts. */
    public static Object decode(Heap h, int tag, long p) {
        switch (tag) {
            case Tags.NIL: return null;
            case Tags.FALSE: return Boolean.FALSE;
            case Tags.TRUE: return Boolean.TRUE;
            case Tags.LONG: return p;
            case Tags.DOUBLE: return Double.longBitsToDouble(p);
            case Tags.FLOAT: return Float.intBitsToFloat((int) p);
            case Tags.CHAR: return (char) p;
            case Tags.BIGINT_SMALL: return BigInt.fromLong(p);
            case Tags.BIGINTEGER_SMALL: return BigInteger.valueOf(p);
            case Tags.DATE: return new Date(p);
            case Tags.KEYWORD: case Tags.SYMBOL: return h.interner().decode(p);
            case Tags.STRING: return readString(h.segment(), p);
            case Tags.BIGINT: return BigInt.fromBigInteger(readBigInteger(h.segment(), p));
            case Tags.BIGINTEGER: return readBigInteger(h.segment(), p);
            case Tags.BIGDECIMAL: return readBigDecimal(h.segment(), p);
            case Tags.RATIO: return readRatio(h.segment(), p);
            case Tags.UUID: {
                Segment s = h.segment();
                return new UUID(s.getLong(p + UUID_MSB_OFFSET), s.getLong(p + UUID_LSB_OFFSET));
            }
            case Tags.INSTANT: {
                Segment s = h.segment();
                return Instant.ofEpochSecond(s.getLong(p + INSTANT_SECONDS_OFFSET), s.getInt(p + INSTANT_NANOS_OFFSET));
            }
            case Tags.SYMBOL_META: return MetaSymbols.decode(h, p);
            case Tags.MAP: case Tags.SET: case Tags.VECTOR: case Tags.LIST: case Tags.VECTOR_OF:
                return CollBlocks.decode(h, tag, p);
            default:
                if (Tags.isInlineString(tag)) return Strings.unpackInline(p, tag - Tags.STR_INLINE);
                throw new IllegalStateException("slab: unknown value tag " + tag + " (damaged node?)");
        }
    }

    /**
     * decode for a slot read out of parent's version: a nested collection
     * comes back as a handle borrowing parent's counts, which costs no count,
     * no Cleaner registration and no ledger record. parent null decodes as
     * {@link #decode} does.
     */
    public static Object decodeIn(Heap h, Handle parent, int tag, long p) {
        if (parent == null) return decode(h, tag, p);
        if (tag == Tags.SYMBOL_META) return MetaSymbols.decodeIn(h, parent, p);
        if (!Tags.isCollection(tag)) return decode(h, tag, p);
        return CollBlocks.decodeIn(parent, tag, p);
    }

    private static String readString(Segment s, long b) {
        int len = s.getInt(b + LENGTH_OFFSET);
        boolean utf16 = (len & UTF16_FLAG) != 0;
        return Strings.readAt(s, b + STRING_DATA_OFFSET, utf16, len & ~UTF16_FLAG);
    }

    private static BigInteger readBigInteger(Segment s, long b) {
        byte[] bytes = new byte[s.getInt(b + LENGTH_OFFSET)];
        s.readBytes(b + BIGINT_DATA_OFFSET, bytes, 0, bytes.length);
        return new BigInteger(bytes);
    }

    private static BigDecimal readBigDecimal(Segment s, long b) {
        byte[] bytes = new byte[s.getInt(b + LENGTH_OFFSET)];
        s.readBytes(b + BIGDEC_DATA_OFFSET, bytes, 0, bytes.length);
        return new BigDecimal(new BigInteger(bytes), s.getInt(b + BIGDEC_SCALE_OFFSET));
    }

    private static Ratio readRatio(Segment s, long b) {
        byte[] num = new byte[s.getInt(b + LENGTH_OFFSET)];
        byte[] den = new byte[s.getInt(b + RATIO_DEN_LENGTH_OFFSET)];
        s.readBytes(b + RATIO_DATA_OFFSET, num, 0, num.length);
        s.readBytes(b + RATIO_DATA_OFFSET + num.length, den, 0, den.length);
        return new Ratio(new BigInteger(num), new BigInteger(den));
    }
}
