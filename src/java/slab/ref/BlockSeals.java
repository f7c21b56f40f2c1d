package slab.ref;

import slab.map.MapSeals;
import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.share.Boxes;
import slab.value.ValueSeals;
import slab.vector.VecSeals;

/**
 * The seal check of any block, by its type (doc/FORMAT.md, *Seals*): each
 * type's seal is coded next to its layout, and this dispatch is how the
 * sweep and verify, which meet blocks by offset alone, reach them. Types
 * that change after publication (tables, ledgers, cells, raw blocks) carry
 * no seal.
 */
public final class BlockSeals {
    private BlockSeals() {}

    /**
     * Checks the seal of live block b, or raises :damaged-segment. strict:
     * an unsealed node is damage (b is reachable from a published version);
     * otherwise a node carrying an edit id already handed out is accepted
     * (a transient's, which the mark reaches through its ledger record). A
     * blob's kind is its slot's tag, unknown here: its seal must match the
     * layout of some kind. An interned block is checked when it is linked
     * into the intern table.
     */
    public static void check(Heap h, long b, boolean strict) {
        Segment s = h.segment();
        switch (AllocatorDescriptor.typeOf(s.liveHeader(b, "a live block"))) {
            case BlockTypes.COLL -> CollBlocks.checkSeal(s, b);
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION ->
                MapSeals.check(s, b, strict);
            case BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF, BlockTypes.VEC_PRIM_LEAF -> VecSeals.check(s, b, strict);
            case BlockTypes.BOX -> Boxes.checkSeal(s, b);
            case BlockTypes.BLOB -> ValueSeals.checkBlobAnyKind(s, b);
            // A system block, marked whether or not it is linked: one a process killed while
            // interning left unlinked may be torn, and nothing names it.
            case BlockTypes.INTERNED -> { if (h.interner().linked(b)) ValueSeals.checkInterned(s, b); }
            case BlockTypes.META_SYMBOL -> ValueSeals.checkMetaSymbol(s, b);
            default -> { }
        }
    }
}
