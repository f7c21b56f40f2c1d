package slab.ref;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.LongStack;
import slab.map.MapNodeRefs;
import slab.share.Boxes;
import slab.value.MetaSymbols;
import slab.vector.VecNodeRefs;

/**
 * The reference graph: which blocks a block holds a count on. Each block
 * type has exactly one walker, next to its layout (map nodes in slab.map,
 * vector nodes in slab.vector, boxes and cells in slab.share, collection
 * blocks here), and this dispatch is the only way to reach them, so the
 * reclaimer, the sweep, verify and the leak audit cannot disagree about
 * what a block references.
 */
public final class RefWalker {
    private RefWalker() {}

    /**
     * Calls v once for every count block b holds on another block, whatever
     * the counts are now. Bookkeeping blocks (intern and root tables, the
     * process table, ledgers) and blobs hold none. A node with a base holds
     * a count on its base and only on the slots it does not borrow from it
     * (see {@link Lineage}). b is checked first (a live block below the
     * frontier), and each walker checks that what it reads fits the block,
     * so a damaged block is reported, never read past.
     */
    public static void forEachRef(Heap h, long b, RefVisitor v) {
        long hd = h.segment().liveHeader(b, "a live block");
        if (SegmentLineage.isLineageType(AllocatorDescriptor.typeOf(hd))) Lineage.forEachHeld(h.lineage(), b, v);
        else forEachSlot(h, b, v);
    }

    /**
     * Calls v once for every counted slot of b (every block a reader of b
     * can reach in one step), with repeats. The same as forEachRef but for
     * nodes with a base.
     */
    public static void forEachSlot(Heap h, long b, RefVisitor v) {
        switch (AllocatorDescriptor.typeOf(h.segment().liveHeader(b, "a live block"))) {
            case BlockTypes.COLL -> CollBlocks.forEachRef(h.segment(), b, v);
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION ->
                MapNodeRefs.forEachRef(h.segment(), b, v);
            case BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF, BlockTypes.VEC_PRIM_LEAF -> VecNodeRefs.forEachRef(h.segment(), b, v);
            case BlockTypes.BOX, BlockTypes.CELL -> Boxes.forEachRef(h.segment(), b, v);
            case BlockTypes.META_SYMBOL -> MetaSymbols.forEachRef(h.segment(), b, v);
            default -> { }
        }
    }

    /** Pushes every block b holds a count on onto out (verify's and the audit's view). */
    public static void pushRefs(Heap h, long b, LongStack out) {
        forEachRef(h, b, out::push);
    }

    /** Pushes every counted slot of b onto out (the sweep's view: it makes every node own its slots). */
    public static void pushSlots(Heap h, long b, LongStack out) {
        forEachSlot(h, b, out::push);
    }

    /** Block types whose count may reach zero; the others are kept by the segment itself. */
    public static boolean isReclaimable(int type) {
        return switch (type) {
            case BlockTypes.RAW, BlockTypes.BLOB, BlockTypes.COLL, BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION,
                 BlockTypes.SET_NODE, BlockTypes.SET_COLLISION, BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF,
                 BlockTypes.BOX, BlockTypes.CELL, BlockTypes.META_SYMBOL, BlockTypes.VEC_PRIM_LEAF -> true;
            default -> false;
        };
    }
}
