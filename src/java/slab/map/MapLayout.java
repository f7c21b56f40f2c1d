package slab.map;

import static slab.map.MapNodeDescriptor.*;
import static slab.map.MapNodes.*;
import static slab.ref.CollDescriptor.COLL_LENGTH;
import static slab.ref.CollDescriptor.COLL_ROOT_OFFSET;
import static slab.ref.CollDescriptor.COLL_TAIL_OFFSET;

import slab.mem.Allocator;
import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.FreeMemory;
import slab.mem.KillPoints;
import slab.mem.OffsetSort;
import slab.mem.SealDescriptor;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.CollBlocks;
import slab.ref.Lineage;
import slab.ref.LineageDescriptor;
import slab.ref.SegmentLineage;
import slab.vector.VecSeals;

/**
 * Lays a transient's nodes, and (in a map of more than {@link #NESTED_AFTER}
 * entries) the small nested collections they alone hold, out in the order
 * a walk reads them, at persistent!: each is
 * copied into a fresh block of its own size right after the one before.
 * A map built by assoc! gets its nodes and nested values in the order
 * they were added, which for hashed keys is no order a walk follows:
 * reduce-kv over a million such entries then misses cache and TLB twice
 * per entry (collection block, then node), several times slower than the
 * same map laid out in walk order (doc/benchmarks.md, "Layout").
 *
 * <p>Only what this transient alone holds moves: its own nodes (count 1,
 * no lineage), and a nested collection block and its nodes (a map's or
 * set's, at most {@link #MAX_TREE_NODES}; a small vector's tail leaf),
 * each with count 1, sealed and without lineage (nothing borrows from
 * them), named by a slot of a node the transient made that itself has no
 * lineage. Nothing else can know their offsets: a handle would hold a
 * count, a published version would too. Past the first
 * {@link #FRESH_AFTER_BLOCKS}, the copies come from untouched room
 * (allocateFresh), before that from any room (allocateIfRoom). The old blocks
 * are freed only at the end (freeing as we go would hand their holes to
 * the next move, in build order again). At most {@link #MAX_BYTES} move
 * per persistent!, and past {@link #UNCHECKED_BYTES} at most an eighth of
 * the physical memory left, so the copy costs bounded room; the rest stay
 * where they were built.
 *
 * <p>A kill part-way leaves the transient's root recorded as mutable: the
 * sweep frees it, everything only it reached and the blocks moved from.
 */
final class MapLayout {
    /** Bytes of blocks moved per persistent!: a 10M-entry map of small maps fits (the heap allowing). */
    static final long MAX_BYTES = 2L << 30;
    /**
     * Moves past this many bytes ask how much physical memory is left
     * (FreeMemory) and take at most an eighth of it: the copies are new
     * memory until the end frees the originals, and a map that nearly fills
     * the machine (100M small maps, 18.5 GB of 24 GiB) must still be built.
     */
    static final long UNCHECKED_BYTES = 64L << 20;

    private static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    private final Segment s;
    private final Allocator a;
    private final Lineage.Memory lineage;
    private long moved;
    /** Bytes that may move: UNCHECKED_BYTES until more are wanted, then what FreeMemory allows. */
    private long budget = UNCHECKED_BYTES;
    private boolean budgetChecked;
    private long[] old = new long[64];
    private int retired;
    /** At most this many blocks move: the list of those moved from stays a small part of the heap. */
    private final long maxRetired = Math.min(Integer.MAX_VALUE - 8, Runtime.getRuntime().maxMemory() / 16 / Long.BYTES);
    /** A nested map moves with at most this many nodes (a map of a few dozen entries). */
    static final int MAX_TREE_NODES = 8;
    private final long[] tree = new long[MAX_TREE_NODES], copied = new long[MAX_TREE_NODES];
    private int treeCount, copiedCount;
    private boolean stopped;

    /**
     * Copies past this many take untouched room (Allocator.allocateFresh):
     * a bulk build's. Fewer (a few paths of an edited big map, a small map)
     * are read from cache whatever their place, and fill holes.
     */
    static final int FRESH_AFTER_BLOCKS = 1024;

    /**
     * Nested collections move only in a map of more than this many entries.
     * A smaller one (about 200 KB with small maps as values, inside a core's
     * L2) reads as fast wherever they lie, and moving them was a third of
     * its build (doc/benchmarks.md, "Small maps keep their nested values").
     */
    static final long NESTED_AFTER = 1024;

    private final boolean nested;

    /** A layout of a transient's nodes; entries is the map's count, which decides whether nested values move. */
    MapLayout(Segment s, Lineage.Memory lineage, long entries) {
        this.s = s;
        this.a = s.allocator();
        this.lineage = lineage;
        this.nested = entries > NESTED_AFTER;
    }

    /** Whether this layout moves nested collections (see NESTED_AFTER); else only the transient's own nodes. */
    boolean movesNested() { return nested; }

    private long allocate(long payload, int type) {
        return retired >= FRESH_AFTER_BLOCKS ? a.allocateFresh(payload, type) : a.allocateIfRoom(payload, type);
    }

    /** Whether bytes more may move (see UNCHECKED_BYTES). */
    private boolean affords(long bytes) {
        if (moved + bytes <= budget) return true;
        if (budgetChecked) return false;
        budgetChecked = true;
        budget = Math.max(UNCHECKED_BYTES, Math.min(MAX_BYTES, FreeMemory.bytes() / 8));
        return moved + bytes <= budget;
    }

    /** Whether node n (made by the transient) may have its slots' blocks moved: nothing borrows them. */
    boolean ownsSlots(long n) {
        return s.getLong(n + LineageDescriptor.BASE_OFFSET) == 0 && s.getLong(n + LineageDescriptor.HEIR_OFFSET) == 0;
    }

    /** Moves the small nested collections in entry e's key and value slots (es: the outer entry length). */
    void entry(long e, int es) {
        if (stopped) return;
        int kt = keyTag(s, e);
        if (NestedWarm.isNested(kt)) slot(e + ENTRY_KEY_OFFSET, kt);
        if (es != MAP_ENTRY_LENGTH) return;
        int vt = valTag(s, e);
        if (NestedWarm.isNested(vt)) slot(e + ENTRY_VALUE_OFFSET, vt);
    }

    /**
     * Touches the nested collections the values of entries [first, first +
     * count) name, before any moves ({@link NestedWarm#values}), so their
     * cache misses overlap instead of coming two in turn per entry.
     */
    void warm(long first, int count, int es) {
        if (stopped || es != MAP_ENTRY_LENGTH) return;
        NestedWarm.values(s, first, count, es);
    }

    /** Whether off can be read as a block (a damaged slot is left to the checked reads to report). */
    private boolean inHeap(long off) {
        return s.readableAhead(off, COLL_LENGTH);
    }

    private void slot(long at, int tag) {
        long coll = s.getLong(at);
        if (!inHeap(coll) || !movable(coll, BlockTypes.COLL)) return;
        int field = NestedWarm.nodeField(tag);
        // The other node field must be empty: a map has no tail, a small vector no root.
        if (s.getLong(coll + (field == COLL_ROOT_OFFSET ? COLL_TAIL_OFFSET : COLL_ROOT_OFFSET)) != 0) return;
        long node = s.getLong(coll + field);
        treeCount = 0;
        long nodeBytes = node == 0 ? 0 : treeBytes(node, field == COLL_TAIL_OFFSET);
        if (nodeBytes < 0) return;
        long bytes = blockBytes(COLL_LENGTH) + nodeBytes;
        if (stopped || !affords(bytes) || retired + 1 + treeCount > maxRetired) {
            stopped = true;
            return;
        }
        copiedCount = 0;
        long newColl = 0;
        try {
            long newNode = node == 0 ? 0 : copyTree(node);
            if (node == 0 || newNode != 0) newColl = allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
            if (newColl == 0) {
                dropCopies(0, null);
                stopped = true;
                return;
            }
            s.copy(coll + HEADER, newColl + HEADER, COLL_LENGTH - HEADER);
            s.putLong(newColl + field, newNode);
            CollBlocks.seal(s, newColl);
        } catch (RuntimeException | Error e) {
            dropCopies(newColl, e);
            throw e;
        }
        s.putLong(at, newColl);
        moved += bytes;
        // The old blocks hold nothing now (their counts went with their bytes), and nothing names them.
        retire(coll);
        for (int i = 0; i < treeCount; i++) retire(tree[i]);
        KillPoints.step("persistent");
    }

    /**
     * Frees the copies made for a move that did not happen (shells: the
     * counts their slots name stayed with the originals), and coll if not 0.
     */
    private void dropCopies(long coll, Throwable cause) {
        try {
            for (int i = 0; i < copiedCount; i++) release(copied[i]);
            if (coll != 0) release(coll);
        } catch (RuntimeException | Error e) {
            if (cause == null) throw e;
            cause.addSuppressed(e);
        } finally {
            copiedCount = 0;
        }
    }

    /**
     * The bytes of the blocks of the tree at n if it may move: a vector
     * leaf (leaf) or a map or set node and the nodes below it, at most
     * {@link #MAX_TREE_NODES}, each live, held by one count, sealed and
     * without lineage. -1 if not. Notes the nodes in tree.
     */
    private long treeBytes(long n, boolean leaf) {
        if (!inHeap(n) || treeCount == MAX_TREE_NODES) return -1;
        for (int i = 0; i < treeCount; i++) if (tree[i] == n) return -1;   // named twice: damage, left to the checked reads
        long hd = s.getLongVolatile(n);
        if (!heldOnce(hd) || !ownsSlots(n)) return -1;
        int t = AllocatorDescriptor.typeOf(hd);
        long end = leaf ? VecSeals.sealedLeafEnd(s, n, t) : sealedNodeEnd(n, t);
        if (end <= 0 || end > a.blockSize(n)) return -1;
        tree[treeCount++] = n;
        long bytes = blockBytes(end);
        if (leaf || isCollision(s, n)) return bytes;
        int es = entryLengthOf(t), entries = Integer.bitCount(datamap(s, n)), children = Integer.bitCount(nodemap(s, n));
        for (int j = 0; j < children; j++) {
            long sub = treeBytes(s.getLong(childSlot(n, es, entries, j)), false);
            if (sub < 0) return -1;
            bytes += sub;
        }
        return bytes;
    }

    /** The end of map or set node n's contents (block type t) if it is sealed; else 0. */
    private long sealedNodeEnd(long n, int t) {
        if (t != BlockTypes.MAP_NODE && t != BlockTypes.MAP_COLLISION && t != BlockTypes.SET_NODE && t != BlockTypes.SET_COLLISION)
            return 0;
        if ((edit(s, n) & SealDescriptor.SEAL_FLAG) == 0) return 0;
        return MapSeals.end(s, n, entryLengthOf(t));
    }

    private static int entryLengthOf(int type) {
        return type == BlockTypes.MAP_NODE || type == BlockTypes.MAP_COLLISION ? MAP_ENTRY_LENGTH : SET_ENTRY_LENGTH;
    }

    /**
     * Copies the tree at n, which treeBytes accepted, parents first; a
     * copied node whose children moved is sealed again. 0 when out of room
     * (what was copied is listed in copied).
     */
    private long copyTree(long n) {
        int t = a.typeOf(n);
        boolean map = t != BlockTypes.VEC_LEAF && t != BlockTypes.VEC_PRIM_LEAF;
        long end = map ? sealedNodeEnd(n, t) : VecSeals.sealedLeafEnd(s, n, t);
        long b = copyBlock(n, end, t);
        if (b == 0) return 0;
        copied[copiedCount++] = b;
        if (!map || isCollision(s, b)) return b;
        int es = entryLengthOf(t), entries = Integer.bitCount(datamap(s, b)), children = Integer.bitCount(nodemap(s, b));
        if (children == 0) return b;
        for (int j = 0; j < children; j++) {
            long slot = childSlot(b, es, entries, j);
            long c = copyTree(s.getLong(slot));
            if (c == 0) return 0;
            s.putLong(slot, c);
        }
        MapSeals.seal(s, b, es);
        return b;
    }

    /**
     * Copies node n, which the transient made (count 1, no lineage), into a
     * new block of its own size right after what was laid out before it;
     * returns the copy, or 0 once the budget or the room is spent. The
     * caller names the copy where n was named, then {@link #retire}s n.
     */
    long node(long n, int es) {
        if (stopped) return 0;
        long end = MapSeals.end(s, n, es);
        long bytes = blockBytes(end);
        if (!affords(bytes) || retired + 1 > maxRetired) {
            stopped = true;
            return 0;
        }
        long b = copyBlock(n, end, MapNodes.type(s, n));
        if (b == 0) {
            stopped = true;
            return 0;
        }
        moved += bytes;
        return b;
    }

    /**
     * A new block of type holding node n's contents after its lineage words
     * (up to end), its own lineage words cleared; 0 when there is no room.
     */
    private long copyBlock(long n, long end, int type) {
        long b = allocate(end - HEADER, type);
        if (b == 0) return 0;
        try {
            SegmentLineage.clear(s, b);
            s.copy(n + LineageDescriptor.END_OFFSET, b + LineageDescriptor.END_OFFSET, end - LineageDescriptor.END_OFFSET);
        } catch (RuntimeException | Error e) {
            try {
                release(b);
            } catch (RuntimeException | Error f) {
                e.addSuppressed(f);
            }
            throw e;
        }
        return b;
    }

    /** Whether block b is live, of type, and held by one count alone. */
    private boolean movable(long b, int type) {
        long hd = s.getLongVolatile(b);
        return heldOnce(hd) && AllocatorDescriptor.typeOf(hd) == type;
    }

    /** Whether header hd is a live block's with a count of 1. */
    private static boolean heldOnce(long hd) {
        return AllocatorDescriptor.stateOf(hd) == AllocatorDescriptor.STATE_LIVE && AllocatorDescriptor.refcountOf(hd) == 1;
    }

    /** Notes b, which nothing names any more, to be freed by {@link #freeOld}. */
    void retire(long b) {
        if (retired == old.length) old = java.util.Arrays.copyOf(old, old.length * 2);
        old[retired++] = b;
    }

    /**
     * Frees the blocks moved away from, in address order: neighbours share
     * their span's page word and lists, so the frees run from cache instead
     * of missing several lines each.
     */
    void freeOld() {
        if (retired == 0) return;
        // A thread releasing a node's next-to-last count (the Cleaner's, of a handle dropped
        // meanwhile) still reads its lineage words under the lineage lock after the decrement
        // that let it move: once the lock has been free, no such read is under way.
        lineage.lock();
        lineage.unlock();
        long[] bs = old;
        int n = retired;
        old = new long[0];
        retired = 0;
        bs = OffsetSort.sort(bs, n);
        for (int i = 0; i < n; i++) {
            release(bs[i]);
            if (i == 0) KillPoints.step("persistent");   // some freed, some not: the sweep takes the rest
        }
    }

    private void release(long b) {
        if (!a.release(b))
            throw new IllegalStateException("slab: a block a transient alone held was shared (offset " + b + ")");
        a.free(b);
    }

    /** The size of the block a layout of this many bytes takes. */
    private static long blockBytes(long bytes) { return SizeClasses.sizeOf(SizeClasses.classFor(bytes)); }
}
