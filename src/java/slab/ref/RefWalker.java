package slab.ref;

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
     * process table, ledgers) and blobs hold none.
     */
    public static void forEachRef(Heap h, long b, RefVisitor v) {
        switch (h.allocator().typeOf(b)) {
            case BlockTypes.COLL -> CollBlocks.forEachRef(h.segment(), b, v);
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION ->
                MapNodeRefs.forEachRef(h.segment(), b, v);
            case BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF -> VecNodeRefs.forEachRef(h.segment(), b, v);
            case BlockTypes.BOX, BlockTypes.CELL -> Boxes.forEachRef(h.segment(), b, v);
            case BlockTypes.META_SYMBOL -> MetaSymbols.forEachRef(h.segment(), b, v);
            default -> { }
        }
    }

    /** Pushes every block b holds a count on onto out (the sweep's and the audit's view). */
    public static void pushRefs(Heap h, long b, LongStack out) {
        forEachRef(h, b, out::push);
    }

    /** Block types whose count may reach zero; the others are kept by the segment itself. */
    public static boolean isReclaimable(int type) {
        return switch (type) {
            case BlockTypes.RAW, BlockTypes.BLOB, BlockTypes.COLL, BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION,
                 BlockTypes.SET_NODE, BlockTypes.SET_COLLISION, BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF,
                 BlockTypes.BOX, BlockTypes.CELL, BlockTypes.META_SYMBOL -> true;
            default -> false;
        };
    }
}
