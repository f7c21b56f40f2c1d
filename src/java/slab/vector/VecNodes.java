package slab.vector;

import static slab.mem.AllocatorDescriptor.BLOCK_HEADER_LENGTH;
import static slab.vector.VecNodeDescriptor.*;

import slab.mem.Allocator;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.ref.SegmentLineage;
import slab.value.Decoder;
import slab.value.Tags;

/**
 * Vector trie nodes (layout in {@link VecNodeDescriptor}): the shape
 * arithmetic, the node primitives every update is written against (new,
 * copy and retain), and the walk to the leaf holding an index. The
 * persistent updates are in {@link VecUpdates}, transients in
 * {@link VecTransient}, whole-vector reads in {@link VecReads}.
 */
final class VecNodes {
    private VecNodes() {}

    // --- shape ---------------------------------------------------------------------

    /** Index of the first element in the tail. */
    static int tailoff(int cnt, int bits) {
        return cnt < (1 << bits) ? 0 : ((cnt - 1) >>> bits) << bits;
    }

    static int count(Handle r) { return (int) r.count; }

    // --- node primitives -------------------------------------------------------------

    static long child(Segment s, long branch, int i) { return s.getLong(branch + childOffset(i)); }

    static void setChild(Segment s, long branch, int i, long child) { s.putLong(branch + childOffset(i), child); }

    static int capacity(Segment s, long node) { return capacityOf(s.getLong(node + NODE_WORD_OFFSET)); }

    static long editOf(Segment s, long node) { return VecNodeDescriptor.editOf(s.getLong(node + NODE_WORD_OFFSET)); }

    static int tag(Segment s, long leaf, int cap, int i) { return s.getByte(leaf + tagOffset(cap, i)); }

    static long payload(Segment s, long leaf, int i) { return s.getLong(leaf + payloadOffset(i)); }

    /** Stores a slot; the leaf takes over the count a counted payload carries. */
    static void writeSlot(Segment s, long leaf, int cap, int i, int tag, long payload) {
        s.putLong(leaf + payloadOffset(i), payload);
        s.putByte(leaf + tagOffset(cap, i), (byte) tag);
    }

    /**
     * Stores element i of a leaf of element type elem: a slot (tag, payload)
     * when elem is 0, else the element whose bits are payload (the tag,
     * uncounted, is ignored).
     */
    static void writeElem(Segment s, int elem, long leaf, int cap, int i, int tag, long payload) {
        if (elem == 0) writeSlot(s, leaf, cap, i, tag, payload);
        else PrimElems.write(s, elem, leaf, i, payload);
    }

    /**
     * The tag of element i of a leaf, as a value-codec slot: a primitive
     * element reads as the slot of the same value (see {@link PrimElems}), so
     * hashing and equality need no case of their own.
     */
    static int tagAt(Segment s, int elem, long leaf, int cap, int i) {
        return elem == 0 ? tag(s, leaf, cap, i) : PrimElems.slotTag(elem, PrimElems.read(s, elem, leaf, i));
    }

    /** The payload of element i of a leaf, as a value-codec slot (see {@link #tagAt}). */
    static long payloadAt(Segment s, int elem, long leaf, int i) {
        return elem == 0 ? payload(s, leaf, i) : PrimElems.slotPayload(elem, PrimElems.read(s, elem, leaf, i));
    }

    static int leafType(int elem) { return elem == 0 ? BlockTypes.VEC_LEAF : BlockTypes.VEC_PRIM_LEAF; }

    /** Bytes of a leaf of cap elements of type elem (0: slots), header included. */
    static long leafLength(int elem, int cap) {
        return elem == 0 ? VecNodeDescriptor.leafLength(cap) : PrimLeafDescriptor.leafLength(elem, cap);
    }

    /** A branch with no children. */
    static long newBranch(Heap h, int w, long edit) {
        long b = h.allocator().allocate(branchLength(w) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_BRANCH);
        Segment s = h.segment();
        SegmentLineage.clear(s, b);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, w));
        s.fill(b + SLOTS_OFFSET, (long) CHILD_LENGTH * w, (byte) 0);
        return b;
    }

    /**
     * A leaf of cap slots, all NIL with zero payloads. Zeroing the whole
     * leaf at once also brings its cache lines in together, instead of one
     * miss after another as conj! fills the slots.
     */
    static long newLeaf(Heap h, int elem, int cap, long edit) {
        long length = leafLength(elem, cap);
        long b = h.allocator().allocate(length - BLOCK_HEADER_LENGTH, leafType(elem));
        Segment s = h.segment();
        SegmentLineage.clear(s, b);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, elem, cap));
        s.fill(b + SLOTS_OFFSET, length - SLOTS_OFFSET, (byte) 0);   // Tags.NIL is 0; a primitive 0 is 0
        return b;
    }

    /**
     * A copy of branch src holding every child except {@code skip} (-1 for
     * none), whose slot is left empty for the caller to fill. A persistent
     * copy (edit 0) borrows the children from src when it can (see
     * slab.ref.Lineage), else it retains each; a transient's copy retains them.
     */
    static long copyBranch(Heap h, long src, int w, int skip, long edit) {
        Segment s = h.segment();
        Allocator a = h.allocator();
        long b = a.allocate(branchLength(w) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_BRANCH);
        SegmentLineage.clear(s, b);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, w));
        s.copy(src + SLOTS_OFFSET, b + SLOTS_OFFSET, (long) CHILD_LENGTH * w);
        if (skip >= 0) setChild(s, b, skip, 0);
        if (edit == 0 && h.lineage().inherit(src, b, children(s, b, w))) return b;
        retainAll(h, b, w);
        return b;
    }

    private static int children(Segment s, long branch, int w) {
        int n = 0;
        for (int i = 0; i < w; i++) if (child(s, branch, i) != 0) n++;
        return n;
    }

    /**
     * Retains every non-zero child of a branch. The children's headers are
     * read first with plain loads, which the CPU overlaps, so the atomic adds
     * that follow (each a full fence) find their lines in cache instead of
     * waiting for memory one after another: on a vector larger than the
     * cache this makes a path copy several times faster.
     */
    private static void retainAll(Heap h, long branch, int w) {
        Segment s = h.segment();
        long states = 0;
        for (int i = 0; i < w; i++) {
            long ch = child(s, branch, i);
            if (ch != 0) states |= s.getLong(ch) ^ RefCounts.LIVE_STATE_BITS;
        }
        if ((states & RefCounts.STATE_BITS) != 0)
            throw new IllegalStateException("slab: a vector branch at offset " + branch + " names a block that is not live");
        Allocator a = h.allocator();
        for (int i = 0; i < w; i++) {
            long ch = child(s, branch, i);
            if (ch != 0) a.retain(ch);
        }
    }


    /**
     * A leaf of newCap slots holding the first n slots of src (capacity
     * srcCap), retaining their counted payloads except slot {@code skip}
     * (-1 for none), which is left NIL for the caller to fill. A leaf of
     * primitives (elem not 0) is copied byte for byte: it holds no counts,
     * so there is nothing to retain or borrow.
     */
    static long copyLeaf(Heap h, int elem, long src, int srcCap, int n, int newCap, int skip, long edit) {
        if (elem != 0) return copyPrimLeaf(h, elem, src, n, newCap, edit);
        Segment s = h.segment();
        long b = h.allocator().allocate(VecNodeDescriptor.leafLength(newCap) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_LEAF);
        SegmentLineage.clear(s, b);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, newCap));
        if (n > 0) {
            s.copy(src + SLOTS_OFFSET, b + SLOTS_OFFSET, (long) PAYLOAD_LENGTH * n);
            s.copy(src + tagOffset(srcCap, 0), b + tagOffset(newCap, 0), n);
        }
        if (newCap > n) s.fill(b + tagOffset(newCap, n), newCap - n, (byte) Tags.NIL);
        if (skip >= 0) s.putByte(b + tagOffset(newCap, skip), (byte) Tags.NIL);
        if (edit == 0 && h.lineage().inherit(src, b, countedSlots(s, b, newCap, n))) return b;
        retainSlots(h, b, newCap, n);
        return b;
    }

    private static long copyPrimLeaf(Heap h, int elem, long src, int n, int newCap, long edit) {
        Segment s = h.segment();
        long length = PrimLeafDescriptor.leafLength(elem, newCap);
        long b = h.allocator().allocate(length - BLOCK_HEADER_LENGTH, BlockTypes.VEC_PRIM_LEAF);
        SegmentLineage.clear(s, b);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, elem, newCap));
        long from = src + PrimLeafDescriptor.ELEMENTS_OFFSET, to = b + PrimLeafDescriptor.ELEMENTS_OFFSET;
        long bytes = (long) PrimLeafDescriptor.width(elem) * n;
        if (n > 0) s.copy(from, to, bytes);
        if (newCap > n) s.fill(to + bytes, b + length - (to + bytes), (byte) 0);   // elements past the end are 0
        return b;
    }

    /** How many of the first n slots of a leaf are counted. */
    private static int countedSlots(Segment s, long leaf, int cap, int n) {
        long tags = leaf + tagOffset(cap, 0);
        int c = 0, i = 0;
        for (; i + 8 <= n; i += 8) {
            if ((s.getLong(tags + i) & 0xE0E0_E0E0_E0E0_E0E0L) == 0) continue;
            for (int k = i; k < i + 8; k++) if (Tags.isCounted(tag(s, leaf, cap, k))) c++;
        }
        for (; i < n; i++) if (Tags.isCounted(tag(s, leaf, cap, i))) c++;
        return c;
    }

    /** Retains the counted payloads among the first n slots of a leaf. */
    static void retainSlots(Heap h, long leaf, int cap, int n) {
        Segment s = h.segment();
        long tags = leaf + tagOffset(cap, 0);
        int i = 0;
        // Tags are 8-byte aligned at their start: skip 8 uncounted tags (all < 32) per read.
        for (; i + 8 <= n; i += 8) {
            if ((s.getLong(tags + i) & 0xE0E0_E0E0_E0E0_E0E0L) == 0) continue;
            for (int k = i; k < i + 8; k++) retainSlot(h, s, leaf, cap, k);
        }
        for (; i < n; i++) retainSlot(h, s, leaf, cap, i);
    }

    private static void retainSlot(Heap h, Segment s, long leaf, int cap, int i) {
        int t = tag(s, leaf, cap, i);
        if (Tags.isCounted(t)) h.allocator().retain(payload(s, leaf, i));
    }

    // --- lookup ------------------------------------------------------------------------

    // --- checks (every node offset read from the segment is untrusted) ---------------

    /**
     * Checks node before it is read: a live block of the given type
     * (VEC_BRANCH or VEC_LEAF) whose node word says cap slots and whose
     * block holds them. Returns node. The walks that use it are bounded by
     * the version's shift and count (checked where a version is read from a
     * collection block), so a child naming its own node or an ancestor is
     * found here as a branch where a leaf must be, or the other way round.
     */
    static long checked(Segment s, long node, int type, int cap) {
        long hd = s.block(node, type, type == BlockTypes.VEC_BRANCH ? "a vector branch" : "a vector leaf");
        int found = capacity(s, node);
        if (found != cap || (type == BlockTypes.VEC_BRANCH ? branchLength(cap) : VecNodeDescriptor.leafLength(cap)) > Segment.blockSize(hd))
            throw Damage.at(s, node, (type == BlockTypes.VEC_BRANCH ? "a vector branch" : "a vector leaf")
                + " of " + cap + " slots, found " + found);
        if (s.verifyOnRead) VecSeals.checkRead(s, node);
        return node;
    }

    /**
     * A leaf of cap slots for a vector of element type elem, checked: a
     * slot leaf for a vector (elem 0), a primitive leaf of that element
     * type for a vector-of (so neither is ever read as the other).
     */
    static long checkedLeaf(Segment s, long node, int elem, int cap) {
        if (elem == 0) return checked(s, node, BlockTypes.VEC_LEAF, cap);
        long hd = s.block(node, BlockTypes.VEC_PRIM_LEAF, "a vector-of leaf");
        long nw = s.getLong(node + NODE_WORD_OFFSET);
        if (capacityOf(nw) != cap || elemOf(nw) != elem || PrimLeafDescriptor.leafLength(elem, cap) > Segment.blockSize(hd))
            throw Damage.at(s, node, "a vector-of leaf of " + cap + " elements of type " + elem + ", found "
                + capacityOf(nw) + " of type " + elemOf(nw));
        if (s.verifyOnRead) VecSeals.checkRead(s, node);
        return node;
    }

    /** The tail leaf of a version of cnt elements of type elem, checked. */
    static long tail(Segment s, long tail, int elem, int cnt, int bits) {
        return checkedLeaf(s, tail, elem, cnt - tailoff(cnt, bits));
    }

    /** The trie leaf holding index i (i below tailoff), every node on the way checked. */
    static long leafFor(Segment s, long root, int elem, int shift, int bits, int i) {
        long node = root;
        int mask = (1 << bits) - 1;
        for (int level = shift; level > 0; level -= bits)
            node = s.getLong(fullNode(s, node, BlockTypes.VEC_BRANCH, bits) + childOffset((i >>> level) & mask));
        return elem == 0 ? fullNode(s, node, BlockTypes.VEC_LEAF, bits) : checkedLeaf(s, node, elem, 1 << bits);
    }

    // Every trie node (all but the tail) has 1 << bits slots, so its block's size class is known
    // before it is read: one compare of the header's upper half checks class, state and type.
    private static final int[] FULL_BRANCH_TOP = new int[MAX_BITS + 1], FULL_LEAF_TOP = new int[MAX_BITS + 1];
    private static final long[] FULL_BRANCH_SIZE = new long[MAX_BITS + 1], FULL_LEAF_SIZE = new long[MAX_BITS + 1];
    static {
        for (int b = MIN_BITS; b <= MAX_BITS; b++) {
            int bc = SizeClasses.classFor(branchLength(1 << b)), lc = SizeClasses.classFor(VecNodeDescriptor.leafLength(1 << b));
            FULL_BRANCH_TOP[b] = Segment.top(bc, BlockTypes.VEC_BRANCH);
            FULL_LEAF_TOP[b] = Segment.top(lc, BlockTypes.VEC_LEAF);
            FULL_BRANCH_SIZE[b] = SizeClasses.sizeOf(bc);
            FULL_LEAF_SIZE[b] = SizeClasses.sizeOf(lc);
        }
    }

    /**
     * {@link #checked} for a full trie node (a branch, or a slot leaf, of
     * 1 << bits slots) in the fewest compares: its header exactly as
     * allocated and its node word's capacity. Anything else (and a segment
     * verifying on read) takes the full check, which reports the damage.
     */
    static long fullNode(Segment s, long node, int type, int bits) {
        boolean branch = type == BlockTypes.VEC_BRANCH;
        long hd = s.header(node, branch ? "a vector branch" : "a vector leaf");
        if (s.isExactly(node, hd, branch ? FULL_BRANCH_TOP[bits] : FULL_LEAF_TOP[bits], branch ? FULL_BRANCH_SIZE[bits] : FULL_LEAF_SIZE[bits])
                && (s.getLong(node + NODE_WORD_OFFSET) & CAPACITY_MASK) == 1 << bits && !s.verifyOnRead)
            return node;
        return checked(s, node, type, 1 << bits);
    }

    /** Element i; IndexOutOfBoundsException outside 0..count-1, as PersistentVector. */
    static Object nth(Handle r, int i) {
        int cnt = checkIndex(r, i);
        Segment s = r.heap.segment();
        int bits = s.vecBits();
        return elemValue(r.heap, r, s, r.elem, leafOf(r, s, cnt, bits, i), leafCap(cnt, bits, i), leafSlot(cnt, bits, i));
    }

    /** r's count, once i is known to be an index of it (IndexOutOfBoundsException if not, as PersistentVector). */
    private static int checkIndex(Handle r, int i) {
        int cnt = count(r);
        if (i < 0 || i >= cnt) throw new IndexOutOfBoundsException();
        return cnt;
    }

    /** The leaf holding element i (the tail, or a trie leaf with every node on the way checked). */
    private static long leafOf(Handle r, Segment s, int cnt, int bits, int i) {
        return i >= tailoff(cnt, bits) ? tail(s, r.tail, r.elem, cnt, bits) : leafFor(s, r.node, r.elem, r.shift, bits, i);
    }

    /** The slots of the leaf holding element i, and i's slot in it. */
    private static int leafCap(int cnt, int bits, int i) {
        int to = tailoff(cnt, bits);
        return i >= to ? cnt - to : 1 << bits;
    }

    private static int leafSlot(int cnt, int bits, int i) {
        int to = tailoff(cnt, bits);
        return i >= to ? i - to : i & ((1 << bits) - 1);
    }

    /** Element i as a primitive long, as (long (nth v i)) without the box; IndexOutOfBoundsException as nth. */
    static long nthLong(Handle r, int i) {
        int cnt = checkIndex(r, i);
        Segment s = r.heap.segment();
        int bits = s.vecBits();
        return elemLong(r.heap, r, s, r.elem, leafOf(r, s, cnt, bits, i), leafCap(cnt, bits, i), leafSlot(cnt, bits, i));
    }

    /** elemValue as a long: stored longs as they are, anything else cast as clojure.core's long casts it. */
    private static long elemLong(Heap h, Handle parent, Segment s, int elem, long leaf, int cap, int j) {
        if (elem == PrimLeafDescriptor.ELEM_LONG) return PrimElems.read(s, elem, leaf, j);
        if (elem == 0 && tag(s, leaf, cap, j) == Tags.LONG) return payload(s, leaf, j);
        return clojure.lang.RT.longCast(elemValue(h, parent, s, elem, leaf, cap, j));
    }

    static Object nth(Handle r, int i, Object notFound) {
        return i >= 0 && i < r.count ? nth(r, i) : notFound;
    }

    /**
     * Decodes slot j of a leaf; longs, the common case, without the decoder's
     * switch. A nested collection borrows parent's counts (see
     * {@link Decoder#decodeIn}); with parent null (a transient, whose nodes
     * may still change) it gets a handle of its own.
     */
    static Object slotValue(Heap h, Handle parent, Segment s, long leaf, int cap, int j) {
        int t = tag(s, leaf, cap, j);
        long p = payload(s, leaf, j);
        return t == Tags.LONG ? (Object) p : Decoder.decodeIn(h, parent, t, p);
    }

    /** Element j of a leaf of element type elem: a decoded slot, or a boxed primitive (see {@link PrimElems#box}). */
    static Object elemValue(Heap h, Handle parent, Segment s, int elem, long leaf, int cap, int j) {
        return elem == 0 ? slotValue(h, parent, s, leaf, cap, j) : PrimElems.box(elem, PrimElems.read(s, elem, leaf, j));
    }
}
