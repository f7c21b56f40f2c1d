package slab.mem;

/**
 * The type byte in every block header (see AllocatorDescriptor): it tells the
 * reclaimer, a verifier and readers in other languages what a block holds.
 */
public final class BlockTypes {
    private BlockTypes() {}

    public static final int RAW = 0;
    /** A byte blob with no references (strings, big numbers, UUIDs, instants). */
    public static final int BLOB = 1;
    /** An interned keyword or symbol: never freed. */
    public static final int INTERNED = 2;
    /** The keyword/symbol intern table's bucket array: never freed. */
    public static final int INTERN_TABLE = 3;
    /** A collection block: kind, count, hash, root refs and metadata of a nested collection. */
    public static final int COLL = 4;
    public static final int MAP_NODE = 5;
    public static final int MAP_COLLISION = 6;
    public static final int SET_NODE = 7;
    public static final int SET_COLLISION = 8;
    public static final int VEC_BRANCH = 9;
    public static final int VEC_LEAF = 10;
    /** Named-root table and process table (cross-process sharing). */
    public static final int ROOT_TABLE = 11;
    public static final int PROCESS_TABLE = 12;
    /** One process's ledger of the counts its handles own. */
    public static final int LEDGER = 13;
    /** A box: one counted slot, the value a named root or atom cell publishes. */
    public static final int BOX = 14;
    /** An anonymous atom's cell: one word holding a box offset. */
    public static final int CELL = 15;
    /** A symbol with metadata: the interned symbol and a counted metadata slot. */
    public static final int META_SYMBOL = 16;
    /** A vector leaf of unboxed numbers (vector-of): no counted slots. */
    public static final int VEC_PRIM_LEAF = 17;

    /**
     * Blocks that belong to the segment's own bookkeeping: always reachable.
     * (A ledger is reachable through its process's slot; an orphan ledger,
     * left by a crash while one was being replaced, is garbage.)
     */
    public static boolean isSystem(int type) {
        return type == INTERNED || type == INTERN_TABLE || type == ROOT_TABLE || type == PROCESS_TABLE;
    }
}
