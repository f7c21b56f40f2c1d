package slab.ref;

import static slab.ref.CollDescriptor.*;

import clojure.lang.IPersistentMap;
import clojure.lang.Murmur3;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Seals;
import slab.mem.Segment;
import slab.map.MapEquality;
import slab.map.MapNodeDescriptor;
import slab.value.Decoder;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;
import slab.vector.VecEquality;

/**
 * Collection blocks (layout in {@link CollDescriptor}): how a version of a
 * collection is stored as a value inside another one, or in a box. Writing
 * one takes its own counts on the version's nodes; reading one gives a
 * handle, owning or borrowing; two blocks compare node against node.
 */
public final class CollBlocks {
    private CollBlocks() {}

    /** A collection block describing r's version, holding its own counts on r's nodes. */
    public static long write(Handle r, int kind, IPersistentMap meta) {
        Heap h = r.heap;
        Segment s = h.segment();
        Slot m = new Slot();
        if (meta != null && meta.count() > 0) Encoder.encodeMeta(h, meta, m);
        long b;
        try {
            b = h.allocator().allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
        } catch (RuntimeException e) {
            RefCounts.releaseSlot(h, m.tag, m.payload);
            throw e;
        }
        RefCounts.retain(h, r.node);
        RefCounts.retain(h, r.tail);
        fill(s, b, kind, r, r.node, r.tail, m);
        return b;
    }

    /**
     * A collection block for a map of count entries (hash sum sum) with root
     * node root, taking over the caller's count on root, and metadata slot
     * m (whose count it takes over too, once it returns).
     */
    public static long writeMap(Heap h, int sum, int count, long root, Slot m) {
        Segment s = h.segment();
        long b = h.allocator().allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
        fill(s, b, Tags.MAP, 0, 0, sum, count, root, 0, m);
        return b;
    }

    /**
     * Writes the fields of collection block b: the version r describes
     * (kind, shift, element type, hash and count) with these nodes (r's, or
     * their copies in another segment) and metadata slot m.
     */
    public static void fill(Segment s, long b, int kind, Handle r, long root, long tail, Slot m) {
        fill(s, b, kind, r.shift, r.elem, kind == Tags.MAP || kind == Tags.SET ? r.hashSum() : r.hasheq(), (int) r.count,
            root, tail, m);
    }

    private static void fill(Segment s, long b, int kind, int shift, int elem, int hash, int count, long root, long tail,
                             Slot m) {
        s.putByte(b + COLL_KIND_OFFSET, (byte) kind);
        s.putByte(b + COLL_META_TAG_OFFSET, (byte) m.tag);
        s.putByte(b + COLL_SHIFT_OFFSET, (byte) shift);
        s.putByte(b + COLL_ELEM_OFFSET, (byte) elem);
        s.putInt(b + COLL_HASH_OFFSET, hash);
        s.putInt(b + COLL_COUNT_OFFSET, count);
        s.putLong(b + COLL_ROOT_OFFSET, root);
        s.putLong(b + COLL_TAIL_OFFSET, tail);
        s.putLong(b + COLL_META_OFFSET, m.payload);
        seal(s, b);
    }

    /**
     * Checks collection block coll, named by a slot with this tag, before a
     * version is read from it: a live COLL block of this kind whose count,
     * shift, root and tail agree (an empty map has no root; a vector's shape
     * is VecNodeDescriptor.isShape), with metadata named exactly when its tag
     * says so. The nodes themselves are checked as they are walked.
     */
    public static void check(Segment s, long coll, int tag) {
        long hd = s.block(coll, BlockTypes.COLL, "a collection block");
        s.within(coll, hd, coll, COLL_LENGTH, "a whole collection block");
        int kind = s.getByte(coll + COLL_KIND_OFFSET), metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
        int shift = s.getByte(coll + COLL_SHIFT_OFFSET);
        long count = s.getInt(coll + COLL_COUNT_OFFSET), meta = s.getLong(coll + COLL_META_OFFSET);
        long root = s.getLong(coll + COLL_ROOT_OFFSET), tail = s.getLong(coll + COLL_TAIL_OFFSET);
        int elem = s.getByte(coll + COLL_ELEM_OFFSET);
        boolean ok = kind == tag && (metaTag == Tags.NIL ? meta == 0 : metaTag == Tags.MAP && meta != 0)
            && (kind == Tags.VECTOR_OF ? slab.vector.PrimLeafDescriptor.isElem(elem) : elem == 0);
        if (kind == Tags.MAP || kind == Tags.SET)
            ok &= count >= 0 && count <= Integer.MAX_VALUE && shift == 0 && tail == 0 && (root == 0) == (count == 0);
        else
            ok &= slab.vector.VecNodeDescriptor.isShape(s.vecBits(), count, shift, root, tail);
        if (!ok) throw Damage.at(s, coll, "a collection block of kind " + tag + " whose count, shape, element type and metadata "
            + "agree (kind " + kind + ", element type " + elem + ", count " + count + ", shift " + shift + ", root " + root + ", tail " + tail + ")");
        if (s.verifyOnRead) checkSeal(s, coll);
    }

    /** A new owning handle on the version a collection block describes (one count on each of its nodes). */
    public static Handle handleOf(Heap h, long coll) {
        Segment s = h.segment();
        check(s, coll, s.getByte(coll + COLL_KIND_OFFSET));
        int kind = s.getByte(coll + COLL_KIND_OFFSET);
        long node = s.getLong(coll + COLL_ROOT_OFFSET);
        long tail = s.getLong(coll + COLL_TAIL_OFFSET);
        int elem = elemOf(s, coll, kind);
        // The nodes' state and type are checked before a count is taken on them (a count
        // on a block that is not live is refused, which must read as damage, not as a slab
        // bug); the rest of each node is checked as it is walked.
        if (node != 0) liveNode(s, node, rootType(kind), "the root node of a collection block's version");
        if (tail != 0) liveNode(s, tail, kind == Tags.VECTOR_OF ? BlockTypes.VEC_PRIM_LEAF : BlockTypes.VEC_LEAF,
            "the tail leaf of a collection block's version");
        RefCounts.retain(h, node);
        RefCounts.retain(h, tail);
        return new Handle(h, kind, elem, node, tail, s.getInt(coll + COLL_COUNT_OFFSET),
            s.getByte(coll + COLL_SHIFT_OFFSET), s.getInt(coll + COLL_HASH_OFFSET), true);
    }

    /**
     * The element type of a collection block of this kind: a vector-of's,
     * checked (a damaged byte must not send the vector code to a table
     * past its end), 0 for every other kind.
     */
    private static int elemOf(Segment s, long coll, int kind) {
        if (kind != Tags.VECTOR_OF) return 0;
        int elem = s.getByte(coll + COLL_ELEM_OFFSET);
        slab.vector.PrimLeafDescriptor.checkElem(elem);
        return elem;
    }

    /** The light check of a node (offset, state and type, as a lookup makes it), else damage. */
    private static void liveNode(Segment s, long n, int type, String what) {
        long hd = s.header(n, what);
        if (Segment.stateAndType(hd) != Segment.live(type))
            throw Damage.at(s, n, what + " (a live block of type " + type + "), found the header word 0x"
                + Long.toHexString(hd));
    }

    /** The block type of a version's root node for a collection of this kind (checked by {@link #check}). */
    private static int rootType(int kind) {
        return kind == Tags.MAP ? BlockTypes.MAP_NODE : kind == Tags.SET ? BlockTypes.SET_NODE : BlockTypes.VEC_BRANCH;
    }

    /**
     * The root node of the map a MAP slot names, after {@link #check}: a
     * lookup through a nested map needs nothing else, so it makes no handle
     * (the version being read holds the block and its nodes).
     */
    public static long mapRoot(Segment s, long coll) {
        check(s, coll, Tags.MAP);
        return s.getLong(coll + COLL_ROOT_OFFSET);
    }

    /** The collection a slot names, as the Clojure layer's type, on an owning handle. */
    public static Object decode(Heap h, int tag, long coll) {
        Handles.requireFactory();   // before taking counts
        Segment s = h.segment();
        check(s, coll, tag);
        IPersistentMap meta = null;
        int metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL) meta = (IPersistentMap) Decoder.decode(h, metaTag, s.getLong(coll + COLL_META_OFFSET));
        return Handles.make(tag, handleOf(h, coll), meta);
    }

    /** The collection a slot of parent's version names, on a handle borrowing parent's counts. */
    public static Object decodeIn(Handle parent, int tag, long coll) {
        Heap h = parent.heap;
        Segment s = h.segment();
        check(s, coll, tag);
        IPersistentMap meta = null;
        int metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL)
            meta = (IPersistentMap) Decoder.decodeIn(h, parent, metaTag, s.getLong(coll + COLL_META_OFFSET));
        int kind = s.getByte(coll + COLL_KIND_OFFSET);
        Handle r = new Handle(parent, kind, elemOf(s, coll, kind), s.getLong(coll + COLL_ROOT_OFFSET),
            s.getLong(coll + COLL_TAIL_OFFSET), s.getInt(coll + COLL_COUNT_OFFSET), s.getByte(coll + COLL_SHIFT_OFFSET),
            s.getInt(coll + COLL_HASH_OFFSET));
        return Handles.make(tag, r, meta);
    }

    /**
     * Clojure's = between the list or vector a collection block describes and
     * an on-heap value, slot against element (so the NaN rule holds), on a
     * handle borrowing parent's counts, or, without a parent, a scoped one
     * (the caller's version holds the block).
     */
    public static boolean sequentialEquiv(Heap h, Handle parent, long coll, Object v) {
        if (!(v instanceof clojure.lang.Sequential || v instanceof java.util.List)) return false;
        Segment s = h.segment();
        check(s, coll, Tags.LIST);
        if (parent != null) {
            int kind = s.getByte(coll + COLL_KIND_OFFSET);
            Handle r = new Handle(parent, kind, elemOf(s, coll, kind), s.getLong(coll + COLL_ROOT_OFFSET),
                s.getLong(coll + COLL_TAIL_OFFSET), s.getInt(coll + COLL_COUNT_OFFSET), s.getByte(coll + COLL_SHIFT_OFFSET),
                s.getInt(coll + COLL_HASH_OFFSET));
            return slab.vector.Vectors.equiv(r, v);
        }
        Handle r = scopedOf(h, coll);
        try {
            return slab.vector.Vectors.equiv(r, v);
        } finally {
            r.release();
        }
    }

    /**
     * Clojure's = between the collection a block describes and an on-heap
     * value, during a read of a version that holds the block (a lookup whose
     * key is a collection): no count, no Cleaner, no ledger record.
     */
    public static boolean equivScoped(Heap h, int tag, long coll, Object v) {
        Handles.requireFactory();
        Handle r = scopedOf(h, coll);
        try {
            Segment s = h.segment();
            IPersistentMap meta = null;
            int metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
            if (metaTag != Tags.NIL) meta = (IPersistentMap) Decoder.decodeIn(h, r, metaTag, s.getLong(coll + COLL_META_OFFSET));
            return clojure.lang.Util.equiv(Handles.make(tag, r, meta), v);
        } finally {
            r.release();
        }
    }

    private static Handle scopedOf(Heap h, long coll) {
        Segment s = h.segment();
        int kind = s.getByte(coll + COLL_KIND_OFFSET);
        check(s, coll, kind);
        return Handle.scoped(h, kind, elemOf(s, coll, kind), s.getLong(coll + COLL_ROOT_OFFSET),
            s.getLong(coll + COLL_TAIL_OFFSET), s.getInt(coll + COLL_COUNT_OFFSET), s.getByte(coll + COLL_SHIFT_OFFSET),
            s.getInt(coll + COLL_HASH_OFFSET));
    }

    /** Clojure's hasheq of the collection a slot with this tag names. */
    public static int hasheq(Segment s, int tag, long coll) {
        check(s, coll, tag);
        int stored = s.getInt(coll + COLL_HASH_OFFSET);
        return tag == Tags.MAP || tag == Tags.SET
            ? Murmur3.mixCollHash(stored, s.getInt(coll + COLL_COUNT_OFFSET)) : stored;
    }

    /**
     * Two collection blocks of one segment whose tags are in one category
     * (maps, sets, or vectors and lists), compared node against node: no
     * handle is made, and subtrees the two share are equal without a look
     * inside. Clojure's = ignores metadata, so this does too; strict compares
     * encodings instead (see Equality.sameEncoding).
     */
    public static boolean equal(Heap h, int ta, long pa, int tb, long pb, boolean strict) {
        Segment s = h.segment();
        check(s, pa, ta);
        check(s, pb, tb);
        long cnt = s.getInt(pa + COLL_COUNT_OFFSET);
        if (cnt != s.getInt(pb + COLL_COUNT_OFFSET)) return false;
        // maps and sets: the entry-hash sum; vectors and lists: hasheq (both stored at encoding)
        if (s.getInt(pa + COLL_HASH_OFFSET) != s.getInt(pb + COLL_HASH_OFFSET)) return false;
        long ra = s.getLong(pa + COLL_ROOT_OFFSET), rb = s.getLong(pb + COLL_ROOT_OFFSET);
        if (ta == Tags.MAP || ta == Tags.SET) {
            if (ta != tb) return false;
            boolean set = ta == Tags.SET;
            return MapEquality.nodesEqual(h, ra, rb,
                set ? MapNodeDescriptor.SET_ENTRY_LENGTH : MapNodeDescriptor.MAP_ENTRY_LENGTH, set, strict);
        }
        int ea = elemOf(s, pa, ta), eb = elemOf(s, pb, tb);
        if (strict && (ta != tb || ea != eb)) return false;
        return VecEquality.triesEqual(h, ra, s.getLong(pa + COLL_TAIL_OFFSET), s.getByte(pa + COLL_SHIFT_OFFSET), ea,
            rb, s.getLong(pb + COLL_TAIL_OFFSET), s.getByte(pb + COLL_SHIFT_OFFSET), eb, (int) cnt, strict);
    }

    /** Do two collection blocks carry metadata of the same encoding (or none)? */
    public static boolean sameMeta(Heap h, long collA, long collB) {
        Segment s = h.segment();
        check(s, collA, s.getByte(collA + COLL_KIND_OFFSET));
        check(s, collB, s.getByte(collB + COLL_KIND_OFFSET));
        int ta = s.getByte(collA + COLL_META_TAG_OFFSET), tb = s.getByte(collB + COLL_META_TAG_OFFSET);
        if (ta != tb) return false;
        return ta == Tags.NIL || slab.value.Equality.sameEncoding(h, ta, s.getLong(collA + COLL_META_OFFSET),
            tb, s.getLong(collB + COLL_META_OFFSET));
    }

    // --- seals (doc/FORMAT.md, *Seals*) ------------------------------------------------

    /** The seal of COLL block b: bytes [8, 48), the seal's own bytes 20..24 read as 0. */
    private static int sealOf(Segment s, long b) {
        return Seals.of(s, b, HEADER, COLL_LENGTH, COLL_COUNT_OFFSET, 0xFFFF_FFFFL);
    }

    /** Seals collection block b, whose every field is written. */
    public static void seal(Segment s, long b) { s.putInt(b + COLL_SEAL_OFFSET, sealOf(s, b)); }

    /** Checks the seal of COLL block b, a live block holding its whole layout. */
    public static void checkSeal(Segment s, long b) {
        s.within(b, s.liveHeader(b, "a collection block"), b, COLL_LENGTH, "a whole collection block");
        int stored = s.getInt(b + COLL_SEAL_OFFSET), computed = sealOf(s, b);
        if (stored != computed) throw Seals.mismatch(s, b, BlockTypes.COLL, stored, computed);
    }

    /** The walker of COLL blocks: root and tail nodes, and counted metadata. */
    public static void forEachRef(Segment s, long b, RefVisitor v) {
        s.within(b, s.liveHeader(b, "a collection block"), b, COLL_LENGTH, "a whole collection block");
        long root = s.getLong(b + COLL_ROOT_OFFSET), tail = s.getLong(b + COLL_TAIL_OFFSET);
        if (root != 0) v.visit(root);
        if (tail != 0) v.visit(tail);
        if (Tags.isCounted(s.getByte(b + COLL_META_TAG_OFFSET))) v.visit(s.getLong(b + COLL_META_OFFSET));
    }
}
