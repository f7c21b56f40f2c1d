package slab.value;

import static slab.value.MetaSymbolDescriptor.*;

import clojure.lang.IPersistentMap;
import clojure.lang.Symbol;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.ref.RefVisitor;

/**
 * Symbols that carry metadata (code as data: forms, specs): the symbol stays
 * interned, and a small block (layout in {@link MetaSymbolDescriptor}) pairs
 * it with its metadata map. Symbols without metadata stay plain SYMBOL slots.
 */
public final class MetaSymbols {
    private MetaSymbols() {}

    /** Does sym need a SYMBOL_META slot (metadata that is not empty)? */
    public static boolean hasMeta(Symbol sym) {
        IPersistentMap m = sym.meta();
        return m != null && m.count() > 0;
    }

    /** Writes the block for sym (which hasMeta) and sets out to a SYMBOL_META slot owning it. */
    public static void encode(Heap h, Symbol sym, Slot out) {
        Segment s = h.segment();
        Slot m = new Slot();
        Encoder.encodeMeta(h, sym.meta(), m);
        long b;
        try {
            b = h.allocator().allocate(slab.mem.Seals.withTrailer(META_SYMBOL_LENGTH) - HEADER, BlockTypes.META_SYMBOL);
        } catch (RuntimeException e) {
            RefCounts.releaseSlot(h, m.tag, m.payload);
            throw e;
        }
        int hash = sym.hasheq();
        s.putInt(b + META_SYMBOL_HASH_OFFSET, hash);
        s.putByte(b + META_SYMBOL_META_TAG_OFFSET, (byte) m.tag);
        s.putByte(b + META_SYMBOL_PAD_OFFSET, (byte) 0);
        s.putShort(b + META_SYMBOL_PAD_OFFSET + 1, (short) 0);
        s.putLong(b + META_SYMBOL_SYMBOL_OFFSET, h.interner().intern((Symbol) sym.withMeta(null)));
        s.putLong(b + META_SYMBOL_META_OFFSET, m.payload);
        ValueSeals.sealMetaSymbol(s, b);
        out.set(Tags.SYMBOL_META, b, hash);
    }

    /**
     * Checks b before it is read: a live META_SYMBOL block holding its whole
     * layout, whose metadata tag is NIL or MAP.
     */
    static void check(Segment s, long b) {
        long hd = s.block(b, BlockTypes.META_SYMBOL, "a symbol-with-metadata block");
        s.within(b, hd, b, META_SYMBOL_LENGTH, "a whole symbol-with-metadata block");
        int metaTag = s.getByte(b + META_SYMBOL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL && metaTag != Tags.MAP)
            throw Damage.at(s, b, "a symbol's metadata tag NIL or MAP, found " + metaTag);
        if (s.verifyOnRead) ValueSeals.checkMetaSymbol(s, b);
    }

    static int hash(Segment s, long b) {
        check(s, b);
        return s.getInt(b + META_SYMBOL_HASH_OFFSET);
    }

    /** The interned symbol of block b (damage if it names a keyword). */
    private static Symbol symbol(Heap h, long b) {
        return (Symbol) h.interner().decode(h.segment().getLong(b + META_SYMBOL_SYMBOL_OFFSET), Tags.SYMBOL);
    }

    /** The symbol, with its metadata, that block b holds. */
    public static Symbol decode(Heap h, long b) {
        Segment s = h.segment();
        check(s, b);
        Symbol sym = symbol(h, b);
        int metaTag = s.getByte(b + META_SYMBOL_META_TAG_OFFSET);
        if (metaTag == Tags.NIL) return sym;
        return (Symbol) sym.withMeta((IPersistentMap) Decoder.decode(h, metaTag, s.getLong(b + META_SYMBOL_META_OFFSET)));
    }

    /** As {@link #decode}, for a slot of parent's version: the metadata borrows parent's counts. */
    public static Symbol decodeIn(Heap h, slab.ref.Handle parent, long b) {
        Segment s = h.segment();
        check(s, b);
        Symbol sym = symbol(h, b);
        int metaTag = s.getByte(b + META_SYMBOL_META_TAG_OFFSET);
        if (metaTag == Tags.NIL) return sym;
        return (Symbol) sym.withMeta((IPersistentMap) Decoder.decodeIn(h, parent, metaTag, s.getLong(b + META_SYMBOL_META_OFFSET)));
    }

    /** The interned symbol's offset for a SYMBOL or SYMBOL_META slot: two symbols are = exactly when these are. */
    public static long symbolOffset(Segment s, int tag, long p) {
        if (tag != Tags.SYMBOL_META) return p;
        check(s, p);
        return s.getLong(p + META_SYMBOL_SYMBOL_OFFSET);
    }

    /** Same symbol and metadata of the same encoding. */
    public static boolean sameEncoding(Heap h, long a, long b) {
        Segment s = h.segment();
        check(s, a);
        check(s, b);
        if (s.getLong(a + META_SYMBOL_SYMBOL_OFFSET) != s.getLong(b + META_SYMBOL_SYMBOL_OFFSET)) return false;
        int ta = s.getByte(a + META_SYMBOL_META_TAG_OFFSET), tb = s.getByte(b + META_SYMBOL_META_TAG_OFFSET);
        return Equality.sameEncoding(h, ta, s.getLong(a + META_SYMBOL_META_OFFSET), tb, s.getLong(b + META_SYMBOL_META_OFFSET));
    }

    /**
     * For verify: checks block b, that its stored hash is the symbol's, and
     * passes its metadata slot to hasher (which checks what it names).
     * Returns the symbol's hash.
     */
    public static int verify(Heap h, long b, SlotHasher hasher) {
        Segment s = h.segment();
        check(s, b);
        int hash = symbol(h, b).hasheq();
        if (hash != s.getInt(b + META_SYMBOL_HASH_OFFSET)) throw Damage.at(s, b, "a stored symbol hash equal to " + hash);
        int metaTag = s.getByte(b + META_SYMBOL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL) hasher.hash(metaTag, s.getLong(b + META_SYMBOL_META_OFFSET));
        return hash;
    }

    /** The walker of META_SYMBOL blocks: the counted metadata slot (the interned symbol is never counted). */
    public static void forEachRef(Segment s, long b, RefVisitor v) {
        check(s, b);
        if (Tags.isCounted(s.getByte(b + META_SYMBOL_META_TAG_OFFSET))) v.visit(s.getLong(b + META_SYMBOL_META_OFFSET));
    }
}
