package slab.value;

import static slab.value.BlobDescriptor.*;

import java.math.BigInteger;

import clojure.lang.BigInt;
import clojure.lang.Keyword;
import clojure.lang.Symbol;
import clojure.lang.Util;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;

/**
 * Clojure's = between stored slots and on-heap values, and between two
 * stored slots of one segment. Scalar keys compare without allocating, so
 * lookups of scalar keys stay off the heap; two collections of one segment
 * compare node against node (see {@link CollBlocks#equal}).
 */
public final class Equality {
    private Equality() {}

    /** Whether a stored slot equals an on-heap value under Clojure's =; no allocation for scalar keys. */
    public static boolean equalsValue(Heap h, int tag, long p, Object v) { return equalsValue(h, null, tag, p, v); }

    /**
     * equalsValue for a slot of parent's version: a nested collection is
     * compared through a handle borrowing parent's counts (no count, no Cleaner).
     */
    public static boolean equalsValue(Heap h, Handle parent, int tag, long p, Object v) {
        // The commonest keys first, in a method small enough to inline into every probe.
        if (tag == Tags.LONG && v instanceof Long l) return l == p;
        // Keywords are interned on the heap as in the segment: the stored keyword (decoded
        // once, then read from the interner's offset table) is identical to an equal probe.
        // No intern-table lookup per probe, and none for a keyword the segment never stored.
        if (tag == Tags.KEYWORD) return v instanceof Keyword && h.interner().decode(p, Tags.KEYWORD) == v;
        return equalsAny(h, parent, tag, p, v);
    }

    /**
     * equalsValue of a probe key whose interned offset may be known (kwOff: a
     * keyword's, from {@link Interner#knownOffset} or the key's encoding; 0
     * when not known). A keyword slot holding that offset is the probe, with
     * nothing to decode or check. Any other slot is compared as equalsValue
     * does, which checks what it reads: a slot is compared only when its
     * entry's hash is the probe's, so that is rare in a sound map (another
     * keyword of the same hash), and in a damaged one it is what reports a
     * slot naming no interned block, or finds a name the damage gave a
     * second block.
     */
    public static boolean equalsKey(Heap h, int tag, long p, Object key, long kwOff) {
        return (p == kwOff && kwOff != 0 && tag == Tags.KEYWORD) || equalsValue(h, null, tag, p, key);
    }

    /** The offset a probe key's keyword slots would hold, if known to this process (for equalsKey). */
    public static long knownOffset(Heap h, Object key) {
        return key instanceof Keyword k ? h.interner().knownOffset(k) : 0;
    }

    /** equalsValue for every tag but KEYWORD, which it answers itself. */
    private static boolean equalsAny(Heap h, Handle parent, int tag, long p, Object v) {
        switch (tag) {
            case Tags.NIL: return v == null;
            case Tags.FALSE: return v == Boolean.FALSE || (v instanceof Boolean b && !b);
            case Tags.TRUE: return v == Boolean.TRUE || (v instanceof Boolean b && b);
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL:
                if (v instanceof Long l) return l == p;
                if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue() == p;
                if (v instanceof BigInt bi) return bi.bipart == null && bi.lpart == p;
                if (v instanceof BigInteger bi) return bi.bitLength() < 64 && bi.longValue() == p;
                return false;
            case Tags.SYMBOL: return v instanceof Symbol && h.interner().decode(p, Tags.SYMBOL).equals(v);
            case Tags.SYMBOL_META:
                return v instanceof Symbol && h.interner().decode(MetaSymbols.symbolOffset(h.segment(), tag, p), Tags.SYMBOL).equals(v);
            case Tags.DOUBLE:
                return (v instanceof Double || v instanceof Float) && sameFloating(Double.longBitsToDouble(p), ((Number) v).doubleValue());
            case Tags.FLOAT:
                return (v instanceof Double || v instanceof Float) && sameFloating(Float.intBitsToFloat((int) p), ((Number) v).doubleValue());
            case Tags.CHAR: return v instanceof Character c && c == (char) p;
            case Tags.STRING: {
                if (!(v instanceof String str)) return false;
                Segment s = h.segment();
                int len = Blobs.stringLength(s, p);
                return (len & ~UTF16_FLAG) == str.length() && Strings.equalsAt(s, p + STRING_DATA_OFFSET, (len & UTF16_FLAG) != 0, str);
            }
            default:
                if (Tags.isInlineString(tag)) return v instanceof String str && Strings.inlineEquals(p, tag - Tags.STR_INLINE, str);
                if (v == null || v instanceof Keyword || v instanceof String || v instanceof Long) return false;
                // A list reads back as a heap list, whose = would compare a stored NaN by
                // identity; compared as stored, it keeps the NaN rule, as vectors do.
                if (tag == Tags.LIST) return CollBlocks.sequentialEquiv(h, parent, p, v);
                if (parent == null && Tags.isCollection(tag)) return CollBlocks.equivScoped(h, tag, p, v);
                return Util.equiv(Decoder.decodeIn(h, parent, tag, p), v);
        }
    }

    /**
     * The NaN rule: a stored NaN is = to a NaN, stored or on the heap, as an
     * identical boxed NaN is in clojure.core ((let [x ##NaN] (= [x] [x])) is
     * true), so a NaN key is found and a collection holding NaN equals itself.
     */
    private static boolean sameFloating(double a, double b) {
        return a == b || (Double.isNaN(a) && Double.isNaN(b));
    }

    private static double floating(int tag, long p) {
        return tag == Tags.DOUBLE ? Double.longBitsToDouble(p) : Float.intBitsToFloat((int) p);
    }

    /** Whether two stored slots of this segment hold = values. */
    public static boolean equalsSlot(Heap h, int ta, long pa, int tb, long pb) {
        if (ta == tb && pa == pb) return true;
        int ca = category(ta), cb = category(tb);
        if (ca != cb) return false;
        if (ca == CAT_FLOATING) return sameFloating(floating(ta, pa), floating(tb, pb));
        if (Tags.isSmallInteger(ta) && Tags.isSmallInteger(tb)) return pa == pb;
        if (ta == Tags.STRING && tb == Tags.STRING) return stringsEqual(h.segment(), pa, pb);
        if (ca == CAT_SYMBOL) {   // the same interned block, with or without metadata
            Segment s = h.segment();
            return MetaSymbols.symbolOffset(s, ta, pa) == MetaSymbols.symbolOffset(s, tb, pb);
        }
        if (ca == CAT_STRING || ca == CAT_KEYWORD) return false;   // canonical encodings
        if (Tags.isCollection(ta) && Tags.isCollection(tb)) return CollBlocks.equal(h, ta, pa, tb, pb, false);
        return Util.equiv(Decoder.decode(h, ta, pa), Decoder.decode(h, tb, pb));
    }

    /**
     * Same encoding: = and indistinguishable to a reader, with the same types
     * all the way down (a nested list is not a vector, 1.00M not 1.0M, -0.0
     * not 0.0) and the same metadata on every collection. An assoc of a value
     * with the encoding already there keeps the version.
     */
    public static boolean sameEncoding(Heap h, int ta, long pa, int tb, long pb) {
        if (ta != tb) return false;
        if (pa == pb) return true;
        if (!Tags.isCounted(ta)) return false;          // inline: the payload is the value
        if (ta == Tags.STRING) return equalsSlot(h, ta, pa, tb, pb);
        if (ta == Tags.SYMBOL_META) return MetaSymbols.sameEncoding(h, pa, pb);
        if (!Tags.isCollection(ta)) return Decoder.decode(h, ta, pa).equals(Decoder.decode(h, tb, pb));   // Java equals keeps BigDecimal scale
        return CollBlocks.sameMeta(h, pa, pb) && CollBlocks.equal(h, ta, pa, tb, pb, true);
    }

    /** sameEncoding when strict, else equalsSlot. */
    public static boolean slotsMatch(Heap h, int ta, long pa, int tb, long pb, boolean strict) {
        return strict ? sameEncoding(h, ta, pa, tb, pb) : equalsSlot(h, ta, pa, tb, pb);
    }

    private static boolean stringsEqual(Segment s, long a, long b) {
        int la = Blobs.stringLength(s, a), lb = Blobs.stringLength(s, b);
        if (la != lb) return false;
        long bytes = (la & UTF16_FLAG) != 0 ? (long) (la & ~UTF16_FLAG) * 2 : la;
        try {
            return s.memory().asSlice(a + STRING_DATA_OFFSET, bytes)
                .mismatch(s.memory().asSlice(b + STRING_DATA_OFFSET, bytes)) == -1;
        } catch (RuntimeException | InternalError e) {
            throw s.fault(e);
        }
    }

    private static final int CAT_NIL = 0, CAT_BOOL = 1, CAT_INTEGER = 2, CAT_FLOATING = 3, CAT_DECIMAL = 4,
        CAT_RATIO = 5, CAT_CHAR = 6, CAT_DATE = 7, CAT_KEYWORD = 8, CAT_SYMBOL = 9, CAT_STRING = 10,
        CAT_UUID = 11, CAT_INSTANT = 12, CAT_MAP = 13, CAT_SET = 14, CAT_SEQUENTIAL = 15;

    /** Values of different categories are never =. */
    private static int category(int tag) {
        switch (tag) {
            case Tags.NIL: return CAT_NIL;
            case Tags.FALSE: case Tags.TRUE: return CAT_BOOL;
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL: case Tags.BIGINT: case Tags.BIGINTEGER:
                return CAT_INTEGER;
            case Tags.DOUBLE: case Tags.FLOAT: return CAT_FLOATING;
            case Tags.BIGDECIMAL: return CAT_DECIMAL;
            case Tags.RATIO: return CAT_RATIO;
            case Tags.CHAR: return CAT_CHAR;
            case Tags.DATE: return CAT_DATE;
            case Tags.KEYWORD: return CAT_KEYWORD;
            case Tags.SYMBOL: case Tags.SYMBOL_META: return CAT_SYMBOL;
            case Tags.STRING: return CAT_STRING;
            case Tags.UUID: return CAT_UUID;
            case Tags.INSTANT: return CAT_INSTANT;
            case Tags.MAP: return CAT_MAP;
            case Tags.SET: return CAT_SET;
            case Tags.VECTOR: case Tags.LIST: case Tags.VECTOR_OF: return CAT_SEQUENTIAL;
            default: return Tags.isInlineString(tag) ? CAT_STRING : -1;
        }
    }
}
