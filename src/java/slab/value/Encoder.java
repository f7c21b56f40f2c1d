package slab.value;

import static slab.value.BlobDescriptor.*;

import java.lang.ref.Reference;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import clojure.lang.BigInt;
import clojure.lang.IMeta;
import clojure.lang.IPersistentCollection;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.IPersistentVector;
import clojure.lang.IRecord;
import clojure.lang.Keyword;
import clojure.lang.Murmur3;
import clojure.lang.Ratio;
import clojure.lang.Sequential;
import clojure.lang.Symbol;
import clojure.lang.Util;
import slab.mem.BlockTypes;
import slab.mem.Seals;
import slab.mem.Segment;
import slab.map.MapBuild;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.SharedColl;
import slab.vector.VecBuild;

/**
 * Turns Clojure values into slots (tag + payload + hasheq, see {@link Tags}).
 * Scalars and short strings are written inline; long strings, big numbers,
 * ratios, UUIDs and instants become blobs; collections are built in the
 * segment (slab.map, slab.vector) and stored as a collection block. A
 * counted payload carries one count that the slot's receiver now owns.
 */
public final class Encoder {
    private Encoder() {}

    /**
     * Encodes v into out. Throws {@code :unsupported-value} without writing
     * anything for a value slab cannot store.
     */
    public static void encode(Heap h, Object v, Slot out) {
        h.segment().checkOpen();
        if (v instanceof IPersistentCollection || v instanceof Sequential || v instanceof Symbol) Validator.validate(h, v);
        encodeTrusted(h, v, out);
    }

    /**
     * Encodes the metadata map of a collection or symbol into out (which the
     * caller then owns); an unsupported value in it is reported under the
     * path key :slab/meta.
     */
    public static void encodeMeta(Heap h, IPersistentMap meta, Slot out) {
        try {
            encode(h, meta, out);
        } catch (clojure.lang.ExceptionInfo e) {
            throw Validator.withPath(e, Validator.META_KEY);
        }
    }

    /** encode for values already validated: builders of nested collections call this. */
    public static void encodeTrusted(Heap h, Object v, Slot out) {
        if (v == null) { out.set(Tags.NIL, 0, 0); return; }
        if (v instanceof Long l) { long x = l; out.set(Tags.LONG, x, Murmur3.hashLong(x)); return; }
        if (v instanceof Keyword k) { out.set(Tags.KEYWORD, h.interner().intern(k), k.hasheq()); return; }
        if (v instanceof String str) { encodeString(h, str, out); return; }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long x = ((Number) v).longValue();
            out.set(Tags.LONG, x, Murmur3.hashLong(x));
            return;
        }
        if (v instanceof Double d) { out.set(Tags.DOUBLE, Double.doubleToRawLongBits(d), Util.hasheq(d)); return; }
        if (v instanceof Boolean b) { out.set(b ? Tags.TRUE : Tags.FALSE, 0, Util.hasheq(b)); return; }
        if (v instanceof Float f) { out.set(Tags.FLOAT, Float.floatToRawIntBits(f) & 0xFFFF_FFFFL, Util.hasheq(f)); return; }
        if (v instanceof Character c) { out.set(Tags.CHAR, c, Util.hasheq(c)); return; }
        if (v instanceof Symbol sym) {
            if (MetaSymbols.hasMeta(sym)) MetaSymbols.encode(h, sym, out);
            else out.set(Tags.SYMBOL, h.interner().intern(sym), sym.hasheq());
            return;
        }
        if (v instanceof BigInt bi) {
            if (bi.bipart == null) out.set(Tags.BIGINT_SMALL, bi.lpart, Util.hasheq(bi));
            else out.set(Tags.BIGINT, bigIntegerBlob(h, bi.bipart, Util.hasheq(bi)), Util.hasheq(bi));
            return;
        }
        if (v instanceof BigInteger bi) {
            if (bi.bitLength() < 64) out.set(Tags.BIGINTEGER_SMALL, bi.longValue(), Util.hasheq(bi));
            else out.set(Tags.BIGINTEGER, bigIntegerBlob(h, bi, Util.hasheq(bi)), Util.hasheq(bi));
            return;
        }
        if (v instanceof BigDecimal bd) { out.set(Tags.BIGDECIMAL, bigDecimalBlob(h, bd), Util.hasheq(bd)); return; }
        if (v instanceof Ratio r) { out.set(Tags.RATIO, ratioBlob(h, r), Util.hasheq(r)); return; }
        if (v instanceof UUID u) { out.set(Tags.UUID, uuidBlob(h, u), Util.hasheq(u)); return; }
        if (v.getClass() == Date.class) {
            out.set(Tags.DATE, ((Date) v).getTime(), Util.hasheq(v));
            return;
        }
        if (v instanceof Instant i) { out.set(Tags.INSTANT, instantBlob(h, i), Util.hasheq(i)); return; }
        encodeCollection(h, v, out);
    }

    private static void encodeCollection(Heap h, Object v, Slot out) {
        if (v instanceof SharedColl sc && sc.slabHandle().heap == h) {
            Handle r = sc.slabHandle();
            r.check();
            try {
                int kind = r.kind == Tags.LIST || sc.slabKind() == Tags.LIST ? Tags.LIST : sc.slabKind();
                out.set(kind, CollBlocks.write(r, sc.slabKind(), ((IMeta) v).meta()), r.hasheq());
            } finally {
                Reference.reachabilityFence(sc);
            }
            return;
        }
        if (v instanceof IRecord) throw Validator.record(v);
        IPersistentMap meta = v instanceof IMeta im ? im.meta() : null;
        if (v instanceof IPersistentMap m) {
            if (!MapBuild.encodeSmall(h, m, meta, out)) encodeBuilt(MapBuild.fromMap(h, m), Tags.MAP, meta, out);
            return;
        }
        if (v instanceof IPersistentSet set) { encodeBuilt(MapBuild.fromSet(h, set), Tags.SET, meta, out); return; }
        int elem = VecBuild.vectorOfType(v);   // a vector-of (clojure.core's or slab's) stays unboxed
        if (elem != 0) { encodeBuilt(VecBuild.vectorOf(h, elem, v), Tags.VECTOR_OF, meta, out); return; }
        if (v instanceof IPersistentVector) {
            encodeBuilt(VecBuild.fromSeqable(h, v, Tags.VECTOR), Tags.VECTOR, meta, out);
            return;
        }
        if (v instanceof Sequential) { encodeBuilt(VecBuild.fromSeqable(h, v, Tags.LIST), Tags.LIST, meta, out); return; }
        throw Validator.unsupported(v, null);
    }

    private static void encodeBuilt(Handle built, int kind, IPersistentMap meta, Slot out) {
        try {
            out.set(kind, CollBlocks.write(built, kind, meta), built.hasheq());
        } finally {
            built.release();
        }
    }

    // --- blobs ----------------------------------------------------------------------

    private static void encodeString(Heap h, String str, Slot out) {
        int hash = Murmur3.hashInt(str.hashCode());
        if (Strings.fitsInline(str)) {
            out.set(Tags.STR_INLINE + str.length(), Strings.packInline(str), hash);
            return;
        }
        boolean utf16 = !Strings.isLatin1(str);
        long bytes = (long) str.length() << (utf16 ? 1 : 0);
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(STRING_DATA_OFFSET + bytes) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, hash);
        s.putInt(b + LENGTH_OFFSET, str.length() | (utf16 ? UTF16_FLAG : 0));
        Strings.writeAt(s, b + STRING_DATA_OFFSET, utf16, str);
        ValueSeals.sealBlob(s, b, Tags.STRING);
        out.set(Tags.STRING, b, hash);
    }

    private static long bigIntegerBlob(Heap h, BigInteger bi, int hash) {
        byte[] bytes = bi.toByteArray();
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(BIGINT_DATA_OFFSET + bytes.length) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, hash);
        s.putInt(b + LENGTH_OFFSET, bytes.length);
        s.writeBytes(b + BIGINT_DATA_OFFSET, bytes, 0, bytes.length);
        ValueSeals.sealBlob(s, b, Tags.BIGINT);
        return b;
    }

    private static long bigDecimalBlob(Heap h, BigDecimal bd) {
        byte[] bytes = bd.unscaledValue().toByteArray();
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(BIGDEC_DATA_OFFSET + bytes.length) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(bd));
        s.putInt(b + LENGTH_OFFSET, bytes.length);
        s.putInt(b + BIGDEC_SCALE_OFFSET, bd.scale());
        s.putInt(b + BIGDEC_SCALE_OFFSET + 4, 0);   // zero: the seal covers it
        s.writeBytes(b + BIGDEC_DATA_OFFSET, bytes, 0, bytes.length);
        ValueSeals.sealBlob(s, b, Tags.BIGDECIMAL);
        return b;
    }

    private static long ratioBlob(Heap h, Ratio r) {
        byte[] num = r.numerator.toByteArray(), den = r.denominator.toByteArray();
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(RATIO_DATA_OFFSET + num.length + den.length) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(r));
        s.putInt(b + LENGTH_OFFSET, num.length);
        s.putInt(b + RATIO_DEN_LENGTH_OFFSET, den.length);
        s.writeBytes(b + RATIO_DATA_OFFSET, num, 0, num.length);
        s.putInt(b + RATIO_DEN_LENGTH_OFFSET + 4, 0);   // zero: the seal covers it
        s.writeBytes(b + RATIO_DATA_OFFSET + num.length, den, 0, den.length);
        ValueSeals.sealBlob(s, b, Tags.RATIO);
        return b;
    }

    private static long uuidBlob(Heap h, UUID u) {
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(UUID_LENGTH) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(u));
        s.putLong(b + UUID_MSB_OFFSET, u.getMostSignificantBits());
        s.putInt(b + HASH_OFFSET + 4, 0);   // zero: the seal covers it
        s.putLong(b + UUID_LSB_OFFSET, u.getLeastSignificantBits());
        ValueSeals.sealBlob(s, b, Tags.UUID);
        return b;
    }

    private static long instantBlob(Heap h, Instant i) {
        Segment s = h.segment();
        long b = h.allocator().allocate(Seals.withTrailer(INSTANT_LENGTH) - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(i));
        s.putInt(b + INSTANT_NANOS_OFFSET, i.getNano());
        s.putLong(b + INSTANT_SECONDS_OFFSET, i.getEpochSecond());
        ValueSeals.sealBlob(s, b, Tags.INSTANT);
        return b;
    }
}
