package slab.vector;

import static slab.vector.VecNodes.*;

import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;

/**
 * Persistent cons, assocN and pop: path copies written against the
 * primitives in {@link VecNodes}. The new nodes retain each child and
 * counted slot they share with the old ones, and the result is a new
 * {@link Handle} owning one count on its root node and one on its tail.
 *
 * <p>Failure leaves nothing behind: a value is encoded before any node is
 * allocated, and when an allocation fails the nodes made so far and the
 * encoded value are released before the error propagates. The caller
 * ({@link Vectors}) checks and fences the handle.
 */
final class VecUpdates {
    private VecUpdates() {}

    // --- persistent updates -----------------------------------------------------------

    /** An empty vector or list (elem 0), or vector-of of element type elem. */
    static Handle empty(Heap h, int kind, int elem) {
        return new Handle(h, kind, elem, 0, 0, 0, h.segment().vecBits(), 0, false);
    }

    private static Handle derive(Handle r, long node, long tail, int cnt, int shift) {
        return new Handle(r.heap, r.kind, r.elem, node, tail, cnt, shift, 0, false);
    }

    /**
     * A new version with v appended. A vector-of casts v first, as
     * clojure.core's does, and passes its bits as the payload of an
     * uncounted slot (tag NIL), which the node primitives write unboxed.
     */
    static Handle cons(Handle r, Object v) {
        if (r.elem != 0) return consSlot(r, Tags.NIL, PrimElems.coerce(r.elem, v));
        if (v instanceof Long l) return consSlot(r, Tags.LONG, l);   // the common case, without the encoder
        Heap h = r.heap;
        Slot slot = new Slot();
        Encoder.encode(h, v, slot);
        try {
            return consSlot(r, slot.tag, slot.payload);
        } catch (RuntimeException | Error e) {
            RefCounts.releaseSlot(h, slot.tag, slot.payload);
            throw e;
        }
    }

    /** The slot's count passes to the new version only when this returns normally. */
    private static Handle consSlot(Handle r, int tag, long payload) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int cnt = count(r);
        if (cnt == Integer.MAX_VALUE) throw new IllegalStateException("slab: a vector holds at most 2^31-1 elements");
        int tc = cnt - tailoff(cnt, bits);
        if (tc < w) {
            long tail = copyLeaf(h, r.elem, r.tail, tc, tc, tc + 1, -1, 0);
            writeElem(s, r.elem, tail, tc + 1, tc, tag, payload);
            VecSeals.seal(s, tail);
            settle(h, r.tail, tail, tag, payload);
            RefCounts.retain(h, r.node);
            return derive(r, r.node, tail, cnt + 1, r.shift);
        }
        // The full tail moves into the trie; the new tail holds v alone.
        long tail = newLeaf(h, r.elem, 1, 0);
        long root;
        int shift = r.shift;
        try {
            if ((cnt >>> bits) > (1L << shift)) {           // the root is full: grow a level
                root = newBranch(h, w, 0);
                try {
                    setChild(s, root, 1, newPath(h, shift, r.tail, w, 0));
                } catch (RuntimeException | Error e) {
                    RefCounts.release(h, root);
                    throw e;
                }
                RefCounts.retain(h, r.node);
                setChild(s, root, 0, r.node);
                VecSeals.seal(s, root);
                shift += bits;
            } else {
                root = pushTail(h, cnt, shift, r.node, r.tail, 0);
            }
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, tail);
            throw e;
        }
        writeElem(s, r.elem, tail, 1, 0, tag, payload);
        VecSeals.seal(s, tail);
        return derive(r, root, tail, cnt + 1, shift);
    }

    /**
     * A copy of branch parent (or a new branch when parent is 0) at level
     * with leaf inserted where index cnt-1 belongs. The leaf gains a count.
     */
    static long pushTail(Heap h, int cnt, int level, long parent, long leaf, long edit) {
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int sub = ((cnt - 1) >>> level) & (w - 1);
        long ret = parent == 0 ? newBranch(h, w, edit) : copyBranch(h, parent, w, sub, edit);
        long insert;
        try {
            if (level == bits) {
                RefCounts.retain(h, leaf);
                insert = leaf;
            } else {
                long ch = parent == 0 ? 0 : child(s, parent, sub);
                insert = ch != 0 ? pushTail(h, cnt, level - bits, ch, leaf, edit) : newPath(h, level - bits, leaf, w, edit);
            }
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, ret);
            throw e;
        }
        setChild(s, ret, sub, insert);
        if (edit == 0) VecSeals.seal(s, ret);
        if (parent != 0) h.lineage().settle(parent, ret, insert);
        return ret;
    }

    /** A chain of new branches from level down to leaf, each the first child of the one above; leaf gains a count. */
    static long newPath(Heap h, int level, long leaf, int w, long edit) {
        int bits = Integer.numberOfTrailingZeros(w);
        RefCounts.retain(h, leaf);
        long ret = leaf;
        for (int l = level; l > 0; l -= bits) {
            long b;
            try {
                b = newBranch(h, w, edit);
            } catch (RuntimeException | Error e) {
                RefCounts.release(h, ret);
                throw e;
            }
            setChild(h.segment(), b, 0, ret);
            if (edit == 0) VecSeals.seal(h.segment(), b);
            ret = b;
        }
        return ret;
    }

    /** A new version with element i replaced by v; i == count appends. */
    static Handle assocN(Handle r, int i, Object v) {
        int cnt = count(r);
        if (i == cnt) return cons(r, v);
        if (i < 0 || i > cnt) throw new IndexOutOfBoundsException();
        Heap h = r.heap;
        int tag;
        long payload;
        if (r.elem != 0) {
            tag = Tags.NIL;                                  // bits of an unboxed element: nothing counted
            payload = PrimElems.coerce(r.elem, v);
        } else if (v instanceof Long l) {
            tag = Tags.LONG;
            payload = l;
        } else {
            Slot slot = new Slot();
            Encoder.encode(h, v, slot);
            tag = slot.tag;
            payload = slot.payload;
        }
        try {
            return assocSlot(r, cnt, i, tag, payload);
        } catch (RuntimeException | Error e) {
            RefCounts.releaseSlot(h, tag, payload);
            throw e;
        }
    }

    private static Handle assocSlot(Handle r, int cnt, int i, int tag, long payload) {
        Heap h = r.heap;
        Segment s = h.segment();
        int to = tailoff(cnt, s.vecBits());
        if (i >= to) {
            int tc = cnt - to;
            long tail = copyLeaf(h, r.elem, r.tail, tc, tc, tc, i - to, 0);
            writeElem(s, r.elem, tail, tc, i - to, tag, payload);
            VecSeals.seal(s, tail);
            settle(h, r.tail, tail, tag, payload);
            RefCounts.retain(h, r.node);
            return derive(r, r.node, tail, cnt, r.shift);
        }
        long root = doAssoc(h, r.elem, r.shift, r.node, i, tag, payload);
        RefCounts.retain(h, r.tail);
        return derive(r, root, r.tail, cnt, r.shift);
    }

    /** Path copy of node at level with slot i set; the slot is written last, after every allocation. */
    private static long doAssoc(Heap h, int elem, int level, long node, int i, int tag, long payload) {
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits, mask = w - 1;
        if (level == 0) {
            long leaf = copyLeaf(h, elem, node, w, w, w, i & mask, 0);
            writeElem(s, elem, leaf, w, i & mask, tag, payload);
            VecSeals.seal(s, leaf);
            settle(h, node, leaf, tag, payload);
            return leaf;
        }
        int sub = (i >>> level) & mask;
        long ret = copyBranch(h, node, w, sub, 0);
        long ch;
        try {
            ch = doAssoc(h, elem, level - bits, child(s, node, sub), i, tag, payload);
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, ret);
            throw e;
        }
        setChild(s, ret, sub, ch);
        VecSeals.seal(s, ret);
        h.lineage().settle(node, ret, ch);
        return ret;
    }

    /** After a slot was written into copy (made from src): see SegmentLineage.settle. */
    private static void settle(Heap h, long src, long copy, int tag, long payload) {
        if (Tags.isCounted(tag)) h.lineage().settle(src, copy, payload);
    }

    /** A new version without the last element; IllegalStateException on an empty vector, as PersistentVector. */
    static Handle pop(Handle r) {
        int cnt = count(r);
        if (cnt == 0) throw new IllegalStateException("Can't pop empty vector");
        Heap h = r.heap;
        if (cnt == 1) return empty(h, r.kind, r.elem);
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int tc = cnt - tailoff(cnt, bits);
        if (tc > 1) {
            long tail = VecSeals.seal(s, copyLeaf(h, r.elem, r.tail, tc, tc - 1, tc - 1, -1, 0));
            RefCounts.retain(h, r.node);
            return derive(r, r.node, tail, cnt - 1, r.shift);
        }
        // The tail empties: the last trie leaf becomes the tail.
        long tail = leafFor(s, r.node, r.elem, r.shift, bits, cnt - 2);
        RefCounts.retain(h, tail);
        long root;
        int shift = r.shift;
        try {
            root = popTail(h, cnt, shift, r.node);
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, tail);
            throw e;
        }
        if (shift > bits && root != 0 && child(s, root, 1) == 0) {
            long only = child(s, root, 0);
            RefCounts.retain(h, only);
            RefCounts.release(h, root);
            root = only;
            shift -= bits;
        }
        return derive(r, root, tail, cnt - 1, shift);
    }

    /** Path copy of node without the leaf holding index cnt-2; 0 when nothing would be left. */
    private static long popTail(Heap h, int cnt, int level, long node) {
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int sub = ((cnt - 2) >>> level) & (w - 1);
        if (level > bits) {
            long ch = popTail(h, cnt, level - bits, child(s, node, sub));
            if (ch == 0 && sub == 0) return 0;
            long ret;
            try {
                ret = copyBranch(h, node, w, sub, 0);
            } catch (RuntimeException | Error e) {
                RefCounts.release(h, ch);
                throw e;
            }
            setChild(s, ret, sub, ch);
            VecSeals.seal(s, ret);
            h.lineage().settle(node, ret, ch);
            return ret;
        }
        if (sub == 0) return 0;
        return VecSeals.seal(s, copyBranch(h, node, w, sub, 0));
    }
}
