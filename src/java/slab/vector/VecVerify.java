package slab.vector;

import static slab.vector.VecNodes.*;

import java.lang.ref.Reference;

import clojure.lang.Murmur3;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.SlotHasher;
import slab.value.Tags;

/**
 * A full check of one vector version against the canonical shape in
 * FORMAT.md (Vector nodes), for verify and tests: every node as a reader
 * checks it, the trie exactly as deep as its count needs, no child past the
 * end, every slot's tag known (a vector-of's leaves: primitive leaves of
 * its element type), every node sealed with the seal its bytes give, and (given a hasher) the hash recomputed from the
 * elements equal to the one the version records, which finds an element
 * whose bytes changed. Throws the damaged-segment error naming the first
 * problem.
 */
public final class VecVerify {
    private VecVerify() {}

    /** Checks the shape of version r, with every block it reaches live with a positive count. */
    public static void verify(Handle r) {
        r.check();
        try {
            verify(r.heap, r.node, r.tail, r.count, r.shift, r.elem, 0, null);
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /**
     * Checks the version (root, tail, count, shift) of element type elem (0
     * for slots); with a hasher, also that its elements hash to hasheq.
     */
    public static void verify(Heap h, long root, long tail, long count, int shift, int elem, int hasheq,
                              SlotHasher hasher) {
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        if (elem != 0 && !PrimLeafDescriptor.isElem(elem)) fail(s, root, "a known element type, found " + elem);
        if (!VecNodeDescriptor.isShape(bits, count, shift, root, tail))
            fail(s, root, "count " + count + ", shift " + shift + ", root " + root + " and tail " + tail + " that agree");
        int cnt = (int) count, to = tailoff(cnt, bits);
        long leaves = to >>> bits;
        if (shift > bits && leaves <= (1L << (shift - bits))) fail(s, root, "a trie no deeper than " + to + " elements need");
        int[] hash = {1};
        if (to > 0) verifySubtree(h, s, bits, w, elem, shift, root, 0, to, hasher, hash);
        if (cnt > 0) {
            checkLeaf(h, tail, elem, cnt - to);
            leaf(h, s, tail, elem, cnt - to, hasher, hash);
        }
        if (hasher != null && Murmur3.mixCollHash(hash[0], cnt) != hasheq)
            fail(s, root, "elements that hash to the vector's recorded hash " + hasheq);
    }

    /** The branch at level covering elements from first; elements below end exist. */
    private static void verifySubtree(Heap h, Segment s, int bits, int w, int elem, int level, long node, long first,
                                      long end, SlotHasher hasher, int[] hash) {
        if (level == 0) {
            checkLeaf(h, node, elem, w);
            leaf(h, s, node, elem, w, hasher, hash);
            return;
        }
        checked(s, node, BlockTypes.VEC_BRANCH, w);
        VecSeals.check(s, node, true);   // published: sealed, and the seal matches
        positive(h, node);
        long span = 1L << level;
        for (int i = 0; i < w; i++) {
            long from = first + i * span;
            long ch = child(s, node, i);
            if (from < end) {
                if (ch == 0) fail(s, node, "child " + i + " of a branch at level " + level);
                verifySubtree(h, s, bits, w, elem, level - bits, ch, from, end, hasher, hash);
            } else if (ch != 0) {
                fail(s, node, "no child " + i + " (past the end) of a branch at level " + level);
            }
        }
    }

    private static void checkLeaf(Heap h, long node, int elem, int cap) {
        checkedLeaf(h.segment(), node, elem, cap);
        VecSeals.check(h.segment(), node, true);
        positive(h, node);
    }

    private static void positive(Heap h, long node) {
        if (h.allocator().refcount(node) < 1) fail(h.segment(), node, "a node with a positive reference count");
    }

    /** Checks a leaf's elements and folds them into the ordered hash. */
    private static void leaf(Heap h, Segment s, long node, int elem, int cap, SlotHasher hasher, int[] hash) {
        for (int j = 0; j < cap; j++) {
            int t = tagAt(s, elem, node, cap, j);
            if (!Tags.isKnown(t)) fail(s, node, "a known tag in slot " + j + ", found " + t);
            if (hasher != null) hash[0] = 31 * hash[0] + hasher.hash(t, payloadAt(s, elem, node, j));
            else if (Tags.isCounted(t)) s.liveHeader(payloadAt(s, elem, node, j), "a live block in slot " + j);
        }
    }

    private static void fail(Segment s, long at, String expected) {
        throw Damage.at(s, at, "a sound vector: " + expected);
    }
}
