package slab.vector;

import static slab.vector.VecNodes.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.ref.RefVisitor;
import slab.value.Tags;

/**
 * The walker of vector nodes: the one place that knows which bytes of a
 * branch or leaf hold counts (a branch's non-zero children, a leaf's
 * counted slots; a leaf of unboxed numbers holds none), used through
 * slab.ref.RefWalker by the reclaimer, the sweep, verify and the audit
 * alike. It reads every slot up to the node's capacity: slots past a
 * vector's end hold NIL and 0 (see FORMAT.md).
 */
public final class VecNodeRefs {
    private VecNodeRefs() {}

    /**
     * Calls v for every child of a branch or counted slot of a leaf (block
     * types VEC_BRANCH, VEC_LEAF); never for a VEC_PRIM_LEAF.
     */
    public static void forEachRef(Segment s, long node, RefVisitor v) {
        int type = s.getByte(node + AllocatorDescriptor.TYPE_BYTE_OFFSET);
        if (type == BlockTypes.VEC_PRIM_LEAF) return;
        int cap = capacity(s, node);
        if (type == BlockTypes.VEC_BRANCH) {
            for (int i = 0; i < cap; i++) {
                long ch = child(s, node, i);
                if (ch != 0) v.visit(ch);
            }
        } else {
            for (int i = 0; i < cap; i++)
                if (Tags.isCounted(tag(s, node, cap, i))) v.visit(payload(s, node, i));
        }
    }
}
