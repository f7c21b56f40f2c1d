package slab.codec;

import static slab.codec.VecNodeDescriptor.*;
import static slab.mem.AllocatorDescriptor.BLOCK_HEADER_LENGTH;

import java.util.Iterator;

import clojure.lang.ExceptionInfo;
import clojure.lang.RT;
import slab.mem.Allocator;
import slab.mem.Segment;

/**
 * Vector trie nodes in the segment (layout in {@link VecNodeDescriptor}):
 * node primitives, lookup, the persistent updates (cons, assocN, pop) and
 * the reclaimer's hook. Every update is a path copy: the new nodes retain
 * each child and counted slot they share with the old ones, and the result
 * is a new {@link Root} owning one count on its root node and one on its
 * tail. Transients are in {@link VecTransient}; iteration, hashing and
 * equality in {@link VecReads}.
 *
 * <p>Failure leaves nothing behind: a value is encoded before any node is
 * allocated, and when an allocation fails the nodes made so far and the
 * encoded value are released before the error propagates.
 *
 * <p>Callers keep the Root reachable while these methods read through it
 * (the Clojure layer's {@code fenced}); methods that hand out lazily read
 * objects (seqs, iterators) fence by themselves.
 */
public final class VecNodes {
    private VecNodes() {}

    // --- shape ---------------------------------------------------------------------

    /** Index of the first element in the tail. */
    static int tailoff(int cnt, int bits) {
        return cnt < (1 << bits) ? 0 : ((cnt - 1) >>> bits) << bits;
    }

    static int count(Root r) { return (int) r.count; }

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

    /** A branch with no children. */
    static long newBranch(Codec c, int w, long edit) {
        long b = c.allocator().allocate(branchLength(w) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_BRANCH);
        Segment s = c.segment();
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, w));
        s.fill(b + SLOTS_OFFSET, (long) CHILD_LENGTH * w, (byte) 0);
        return b;
    }

    /** A leaf of cap slots, all NIL. */
    static long newLeaf(Codec c, int cap, long edit) {
        long b = c.allocator().allocate(leafLength(cap) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_LEAF);
        Segment s = c.segment();
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, cap));
        s.fill(b + tagOffset(cap, 0), cap, (byte) Tags.NIL);
        return b;
    }

    /**
     * A copy of branch src retaining every child except {@code skip} (-1 for
     * none), whose slot is left empty for the caller to fill.
     */
    static long copyBranch(Codec c, long src, int w, int skip, long edit) {
        Segment s = c.segment();
        Allocator a = c.allocator();
        long b = a.allocate(branchLength(w) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_BRANCH);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, w));
        s.copy(src + SLOTS_OFFSET, b + SLOTS_OFFSET, (long) CHILD_LENGTH * w);
        if (skip >= 0) setChild(s, b, skip, 0);
        for (int i = 0; i < w; i++) {
            long ch = child(s, b, i);
            if (ch != 0) a.retain(ch);
        }
        return b;
    }

    /**
     * A leaf of newCap slots holding the first n slots of src (capacity
     * srcCap), retaining their counted payloads except slot {@code skip}
     * (-1 for none), which is left NIL for the caller to fill.
     */
    static long copyLeaf(Codec c, long src, int srcCap, int n, int newCap, int skip, long edit) {
        Segment s = c.segment();
        long b = c.allocator().allocate(leafLength(newCap) - BLOCK_HEADER_LENGTH, BlockTypes.VEC_LEAF);
        s.putLong(b + NODE_WORD_OFFSET, nodeWord(edit, newCap));
        if (n > 0) {
            s.copy(src + SLOTS_OFFSET, b + SLOTS_OFFSET, (long) PAYLOAD_LENGTH * n);
            s.copy(src + tagOffset(srcCap, 0), b + tagOffset(newCap, 0), n);
        }
        if (newCap > n) s.fill(b + tagOffset(newCap, n), newCap - n, (byte) Tags.NIL);
        if (skip >= 0) s.putByte(b + tagOffset(newCap, skip), (byte) Tags.NIL);
        retainSlots(c, b, newCap, n);
        return b;
    }

    /** Retains the counted payloads among the first n slots of a leaf. */
    static void retainSlots(Codec c, long leaf, int cap, int n) {
        Segment s = c.segment();
        long tags = leaf + tagOffset(cap, 0);
        int i = 0;
        // Tags are 8-byte aligned at their start: skip 8 uncounted tags (all < 32) per read.
        for (; i + 8 <= n; i += 8) {
            if ((s.getLong(tags + i) & 0xE0E0_E0E0_E0E0_E0E0L) == 0) continue;
            for (int k = i; k < i + 8; k++) retainSlot(c, s, leaf, cap, k);
        }
        for (; i < n; i++) retainSlot(c, s, leaf, cap, i);
    }

    private static void retainSlot(Codec c, Segment s, long leaf, int cap, int i) {
        int t = tag(s, leaf, cap, i);
        if (Tags.isCounted(t)) c.allocator().retain(payload(s, leaf, i));
    }

    // --- lookup ------------------------------------------------------------------------

    /** The trie leaf holding index i (i below tailoff). */
    static long leafFor(Segment s, long root, int shift, int bits, int i) {
        long node = root;
        int mask = (1 << bits) - 1;
        for (int level = shift; level > 0; level -= bits)
            node = s.getLong(node + childOffset((i >>> level) & mask));
        return node;
    }

    /** Element i; IndexOutOfBoundsException outside 0..count-1, as PersistentVector. */
    public static Object nth(Root r, int i) {
        int cnt = count(r);
        if (i < 0 || i >= cnt) throw new IndexOutOfBoundsException();
        Codec c = r.codec;
        Segment s = c.segment();
        int bits = s.vecBits();
        int to = tailoff(cnt, bits);
        if (i >= to) return slotValue(c, s, r.tail, cnt - to, i - to);
        return slotValue(c, s, leafFor(s, r.node, r.shift, bits, i), 1 << bits, i & ((1 << bits) - 1));
    }

    public static Object nth(Root r, int i, Object notFound) {
        return i >= 0 && i < r.count ? nth(r, i) : notFound;
    }

    /** Decodes slot j of a leaf; longs, the common case, without the codec's switch. */
    static Object slotValue(Codec c, Segment s, long leaf, int cap, int j) {
        int t = tag(s, leaf, cap, j);
        long p = payload(s, leaf, j);
        return t == Tags.LONG ? (Object) p : c.decode(t, p);
    }

    // --- persistent updates -----------------------------------------------------------

    public static Root empty(Codec c, int kind) {
        return new Root(c, kind, 0, 0, 0, c.segment().vecBits(), 0, false);
    }

    private static Root derive(Root r, long node, long tail, int cnt, int shift) {
        return new Root(r.codec, r.kind, node, tail, cnt, shift, 0, false);
    }

    /** A new version with v appended. */
    public static Root cons(Root r, Object v) {
        Codec c = r.codec;
        Slot slot = new Slot();
        c.encode(v, slot);
        try {
            return consSlot(r, slot.tag, slot.payload);
        } catch (RuntimeException | Error e) {
            c.releaseSlot(slot.tag, slot.payload);
            throw e;
        }
    }

    /** The slot's count passes to the new version only when this returns normally. */
    private static Root consSlot(Root r, int tag, long payload) {
        Codec c = r.codec;
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int cnt = count(r);
        if (cnt == Integer.MAX_VALUE) throw new IllegalStateException("slab: a vector holds at most 2^31-1 elements");
        int tc = cnt - tailoff(cnt, bits);
        if (tc < w) {
            long tail = copyLeaf(c, r.tail, tc, tc, tc + 1, -1, 0);
            writeSlot(s, tail, tc + 1, tc, tag, payload);
            c.retain(r.node);
            return derive(r, r.node, tail, cnt + 1, r.shift);
        }
        // The full tail moves into the trie; the new tail holds v alone.
        long tail = newLeaf(c, 1, 0);
        long root;
        int shift = r.shift;
        try {
            if ((cnt >>> bits) > (1L << shift)) {           // the root is full: grow a level
                root = newBranch(c, w, 0);
                try {
                    setChild(s, root, 1, newPath(c, shift, r.tail, w, 0));
                } catch (RuntimeException | Error e) {
                    c.releaseRef(root);
                    throw e;
                }
                c.retain(r.node);
                setChild(s, root, 0, r.node);
                shift += bits;
            } else {
                root = pushTail(c, cnt, shift, r.node, r.tail, 0);
            }
        } catch (RuntimeException | Error e) {
            c.releaseRef(tail);
            throw e;
        }
        writeSlot(s, tail, 1, 0, tag, payload);
        return derive(r, root, tail, cnt + 1, shift);
    }

    /**
     * A copy of branch parent (or a new branch when parent is 0) at level
     * with leaf inserted where index cnt-1 belongs. The leaf gains a count.
     */
    static long pushTail(Codec c, int cnt, int level, long parent, long leaf, long edit) {
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int sub = ((cnt - 1) >>> level) & (w - 1);
        long ret = parent == 0 ? newBranch(c, w, edit) : copyBranch(c, parent, w, sub, edit);
        long insert;
        try {
            if (level == bits) {
                c.retain(leaf);
                insert = leaf;
            } else {
                long ch = parent == 0 ? 0 : child(s, parent, sub);
                insert = ch != 0 ? pushTail(c, cnt, level - bits, ch, leaf, edit) : newPath(c, level - bits, leaf, w, edit);
            }
        } catch (RuntimeException | Error e) {
            c.releaseRef(ret);
            throw e;
        }
        setChild(s, ret, sub, insert);
        return ret;
    }

    /** A chain of new branches from level down to leaf, each the first child of the one above; leaf gains a count. */
    static long newPath(Codec c, int level, long leaf, int w, long edit) {
        int bits = Integer.numberOfTrailingZeros(w);
        c.retain(leaf);
        long ret = leaf;
        for (int l = level; l > 0; l -= bits) {
            long b;
            try {
                b = newBranch(c, w, edit);
            } catch (RuntimeException | Error e) {
                c.releaseRef(ret);
                throw e;
            }
            setChild(c.segment(), b, 0, ret);
            ret = b;
        }
        return ret;
    }

    /** A new version with element i replaced by v; i == count appends. */
    public static Root assocN(Root r, int i, Object v) {
        int cnt = count(r);
        if (i == cnt) return cons(r, v);
        if (i < 0 || i > cnt) throw new IndexOutOfBoundsException();
        Codec c = r.codec;
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        Slot slot = new Slot();
        c.encode(v, slot);
        try {
            int to = tailoff(cnt, bits);
            if (i >= to) {
                int tc = cnt - to;
                long tail = copyLeaf(c, r.tail, tc, tc, tc, i - to, 0);
                writeSlot(s, tail, tc, i - to, slot.tag, slot.payload);
                c.retain(r.node);
                return derive(r, r.node, tail, cnt, r.shift);
            }
            long root = doAssoc(c, r.shift, r.node, i, slot.tag, slot.payload);
            c.retain(r.tail);
            return derive(r, root, r.tail, cnt, r.shift);
        } catch (RuntimeException | Error e) {
            c.releaseSlot(slot.tag, slot.payload);
            throw e;
        }
    }

    /** Path copy of node at level with slot i set; the slot is written last, after every allocation. */
    private static long doAssoc(Codec c, int level, long node, int i, int tag, long payload) {
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits, mask = w - 1;
        if (level == 0) {
            long leaf = copyLeaf(c, node, w, w, w, i & mask, 0);
            writeSlot(s, leaf, w, i & mask, tag, payload);
            return leaf;
        }
        int sub = (i >>> level) & mask;
        long ret = copyBranch(c, node, w, sub, 0);
        long ch;
        try {
            ch = doAssoc(c, level - bits, child(s, node, sub), i, tag, payload);
        } catch (RuntimeException | Error e) {
            c.releaseRef(ret);
            throw e;
        }
        setChild(s, ret, sub, ch);
        return ret;
    }

    /** A new version without the last element; IllegalStateException on an empty vector, as PersistentVector. */
    public static Root pop(Root r) {
        int cnt = count(r);
        if (cnt == 0) throw new IllegalStateException("Can't pop empty vector");
        Codec c = r.codec;
        if (cnt == 1) return empty(c, r.kind);
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int tc = cnt - tailoff(cnt, bits);
        if (tc > 1) {
            long tail = copyLeaf(c, r.tail, tc, tc - 1, tc - 1, -1, 0);
            c.retain(r.node);
            return derive(r, r.node, tail, cnt - 1, r.shift);
        }
        // The tail empties: the last trie leaf becomes the tail.
        long tail = leafFor(s, r.node, r.shift, bits, cnt - 2);
        c.retain(tail);
        long root;
        int shift = r.shift;
        try {
            root = popTail(c, cnt, shift, r.node);
        } catch (RuntimeException | Error e) {
            c.releaseRef(tail);
            throw e;
        }
        if (shift > bits && root != 0 && child(s, root, 1) == 0) {
            long only = child(s, root, 0);
            c.retain(only);
            c.releaseRef(root);
            root = only;
            shift -= bits;
        }
        return derive(r, root, tail, cnt - 1, shift);
    }

    /** Path copy of node without the leaf holding index cnt-2; 0 when nothing would be left. */
    private static long popTail(Codec c, int cnt, int level, long node) {
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int sub = ((cnt - 2) >>> level) & (w - 1);
        if (level > bits) {
            long ch = popTail(c, cnt, level - bits, child(s, node, sub));
            if (ch == 0 && sub == 0) return 0;
            long ret;
            try {
                ret = copyBranch(c, node, w, sub, 0);
            } catch (RuntimeException | Error e) {
                c.releaseRef(ch);
                throw e;
            }
            setChild(s, ret, sub, ch);
            return ret;
        }
        if (sub == 0) return 0;
        return copyBranch(c, node, w, sub, 0);
    }

    // --- building ---------------------------------------------------------------------

    /**
     * A new version holding the elements of seqable, built through a
     * transient; kind is Tags.VECTOR or Tags.LIST. The codec calls this for
     * values it has already validated, so elements are encoded trusted.
     */
    static Root fromSeqable(Codec c, Object seqable, int kind) {
        return fill(c, VecTransient.building(c, kind, true), RT.iter(seqable));
    }

    /**
     * The Clojure layer's bulk build: a new version of the elements of
     * seqable (any collection, seq, array, string or nil). Every element is
     * validated first, so a value slab cannot store fails the build with its
     * index in the error's path and writes nothing (not even a keyword).
     */
    public static Root build(Codec c, Object seqable, int kind) {
        boolean reiterable = seqable instanceof clojure.lang.IPersistentCollection && seqable instanceof Iterable;
        Object source = reiterable ? seqable : RT.seq(seqable);   // a seq caches what it realizes
        long i = 0;
        for (Iterator<?> it = RT.iter(source); it.hasNext(); i++) {
            Object x = it.next();
            try {
                c.validate(x);
            } catch (ExceptionInfo e) {
                throw c.withPath(e, i);
            }
        }
        return fill(c, VecTransient.building(c, kind, true), RT.iter(source));
    }

    private static Root fill(Codec c, VecTransient t, Iterator<?> it) {
        try {
            while (it.hasNext()) t.conj(it.next());
        } catch (RuntimeException | Error e) {
            t.abandon();
            throw e;
        }
        return t.persistent();
    }

    // --- hashing (for Root) ------------------------------------------------------------

    static int orderedHash(Root r) { return VecReads.orderedHash(r); }

    // --- reclaiming and the reference graph ---------------------------------------------

    /** The reclaimer's hook: drops the counts a dead branch or leaf holds, onto the work list. */
    static void dropChildren(Codec c, long node, LongStack work) {
        Segment s = c.segment();
        int cap = capacity(s, node);
        if (c.typeOf(node) == BlockTypes.VEC_BRANCH) {
            for (int i = 0; i < cap; i++) c.dropInto(child(s, node, i), work);
        } else {
            for (int i = 0; i < cap; i++) c.dropSlotInto(tag(s, node, cap, i), payload(s, node, i), work);
        }
    }

    /** The sweep's view of the reference graph: pushes every block a branch or leaf holds a count on. */
    static void pushRefs(Codec c, long node, LongStack out) {
        Segment s = c.segment();
        int cap = capacity(s, node);
        if (c.typeOf(node) == BlockTypes.VEC_BRANCH) {
            for (int i = 0; i < cap; i++) {
                long ch = child(s, node, i);
                if (ch != 0) out.push(ch);
            }
        } else {
            for (int i = 0; i < cap; i++)
                if (Tags.isCounted(tag(s, node, cap, i))) out.push(payload(s, node, i));
        }
    }
}
