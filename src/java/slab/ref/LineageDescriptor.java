package slab.ref;

import slab.mem.AllocatorDescriptor;

/**
 * The two lineage words every map, set and vector node carries right after
 * its block header (see {@link Lineage} and FORMAT.md, "Lineage"):
 *
 * <pre>
 *   0                  8                 16                24
 *   +------------------+-----------------+-----------------+-------------------
 *   | allocator header | base            | heir            | the node's layout
 *   +------------------+-----------------+-----------------+-------------------
 * </pre>
 *
 * base: the node this one was copied from and borrows slots of (0: it holds
 * a count on every counted slot); heir: the one node that borrows from this
 * one (0: none). Both change after publication, as block headers do; readers
 * never look at them.
 */
public final class LineageDescriptor {
    private LineageDescriptor() {}

    public static final int BASE_OFFSET = AllocatorDescriptor.BLOCK_HEADER_LENGTH;
    public static final int HEIR_OFFSET = BASE_OFFSET + 8;
    /** Where the node's own layout starts. */
    public static final int END_OFFSET = HEIR_OFFSET + 8;
}
