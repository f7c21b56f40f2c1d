package slab.value;

import static slab.value.BlobDescriptor.*;
import static slab.value.InternDescriptor.*;

import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Seals;
import slab.mem.Segment;

/**
 * Seals of the value codec's blocks (doc/FORMAT.md, *Seals*): blobs,
 * interned keywords and symbols, and symbols with metadata each keep a
 * 4-byte trailer seal at their layout's end rounded up to 4, over bytes
 * [8, layout end), written with the block before its offset is stored
 * anywhere. The layout end of a blob depends on its kind, which its slot's
 * tag names.
 */
public final class ValueSeals {
    private ValueSeals() {}

    /** Does a slot with this tag name a BLOB block? */
    public static boolean isBlob(int tag) { return tag >= Tags.STRING && tag <= Tags.INSTANT; }

    /** The layout end of a blob whose slot has this tag (lengths read from it, checked by the caller's within). */
    static long blobEnd(Segment s, long b, int tag) {
        long n = s.getInt(b + LENGTH_OFFSET) & 0xFFFF_FFFFL;
        return switch (tag) {
            case Tags.STRING -> STRING_DATA_OFFSET + ((n & UTF16_FLAG) != 0 ? 2 * (n & ~(long) UTF16_FLAG) : n);
            case Tags.BIGINT, Tags.BIGINTEGER -> BIGINT_DATA_OFFSET + n;
            case Tags.BIGDECIMAL -> BIGDEC_DATA_OFFSET + n;
            case Tags.RATIO -> RATIO_DATA_OFFSET + n + (s.getInt(b + RATIO_DEN_LENGTH_OFFSET) & 0xFFFF_FFFFL);
            case Tags.UUID -> UUID_LENGTH;
            case Tags.INSTANT -> INSTANT_LENGTH;
            default -> throw Damage.at(s, b, "a blob named by a blob tag, found tag " + tag);
        };
    }

    /** The blob tags, one for each layout (BIGINTEGER shares BIGINT's). */
    private static final int[] BLOB_KINDS = {Tags.STRING, Tags.BIGINT, Tags.BIGDECIMAL, Tags.RATIO, Tags.UUID, Tags.INSTANT};

    /** Seals blob b (tag), written up to its layout's end. */
    static void sealBlob(Segment s, long b, int tag) { Seals.sealTrailer(s, b, blobEnd(s, b, tag)); }

    /** Checks the seal of blob b, named by a slot with this tag. */
    public static void checkBlob(Segment s, long b, int tag) {
        s.block(b, BlockTypes.BLOB, "a blob");
        Seals.checkTrailer(s, b, BlockTypes.BLOB, blobEnd(s, b, tag));
    }

    /**
     * Checks the seal of blob b where no slot says its kind (the sweep's
     * mark): sound when its seal matches the layout of some kind its length
     * words describe inside the block.
     */
    public static void checkBlobAnyKind(Segment s, long b) {
        long hd = s.block(b, BlockTypes.BLOB, "a blob");
        RuntimeException first = null;
        for (int tag : BLOB_KINDS) {
            long end = blobEnd(s, b, tag);
            if (Seals.withTrailer(end) > Segment.blockSize(hd)) continue;
            try {
                Seals.checkTrailer(s, b, BlockTypes.BLOB, end);
                return;
            } catch (RuntimeException e) {
                if (!Damage.is(e)) throw e;
                if (first == null) first = e;
            }
        }
        throw first != null ? first : Damage.at(s, b, "a blob whose layout and seal fit its block");
    }

    /** The layout end of interned block b (lengths and encoding read from it). */
    static long internedEnd(Segment s, long b) {
        long chars = Math.max(s.getInt(b + INTERN_NS_LENGTH_OFFSET), 0) + (s.getInt(b + INTERN_NAME_LENGTH_OFFSET) & 0xFFFF_FFFFL);
        return INTERN_DATA_OFFSET + (chars << (s.getByte(b + INTERN_ENCODING_OFFSET) == INTERN_UTF16 ? 1 : 0));
    }

    static void sealInterned(Segment s, long b) { Seals.sealTrailer(s, b, internedEnd(s, b)); }

    public static void checkInterned(Segment s, long b) {
        s.block(b, BlockTypes.INTERNED, "an interned keyword or symbol");
        Seals.checkTrailer(s, b, BlockTypes.INTERNED, internedEnd(s, b));
    }

    static void sealMetaSymbol(Segment s, long b) { Seals.sealTrailer(s, b, MetaSymbolDescriptor.META_SYMBOL_LENGTH); }

    public static void checkMetaSymbol(Segment s, long b) {
        s.block(b, BlockTypes.META_SYMBOL, "a symbol-with-metadata block");
        Seals.checkTrailer(s, b, BlockTypes.META_SYMBOL, MetaSymbolDescriptor.META_SYMBOL_LENGTH);
    }
}
