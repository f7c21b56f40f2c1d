package slab.ref;

import slab.mem.Segment;
import slab.value.Tags;

/**
 * Reference counts in the segment: taking and dropping counts on blocks and
 * on the counted slots that name them, and reclaiming a block whose count
 * reaches zero together with everything only it held, iteratively (a work
 * list, never recursion), through {@link RefWalker}.
 */
public final class RefCounts {
    private RefCounts() {}

    /**
     * A block header's state bits, and their value in a live block: a path
     * copy ORs (header ^ LIVE_STATE_BITS) over the children it is about to
     * retain, reading every header first with plain loads (which the CPU
     * overlaps) and checking they are all live, before the atomic updates.
     */
    public static final long STATE_BITS = 0xFFL << slab.mem.AllocatorDescriptor.STATE_SHIFT;
    public static final long LIVE_STATE_BITS = (long) slab.mem.AllocatorDescriptor.STATE_LIVE << slab.mem.AllocatorDescriptor.STATE_SHIFT;

    // In a read-only heap counts are neither taken nor given back: nothing can free a block there.

    public static void retain(Heap h, long block) {
        if (block != 0 && !h.readOnly()) h.allocator().retain(block);
    }

    public static void retainSlot(Heap h, int tag, long p) {
        if (Tags.isCounted(tag) && !h.readOnly()) h.allocator().retain(p);
    }

    public static void releaseSlot(Heap h, int tag, long p) {
        if (Tags.isCounted(tag)) release(h, p);
    }

    /**
     * Drops one count on a block; at zero frees it and drops the counts it
     * holds (through {@link Lineage}, so a node left only to its heir passes
     * on). Does nothing once the segment is closed.
     */
    public static void release(Heap h, long block) {
        Segment s = h.segment();
        if (block == 0 || h.readOnly() || s.isClosed()) return;
        try {
            Lineage.release(h.lineage(), block);
        } catch (IllegalStateException e) {
            if (!s.isClosed()) throw e;   // a close raced with the release: the memory is gone anyway
        }
    }
}
