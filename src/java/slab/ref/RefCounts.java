package slab.ref;

import slab.mem.Allocator;
import slab.mem.LongStack;
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

    public static void retain(Heap h, long block) {
        if (block != 0) h.allocator().retain(block);
    }

    public static void retainSlot(Heap h, int tag, long p) {
        if (Tags.isCounted(tag)) h.allocator().retain(p);
    }

    public static void releaseSlot(Heap h, int tag, long p) {
        if (Tags.isCounted(tag)) release(h, p);
    }

    /**
     * Drops one count on a block; at zero frees it and drops the counts it
     * holds. Does nothing once the segment is closed.
     */
    public static void release(Heap h, long block) {
        Segment s = h.segment();
        if (block == 0 || s.isClosed()) return;
        try {
            Allocator a = h.allocator();
            if (!a.release(block)) return;
            Reclaimer work = new Reclaimer(a);
            work.push(block);
            while (!work.isEmpty()) {
                long b = work.pop();
                int type = a.typeOf(b);
                if (!RefWalker.isReclaimable(type))
                    throw new IllegalStateException("slab: reference count of a block of type " + type
                        + " reached zero at offset " + b);
                RefWalker.forEachRef(h, b, work);
                a.free(b);
            }
        } catch (IllegalStateException e) {
            if (!s.isClosed()) throw e;   // a close raced with the release: the memory is gone anyway
        }
    }

    /** The work list of a release: each reference a dead block held loses a count, and joins at zero. */
    private static final class Reclaimer extends LongStack implements RefVisitor {
        private final Allocator a;

        Reclaimer(Allocator a) { this.a = a; }

        @Override
        public void visit(long block) {
            if (block != 0 && a.release(block)) push(block);   // 0 only in a damaged block: never touch the header
        }
    }
}
