package slab.ref;

import static slab.mem.AllocatorDescriptor.*;

import slab.map.MapNodeRefs;
import slab.mem.Allocator;
import slab.vector.VecNodeRefs;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;
import slab.mem.SegmentLock;

/** {@link Lineage.Memory} over a segment: counts in block headers, lineage words in nodes. */
public final class SegmentLineage implements Lineage.Memory {
    private final Heap h;
    private final Segment s;
    private final Allocator a;
    private final SegmentLock lock;

    SegmentLineage(Heap h) {
        this.h = h;
        this.s = h.segment();
        this.a = h.allocator();
        // A holder killed half-way leaves a leak at worst (see Lineage): nothing to repair.
        this.lock = new SegmentLock(s, HeaderDescriptor.LINEAGE_LOCK_OFFSET, () -> { });
    }

    /** Does a block of this type carry lineage words? */
    public static boolean isLineageType(int type) {
        return switch (type) {
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION,
                 BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF -> true;
            default -> false;
        };
    }

    /** A new node's lineage words: no base, no heir (the allocator hands out blocks as they were left). */
    public static void clear(Segment s, long node) {
        s.putLong(node + LineageDescriptor.BASE_OFFSET, 0);
        s.putLong(node + LineageDescriptor.HEIR_OFFSET, 0);
    }

    /**
     * Below this many counts a copy would take on shared slots, taking them
     * is cheaper than the lineage (a claim, then a passing on under the lock).
     */
    public static final int LAZY_MIN = 3;

    /**
     * Makes copy (fresh, unpublished) borrow the slots of src, which it was
     * copied from, when that saves counts: shared is how many counted slots
     * the two share. False: the caller must take a count on each of them.
     */
    public boolean inherit(long src, long copy, int shared) {
        return shared >= LAZY_MIN && Lineage.claim(this, src, copy);
    }

    /** Makes copy (whole, unpublished) src's heir if src has none (see {@link Lineage#claim}). */
    public boolean claim(long src, long copy) { return Lineage.claim(this, src, copy); }

    /**
     * After copy was edited: stored (0 for none) is the block the edit put in
     * it with a count; if copy borrows from src and src has that block as often,
     * the count goes back. (A copy of nothing, src 0, such as the first tail
     * of a vector, borrows from nothing.)
     */
    public void settle(long src, long copy, long stored) {
        if (stored != 0 && src != 0 && base(copy) == src) settleOne(src, copy, stored);
    }

    /** As {@link #settle(long, long, long)} for the n blocks in stored (the same block may be there twice). */
    public void settle(long src, long copy, long[] stored, int n) {
        if (n <= 0 || src == 0 || base(copy) != src) return;
        if (n == 1) settleOne(src, copy, stored[0]);
        else Lineage.settle(this, src, copy, stored, n);
    }

    /**
     * Lineage.settle for one block. A path copy's usual edit stores a node
     * (the copied child below), which only child slots name: counting it
     * among the two nodes' children gives what counting all their slots
     * would, without reading every entry of both.
     */
    private void settleOne(long src, long copy, long c) {
        int t = a.typeOf(c);
        if (!isLineageType(t)) {
            Lineage.settle(this, src, copy, c);
            return;
        }
        if (childCount(copy, c) <= childCount(src, c)) Lineage.release(this, c);
    }

    private int childCount(long node, long c) {
        int t = a.typeOf(node);
        if (t == BlockTypes.VEC_BRANCH || t == BlockTypes.VEC_LEAF || t == BlockTypes.VEC_PRIM_LEAF) return VecNodeRefs.countChild(s, node, c);
        return MapNodeRefs.countChild(s, node, c);
    }

    @Override public long count(long b) {
        long hd = s.getLongVolatile(b);
        return stateOf(hd) == STATE_LIVE ? refcountOf(hd) : -1;
    }

    @Override public boolean casCount(long b, long expect, long update) {
        long hd = s.getLongVolatile(b);
        if (stateOf(hd) != STATE_LIVE || refcountOf(hd) != expect) return false;
        return s.casLong(b, hd, (hd & ~REFCOUNT_MASK) | update);
    }

    @Override public void retain(long b) { a.retain(b); }

    @Override public boolean isLineage(long b) { return isLineageType(typeOf(s.getLong(b))); }

    /**
     * b's base: 0, or (checked, since it is followed) a live node of b's
     * type, which is what a copy borrows from.
     */
    @Override public long base(long b) { return related(b, s.getLongVolatile(b + LineageDescriptor.BASE_OFFSET), "base", true); }

    @Override public void setBase(long b, long base) { s.putLongVolatile(b + LineageDescriptor.BASE_OFFSET, base); }

    @Override public long heir(long b) { return related(b, s.getLongVolatile(b + LineageDescriptor.HEIR_OFFSET), "heir", false); }

    /**
     * A lineage word of b read from the segment: 0, or an offset where a
     * block can start, and for a base (which b holds a count on) a live
     * node of b's type. An heir word may be stale (its node died and the
     * block was reused; Lineage checks before it follows one), so for it
     * only the offset is checked.
     */
    private long related(long b, long other, String what, boolean held) {
        if (other == 0) return 0;
        if (other < s.heapStart() || (other & (ALIGNMENT - 1)) != 0 || other > s.capacity() - ALIGNMENT)
            throw Damage.at(s, b, "a lineage " + what + " naming a block in the heap, found " + other);
        if (held) s.block(other, typeOf(s.getLongVolatile(b)), "a lineage base (a live node of the same type)");
        return other;
    }

    @Override public void setHeir(long b, long heir) { s.putLongVolatile(b + LineageDescriptor.HEIR_OFFSET, heir); }

    @Override public boolean casHeir(long b, long expect, long update) {
        return s.casLong(b + LineageDescriptor.HEIR_OFFSET, expect, update);
    }

    @Override public void forEachSlot(long b, RefVisitor v) { RefWalker.forEachSlot(h, b, v); }

    @Override public void collectSlots(long b, SlotList out) {
        int t = a.typeOf(b);
        if (t == BlockTypes.MAP_NODE || t == BlockTypes.SET_NODE) MapNodeRefs.collect(s, b, out);
        else if (t == BlockTypes.VEC_BRANCH || t == BlockTypes.VEC_LEAF) VecNodeRefs.collect(s, b, out);
        else RefWalker.forEachSlot(h, b, out);
    }

    @Override public void collectDiffering(long x, long y, SlotList xs, SlotList ys) {
        int t = a.typeOf(x);
        if (t == a.typeOf(y)) {
            if (t == BlockTypes.MAP_NODE || t == BlockTypes.SET_NODE) {
                if (MapNodeRefs.collectDiffering(s, x, y, xs, ys)) return;
            } else if (t == BlockTypes.VEC_BRANCH || t == BlockTypes.VEC_LEAF) {
                if (VecNodeRefs.collectDiffering(s, x, y, xs, ys)) return;
            }
        }
        collectSlots(x, xs);
        collectSlots(y, ys);
    }

    @Override public void free(long b) {
        int type = a.typeOf(b);
        if (!RefWalker.isReclaimable(type))
            throw new IllegalStateException("slab: reference count of a block of type " + type + " reached zero at offset " + b);
        a.free(b);
    }

    @Override public void lock() { lock.lock(); }

    @Override public void unlock() { lock.unlock(); }
}
