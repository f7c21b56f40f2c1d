package slab.value;

import java.math.BigInteger;
import java.util.Date;

import clojure.lang.BigInt;
import slab.mem.Damage;
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
            case Tags.NIL: return p == 0 ? null : notCanonical(h, tag, p);
            case Tags.FALSE: return p == 0 ? Boolean.FALSE : notCanonical(h, tag, p);
            case Tags.TRUE: return p == 0 ? Boolean.TRUE : notCanonical(h, tag, p);
            case Tags.LONG: return p;
            case Tags.DOUBLE: return Double.longBitsToDouble(p);
            case Tags.FLOAT: return p >>> 32 == 0 ? Float.intBitsToFloat((int) p) : notCanonical(h, tag, p);
            case Tags.CHAR: return p >>> 16 == 0 ? (char) p : notCanonical(h, tag, p);
            case Tags.BIGINT_SMALL: return BigInt.fromLong(p);
            case Tags.BIGINTEGER_SMALL: return BigInteger.valueOf(p);
            case Tags.DATE: return new Date(p);
            case Tags.KEYWORD: case Tags.SYMBOL: return h.interner().decode(p, tag);
            case Tags.STRING: return Blobs.string(h.segment(), p);
            case Tags.BIGINT: return BigInt.fromBigInteger(Blobs.bigInteger(h.segment(), p));
            case Tags.BIGINTEGER: return Blobs.bigInteger(h.segment(), p);
            case Tags.BIGDECIMAL: return Blobs.bigDecimal(h.segment(), p);
            case Tags.RATIO: return Blobs.ratio(h.segment(), p);
            case Tags.UUID: return Blobs.uuid(h.segment(), p);
            case Tags.INSTANT: return Blobs.instant(h.segment(), p);
            case Tags.SYMBOL_META: return MetaSymbols.decode(h, p);
            case Tags.MAP: case Tags.SET: case Tags.VECTOR: case Tags.LIST: case Tags.VECTOR_OF:
                return CollBlocks.decode(h, tag, p);
            default:
                if (Tags.isInlineString(tag)) {
                    int n = tag - Tags.STR_INLINE;
                    return n == 8 || p >>> (8 * n) == 0 ? Strings.unpackInline(p, n) : notCanonical(h, tag, p);
                }
                throw Damage.at(h.segment(), 0, "a slot with a known value tag, found tag " + tag);
        }
    }

    /**
     * Damage: a scalar payload with bits its tag keeps zero (FORMAT.md,
     * Slots). Such a slot is not one any writer makes; most often its tag
     * was damaged and the payload is another value's, such as an offset.
     */
    private static Object notCanonical(Heap h, int tag, long p) {
        throw Damage.at(h.segment(), 0, "a slot of tag " + tag + " whose payload keeps its unused bits zero, found 0x"
            + Long.toHexString(p));
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
}
