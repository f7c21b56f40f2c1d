package slab.map;

import static slab.map.MapNodeDescriptor.*;
import static slab.map.MapNodes.*;
import static slab.ref.CollDescriptor.COLL_LENGTH;
import static slab.ref.CollDescriptor.COLL_ROOT_OFFSET;

import slab.mem.Allocator;
import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.KillPoints;
import slab.mem.OffsetSort;
import slab.mem.SealDescriptor;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.CollBlocks;
import slab.ref.LineageDescriptor;
import slab.ref.SegmentLineage;
import slab.value.Tags;

/**
 * Lays a transient's nodes, and the small nested maps and sets they alone
 * hold, out in the order a walk reads them, at persistent!: each is
 * copied into a fresh block of its own size right after the one before. A
 * map built by assoc! gets its nodes and nested values in the order they
 * were added, which for hashed keys is no order a walk follows: reduce-kv
 * over a million such entries then misses cache and TLB twice per entry
 * (collection block, then node), ten times slower than the same map laid
 * out in walk order (doc/benchmarks.md, "Layout").
 *
 * <p>Only what this transient alone holds moves: its own nodes (count 1,
 * no lineage), and a nested collection block and its root node, each with
 * count 1, the node sealed, without children and without lineage (nothing
 * borrows from it), named by a slot of a node the transient made that
 * itself has no lineage. Nothing else can know their offsets: a handle
 * would hold a count, a published version would too. The new blocks are
 * taken with allocateIfRoom, the old ones freed only at the end (freeing
 * as we go would hand their holes to the next move, in build order
 * again). At most {@link #MAX_BYTES} move per persistent!, so the copy
 * costs bounded room; the rest stay where they were built.
 *
 * <p>A kill part-way leaves the transient's root recorded as mutable: the
 * sweep frees it, everything only it reached and the blocks moved from.
 */
final class MapLayout {
    /** Bytes of blocks moved per persistent!: a 10M-entry map of small maps fits (the heap allowing). */
    static final long MAX_BYTES = 2L << 30;

    private static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    private final Segment s;
    private final Allocator a;
    private long moved;
    private long[] old = new long[64];
    private int retired;
    /** At most this many blocks move: the list of those moved from stays a small part of the heap. */
    private final long maxRetired = Math.min(Integer.MAX_VALUE - 8, Runtime.getRuntime().maxMemory() / 16 / Long.BYTES);
    @SuppressWarnings("unused") private long warmed;
    private boolean stopped;

    MapLayout(Segment s) {
        this.s = s;
        this.a = s.allocator();
    }

    /** Whether node n (made by the transient) may have its slots' blocks moved: nothing borrows them. */
    boolean ownsSlots(long n) {
        return s.getLong(n + LineageDescriptor.BASE_OFFSET) == 0 && s.getLong(n + LineageDescriptor.HEIR_OFFSET) == 0;
    }

    /** Moves the small nested map or set in entry e's key and value slots (es: the outer entry length). */
    void entry(long e, int es) {
        if (stopped) return;
        if (isNestedMap(keyTag(s, e))) slot(e + ENTRY_KEY_OFFSET);
        if (es == MAP_ENTRY_LENGTH && isNestedMap(valTag(s, e))) slot(e + ENTRY_VALUE_OFFSET);
    }

    private static boolean isNestedMap(int tag) { return tag == Tags.MAP || tag == Tags.SET; }

    /**
     * Reads the first word of the blocks the entries [first, first + count)
     * name, collection blocks then their nodes, before any moves: each pass's
     * loads are independent, so the CPU overlaps their cache misses instead
     * of taking two in turn per entry as the moves would.
     */
    void warm(long first, int count, int es) {
        if (stopped || es != MAP_ENTRY_LENGTH) return;
        long sum = 0;
        for (int i = 0; i < count; i++) {
            long e = first + (long) i * es;
            if (isNestedMap(valTag(s, e))) sum += s.getLong(valPayload(s, e));
        }
        for (int i = 0; i < count; i++) {
            long e = first + (long) i * es;
            if (isNestedMap(valTag(s, e))) {
                long root = s.getLong(valPayload(s, e) + COLL_ROOT_OFFSET);
                if (root > 0 && root < s.capacity()) sum += s.getLong(root);
            }
        }
        warmed = sum;   // keeps the loads
    }

    private void slot(long at) {
        long coll = s.getLong(at);
        if (!movable(coll, BlockTypes.COLL)) return;
        long root = s.getLong(coll + COLL_ROOT_OFFSET);
        long rootEnd = 0;
        if (root != 0) {
            rootEnd = smallNodeEnd(root);
            if (rootEnd == 0) return;
        }
        long bytes = blockBytes(COLL_LENGTH) + (root == 0 ? 0 : blockBytes(rootEnd));
        if (stopped || moved + bytes > MAX_BYTES || retired + 2 > maxRetired) {
            stopped = true;
            return;
        }
        long newRoot = 0;
        if (root != 0) {
            newRoot = a.allocateIfRoom(rootEnd - HEADER, MapNodes.type(s, root));
            if (newRoot == 0) {
                stopped = true;
                return;
            }
            SegmentLineage.clear(s, newRoot);
            s.copy(root + DATAMAP_OFFSET, newRoot + DATAMAP_OFFSET, rootEnd - DATAMAP_OFFSET);
        }
        long newColl = a.allocateIfRoom(COLL_LENGTH - HEADER, BlockTypes.COLL);
        if (newColl == 0) {
            if (newRoot != 0) release(newRoot);
            stopped = true;
            return;
        }
        s.copy(coll + HEADER, newColl + HEADER, COLL_LENGTH - HEADER);
        s.putLong(newColl + COLL_ROOT_OFFSET, newRoot);
        CollBlocks.seal(s, newColl);
        s.putLong(at, newColl);
        moved += bytes;
        // The old blocks hold nothing now (their counts went with their bytes), and nothing names them.
        retire(coll);
        if (root != 0) retire(root);
        KillPoints.step("persistent");
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
        if (moved + bytes > MAX_BYTES || retired + 1 > maxRetired) {
            stopped = true;
            return 0;
        }
        long b = a.allocateIfRoom(end - HEADER, MapNodes.type(s, n));
        if (b == 0) {
            stopped = true;
            return 0;
        }
        SegmentLineage.clear(s, b);
        s.copy(n + DATAMAP_OFFSET, b + DATAMAP_OFFSET, end - DATAMAP_OFFSET);
        moved += bytes;
        return b;
    }

    /** Whether block b is live, of type, and held by one count alone. */
    private boolean movable(long b, int type) {
        long hd = s.getLongVolatile(b);
        return AllocatorDescriptor.stateOf(hd) == AllocatorDescriptor.STATE_LIVE
            && AllocatorDescriptor.typeOf(hd) == type && AllocatorDescriptor.refcountOf(hd) == 1;
    }

    /** The end of node n's contents if it is a sealed map or set node without children or lineage held by one count; else 0. */
    private long smallNodeEnd(long n) {
        long hd = s.getLongVolatile(n);
        if (AllocatorDescriptor.stateOf(hd) != AllocatorDescriptor.STATE_LIVE || AllocatorDescriptor.refcountOf(hd) != 1) return 0;
        int t = AllocatorDescriptor.typeOf(hd);
        int es;
        if (t == BlockTypes.MAP_NODE || t == BlockTypes.MAP_COLLISION) es = MAP_ENTRY_LENGTH;
        else if (t == BlockTypes.SET_NODE || t == BlockTypes.SET_COLLISION) es = SET_ENTRY_LENGTH;
        else return 0;
        if ((edit(s, n) & SealDescriptor.SEAL_FLAG) == 0 || !ownsSlots(n)) return 0;
        if (!isCollision(s, n) && nodemap(s, n) != 0) return 0;
        long end = MapSeals.end(s, n, es);
        return end <= a.blockSize(n) ? end : 0;
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
        long[] bs = old;
        int n = retired;
        old = new long[0];
        retired = 0;
        bs = OffsetSort.sort(bs, n);
        for (int i = 0; i < n; i++) release(bs[i]);
    }

    private void release(long b) {
        if (!a.release(b))
            throw new IllegalStateException("slab: a block a transient alone held was shared (offset " + b + ")");
        a.free(b);
    }

    /** The size of the block a layout of this many bytes takes. */
    private static long blockBytes(long bytes) { return SizeClasses.sizeOf(SizeClasses.classFor(bytes)); }
}
