package slab.vector;

import static slab.vector.VecNodeDescriptor.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.HeaderDescriptor;
import slab.mem.SealDescriptor;
import slab.mem.Seals;
import slab.mem.Segment;

/**
 * Seals of vector nodes (doc/FORMAT.md, *Seals*): kept in the node word
 * (bit 63 SEAL_FLAG, the seal in bits 16..47, capacity and element type
 * below as before), covering [24, end of the children, slots or elements)
 * with the node word's edit bits read as 0. A persistent update seals each
 * node it makes after its last write, before the version is handed out; a
 * transient's nodes carry its edit id until persistent! seals them.
 */
public final class VecSeals {
    private VecSeals() {}

    /** The node word's bits the seal covers: capacity and element type. */
    private static final long KEPT = (1L << EDIT_SHIFT) - 1;

    /** Offset (from node) past the last byte its seal covers, by type and node word. */
    static long end(int type, long word) {
        int cap = capacityOf(word);
        return switch (type) {
            case BlockTypes.VEC_BRANCH -> branchLength(cap);
            case BlockTypes.VEC_LEAF -> leafLength(cap);
            default -> PrimLeafDescriptor.isElem(elemOf(word)) ? PrimLeafDescriptor.leafLength(elemOf(word), cap) : -1;
        };
    }

    /**
     * Offset past the last byte of leaf node's contents if it is a sealed
     * leaf (VEC_LEAF or VEC_PRIM_LEAF) of block type type; else 0.
     */
    public static long sealedLeafEnd(Segment s, long node, int type) {
        if (type != BlockTypes.VEC_LEAF && type != BlockTypes.VEC_PRIM_LEAF) return 0;
        long word = s.getLong(node + NODE_WORD_OFFSET);
        if ((word & SealDescriptor.SEAL_FLAG) == 0) return 0;
        return Math.max(0, end(type, word));
    }

    private static int compute(Segment s, long node, int type, long word) {
        return Seals.of(s, node, NODE_WORD_OFFSET, end(type, word), NODE_WORD_OFFSET, KEPT);
    }

    /** Seals node (every byte written). Returns node. */
    public static long seal(Segment s, long node) {
        int type = AllocatorDescriptor.typeOf(s.getLong(node));
        long word = s.getLong(node + NODE_WORD_OFFSET);
        long seal = compute(s, node, type, word) & 0xFFFF_FFFFL;
        s.putLong(node + NODE_WORD_OFFSET, SealDescriptor.SEAL_FLAG | seal << SEAL_SHIFT | (word & KEPT));
        return node;
    }

    /**
     * Seals every node under root (a branch at level shift, or a leaf at 0)
     * that carries edit, at a transient's persistent!: only such nodes are
     * descended into, since everything below a node the transient did not
     * make is sealed already.
     */
    static void sealTransient(Segment s, long node, int level, int bits, long edit) {
        if (node == 0 || VecNodes.editOf(s, node) != edit) return;
        if (level > 0) {
            int w = 1 << bits;
            for (int i = 0; i < w; i++) sealTransient(s, VecNodes.child(s, node, i), level - bits, bits, edit);
        }
        seal(s, node);
    }

    // --- checks -----------------------------------------------------------------------

    /**
     * Checks the seal of vector node (branch, leaf or primitive leaf).
     * strict (verify's walk of published versions): a node without a seal
     * is damage; otherwise an unsealed node is accepted when it carries an
     * edit id already handed out (a live transient's).
     */
    public static void check(Segment s, long node, boolean strict) { check(s, node, strict, false); }

    /** check for a read under {:verify :on-read}: an unsealed node must be a transient's of this mapping. */
    public static void checkRead(Segment s, long node) { check(s, node, false, true); }

    private static void check(Segment s, long node, boolean strict, boolean read) {
        long hd = s.liveHeader(node, "a vector node");
        int type = AllocatorDescriptor.typeOf(hd);
        s.within(node, hd, node, SLOTS_OFFSET, "a vector node");
        long word = s.getLong(node + NODE_WORD_OFFSET);
        long end = end(type, word);
        if (end < 0) throw slab.mem.Damage.at(s, node, "a vector-of leaf of a known element type");
        s.within(node, hd, node, end, "a vector node whose slots fit its block");
        if ((word & SealDescriptor.SEAL_FLAG) == 0) {
            long edit = editOf(word);
            if (strict || edit == 0 || edit >= s.getLongVolatile(HeaderDescriptor.NEXT_EDIT_OFFSET)
                    || (read && !s.ownTransientEdit(edit)))
                throw Seals.unsealed(s, node, type, word);
            return;
        }
        int stored = (int) (word >>> SEAL_SHIFT), computed = compute(s, node, type, word);
        if (stored != computed || (word & SEAL_PAD_MASK) != 0) throw Seals.mismatch(s, node, type, stored, computed);
    }
}
