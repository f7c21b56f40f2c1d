package slab.vector;

import static slab.vector.VecNodeDescriptor.*;
import static slab.vector.VecNodes.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.RefVisitor;
import slab.ref.SlotList;
import slab.value.Tags;

/**
 * The walker of vector nodes: the one place that knows which bytes of a
 * branch or leaf hold counts (a branch's non-zero children, a leaf's
 * counted slots), used through slab.ref.RefWalker by the reclaimer, the
 * sweep, verify and the audit alike. It reads every slot up to the node's
 * capacity: slots past a vector's end hold NIL and 0 (see FORMAT.md).
 */
public final class VecNodeRefs {
    private VecNodeRefs() {}

    /** Calls v for every child of a branch or counted slot of a leaf (block types VEC_BRANCH, VEC_LEAF). */
    public static void forEachRef(Segment s, long node, RefVisitor v) {
        long hd = s.liveHeader(node, "a vector node");
        int cap = capacity(s, node);
        boolean branch = AllocatorDescriptor.typeOf(hd) == BlockTypes.VEC_BRANCH;
        // A capacity past the branching or the block is damage: no walker reads past a block.
        if (cap < 1 || cap > 1 << VecNodeDescriptor.MAX_BITS
                || (branch ? VecNodeDescriptor.branchLength(cap) : VecNodeDescriptor.leafLength(cap)) > Segment.blockSize(hd))
            throw Damage.at(s, node, "a vector node whose " + cap + " slots fit its block");
        if (branch) {
            for (int i = 0; i < cap; i++) {
                long ch = child(s, node, i);
                if (ch != 0) v.visit(ch);
            }
        } else {
            for (int i = 0; i < cap; i++)
                if (Tags.isCounted(tag(s, node, cap, i))) v.visit(payload(s, node, i));
        }
    }

    /**
     * What forEachRef visits, in its order, added to out: the reclaimer's
     * form, which reads a node's slots in one or two bulk copies rather than
     * a checked access per slot.
     */
    public static void collect(Segment s, long node, SlotList out) {
        long hd = s.liveHeader(node, "a vector node");
        int cap = capacity(s, node);
        boolean branch = AllocatorDescriptor.typeOf(hd) == BlockTypes.VEC_BRANCH;
        if (cap < 1 || cap > 1 << VecNodeDescriptor.MAX_BITS
                || (branch ? VecNodeDescriptor.branchLength(cap) : VecNodeDescriptor.leafLength(cap)) > Segment.blockSize(hd))
            throw Damage.at(s, node, "a vector node whose " + cap + " slots fit its block");
        long[] w = out.words(cap);
        s.readLongs(node + SLOTS_OFFSET, w, cap);
        out.ensure(cap);
        long[] o = out.s;
        int k = out.n;
        if (branch) {
            for (int i = 0; i < cap; i++) if (w[i] != 0) o[k++] = w[i];
        } else {
            byte[] tags = out.bytes(cap);
            s.readBytes(node + tagOffset(cap, 0), tags, 0, cap);
            for (int i = 0; i < cap; i++) if (Tags.isCounted(tags[i])) o[k++] = w[i];
        }
        out.n = k;
    }
}
