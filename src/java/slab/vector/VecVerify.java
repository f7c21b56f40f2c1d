package slab.vector;

import static slab.vector.VecNodeDescriptor.NODE_WORD_OFFSET;
import static slab.vector.VecNodes.*;

import java.lang.ref.Reference;

import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Tags;

/**
 * A structural check of one vector version against the canonical shape in
 * FORMAT.md (Vector nodes): for tests, and for users who suspect a damaged
 * segment.
 */
public final class VecVerify {
    private VecVerify() {}

    /**
     * Checks that version r has the canonical shape described in FORMAT.md
     * (Vector nodes) and that every block it reaches is live with a positive
     * count; throws IllegalStateException naming the first problem. For
     * tests and for users who suspect a damaged segment.
     */
    public static void verify(Handle r) {
        r.check();
        try {
            Heap h = r.heap;
            Segment s = h.segment();
            int bits = s.vecBits(), w = 1 << bits, cnt = count(r), to = tailoff(cnt, bits);
            if (r.shift < bits || r.shift % bits != 0) fail("shift " + r.shift + " is not a positive multiple of " + bits);
            if (cnt == 0) {
                if (r.node != 0 || r.tail != 0) fail("an empty vector has nodes");
                return;
            }
            if (r.elem != 0 && !PrimLeafDescriptor.isElem(r.elem)) fail("unknown element type " + r.elem);
            int leafType = leafType(r.elem);
            checkNode(h, r.tail, leafType, r.elem, cnt - to, "tail");
            if (to == 0) {
                if (r.node != 0) fail("a vector whose elements all fit the tail has a root");
                if (r.shift != bits) fail("an empty trie has shift " + r.shift);
                return;
            }
            if (r.node == 0) fail("no root for " + to + " trie elements");
            long leaves = to >>> bits;
            if (r.shift > bits && leaves <= (1L << (r.shift - bits))) fail("shift " + r.shift + " is deeper than " + to + " elements need");
            if (r.shift + bits < 63 && leaves > (1L << r.shift)) fail("shift " + r.shift + " is too shallow for " + to + " elements");
            verifySubtree(h, s, bits, w, leafType, r.elem, r.shift, r.node, 0, to);
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** The branch at level covering elements from first; elements below end exist. */
    private static void verifySubtree(Heap h, Segment s, int bits, int w, int leafType, int elem, int level, long node,
                                      long first, long end) {
        if (level == 0) {
            checkNode(h, node, leafType, elem, w, "leaf at " + first);
            return;
        }
        checkNode(h, node, BlockTypes.VEC_BRANCH, 0, w, "branch at " + first + " level " + level);
        long span = 1L << level;
        for (int i = 0; i < w; i++) {
            long from = first + i * span;
            long ch = child(s, node, i);
            if (from < end) {
                if (ch == 0) fail("missing child " + i + " of the branch at " + first + " level " + level);
                verifySubtree(h, s, bits, w, leafType, elem, level - bits, ch, from, end);
            } else if (ch != 0) {
                fail("child " + i + " of the branch at " + first + " level " + level + " is past the end");
            }
        }
    }

    private static void checkNode(Heap h, long node, int type, int elem, int cap, String what) {
        Segment s = h.segment();
        if (node == 0) fail(what + " is missing");
        if (!h.allocator().isLive(node) || h.allocator().refcount(node) < 1) fail(what + " at " + node + " is not live");
        if (h.allocator().typeOf(node) != type) fail(what + " at " + node + " has block type " + h.allocator().typeOf(node));
        if (capacity(s, node) != cap) fail(what + " at " + node + " has capacity " + capacity(s, node) + ", not " + cap);
        int e = VecNodeDescriptor.elemOf(s.getLong(node + NODE_WORD_OFFSET));
        if (e != elem) fail(what + " at " + node + " has element type " + e + ", not " + elem);
        if (type == BlockTypes.VEC_PRIM_LEAF && h.allocator().blockSize(node) < PrimLeafDescriptor.leafLength(elem, cap))
            fail(what + " at " + node + " is smaller than " + cap + " elements");
        if (type == BlockTypes.VEC_LEAF) {
            for (int j = 0; j < cap; j++) {
                int t = tag(s, node, cap, j);
                if (!Tags.isKnown(t)) fail(what + " slot " + j + " has unknown tag " + t);
                if (Tags.isCounted(t) && !h.allocator().isLive(payload(s, node, j)))
                    fail(what + " slot " + j + " names a block that is not live");
            }
        }
    }

    private static void fail(String why) {
        throw new IllegalStateException("slab: damaged vector: " + why);
    }
}
