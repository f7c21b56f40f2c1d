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
        long hd = s.liveHeader(node, "a vector node");
        int type = AllocatorDescriptor.typeOf(hd);
        int cap = checkedCapacity(s, node, hd, type);
        if (type == BlockTypes.VEC_PRIM_LEAF) return;
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

    /**
     * What forEachRef visits, in its order, added to out: the reclaimer's
     * form, which reads a node's slots in one or two bulk copies rather than
     * a checked access per slot.
     */
    public static void collect(Segment s, long node, SlotList out) {
        long hd = s.liveHeader(node, "a vector node");
        int type = AllocatorDescriptor.typeOf(hd);
        int cap = checkedCapacity(s, node, hd, type);
        if (type == BlockTypes.VEC_PRIM_LEAF) return;
        boolean branch = type == BlockTypes.VEC_BRANCH;
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

    /**
     * The counted slots of vector nodes x and y (both branches or both
     * leaves of boxed values) at the places where they differ, added to xs
     * and ys; false, adding nothing, when their types or capacities differ.
     * Checks as collect.
     */
    public static boolean collectDiffering(Segment s, long x, long y, SlotList xs, SlotList ys) {
        long hx = s.liveHeader(x, "a vector node"), hy = s.liveHeader(y, "a vector node");
        int type = AllocatorDescriptor.typeOf(hx);
        if ((type != BlockTypes.VEC_BRANCH && type != BlockTypes.VEC_LEAF) || AllocatorDescriptor.typeOf(hy) != type) return false;
        int cap = checkedCapacity(s, x, hx, type);
        if (checkedCapacity(s, y, hy, type) != cap) return false;
        long[] wx = xs.words(cap), wy = ys.words(cap);
        s.readLongs(x + SLOTS_OFFSET, wx, cap);
        s.readLongs(y + SLOTS_OFFSET, wy, cap);
        if (type == BlockTypes.VEC_BRANCH) {
            for (int i = 0; i < cap; i++) {
                if (wx[i] == wy[i]) continue;
                if (wx[i] != 0) xs.visit(wx[i]);
                if (wy[i] != 0) ys.visit(wy[i]);
            }
            return true;
        }
        byte[] tx = xs.bytes(cap), ty = ys.bytes(cap);
        s.readBytes(x + tagOffset(cap, 0), tx, 0, cap);
        s.readBytes(y + tagOffset(cap, 0), ty, 0, cap);
        for (int i = 0; i < cap; i++) {
            if (wx[i] == wy[i] && tx[i] == ty[i]) continue;
            if (Tags.isCounted(tx[i])) xs.visit(wx[i]);
            if (Tags.isCounted(ty[i])) ys.visit(wy[i]);
        }
        return true;
    }

    /**
     * How often node names block c (of a node type) as a child, with
     * forEachRef's checks: a leaf's slots hold values, never nodes.
     */
    public static int countChild(Segment s, long node, long c) {
        long hd = s.liveHeader(node, "a vector node");
        int type = AllocatorDescriptor.typeOf(hd);
        int cap = checkedCapacity(s, node, hd, type);
        if (type != BlockTypes.VEC_BRANCH) return 0;
        int k = 0;
        for (int i = 0; i < cap; i++) if (child(s, node, i) == c) k++;
        return k;
    }

    /** The node's capacity, which must be within the branching and fit its block: no walker reads past a block. */
    private static int checkedCapacity(Segment s, long node, long hd, int type) {
        long nw = s.getLong(node + NODE_WORD_OFFSET);
        int cap = capacityOf(nw), elem = elemOf(nw);
        long length = switch (type) {
            case BlockTypes.VEC_BRANCH -> elem == 0 ? branchLength(cap) : -1;
            case BlockTypes.VEC_LEAF -> elem == 0 ? leafLength(cap) : -1;
            case BlockTypes.VEC_PRIM_LEAF -> PrimLeafDescriptor.isElem(elem) ? PrimLeafDescriptor.leafLength(elem, cap) : -1;
            default -> -1;
        };
        if (cap < 1 || cap > 1 << MAX_BITS || length < 0 || length > Segment.blockSize(hd))
            throw Damage.at(s, node, "a vector node whose " + cap + " slots fit its block");
        return cap;
    }
}
