package slab.map;

import static slab.map.MapNodes.keyPayload;
import static slab.map.MapNodes.keyTag;
import static slab.map.MapNodes.valPayload;
import static slab.map.MapNodes.valTag;
import static slab.ref.CollDescriptor.COLL_LENGTH;
import static slab.ref.CollDescriptor.COLL_ROOT_OFFSET;
import static slab.ref.CollDescriptor.COLL_TAIL_OFFSET;

import slab.mem.Segment;
import slab.ref.Heap;
import slab.value.Interner;
import slab.value.Tags;

/**
 * Touches what a walk is about to read, before it reads it: the children of
 * a node, and the collection blocks, then the nodes, that the nested
 * collection values of a walk's next entries name. The loads of each pass
 * are independent, so the CPU overlaps their cache and TLB misses instead of
 * taking them in turn. Values a walk reads in address order (laid out by
 * persistent!) stream in anyway, so {@link #warmUnlessLaidOut} leaves them
 * alone.
 * Nothing here is trusted: an offset outside the heap's used part or the
 * mapping is skipped (Segment.readableAhead), and the checked reads that
 * follow report damage.
 */
final class NestedWarm {
    private NestedWarm() {}

    /**
     * Walks of maps smaller than this do not read ahead: their nodes are
     * few, likely in cache, and the extra passes would cost a hot walk more
     * than the misses they overlap.
     */
    static final long AHEAD_FROM = 4096;

    /** Two values this far apart (a page) are not read as a stream. */
    private static final long NEAR = 4096;

    /** Whether a value at c, read after one at before, breaks a stream: behind it, or a page or more on. */
    static boolean apart(long before, long c) {
        return c < before || c - before > NEAR;
    }

    private static long sink;

    /**
     * Keeps the loads that made sum (the JIT drops loads nothing uses)
     * without a store per call: a static field every reading thread wrote
     * would bounce its cache line between cores.
     */
    private static void keep(long sum) {
        if (sum == 0x5eed_5eed_5eed_5eedL) sink = sum;
    }

    /** What {@link #warmUnlessLaidOut} found the values to be. */
    static final int SCALARS = 0, LAID_OUT = 1, WARMED = 2;

    /**
     * Warms the values of the first n of entries (a walk's next entries, in
     * walk order) unless they are scalars or their collection blocks lie in
     * ascending, nearby order, as persistent! laid them out; returns which.
     */
    static int warmUnlessLaidOut(Segment s, long[] entries, int n) {
        long last = -1;
        int pairs = 0, far = 0;
        for (int i = 0; i < n; i++) {
            long e = entries[i];
            if (!isNested(valTag(s, e))) {
                if (i >= 1 && last < 0) return SCALARS;   // no scan of the rest
                continue;
            }
            long c = valPayload(s, e);
            if (last >= 0) {
                pairs++;
                if (apart(last, c)) far++;
            }
            last = c;
        }
        if (pairs == 0) return SCALARS;
        if (2 * far < pairs) return LAID_OUT;
        values(s, entries, n);
        return WARMED;
    }

    /**
     * Lookups in maps smaller than this do not read ahead: the map is likely
     * in cache (at 10k entries the extra loads cost a hit about a fifth; at
     * 100k they save a third).
     */
    static final long LOOKUP_AHEAD_FROM = 1 << 15;

    /**
     * Touches the next four cache lines of node n, whose header a lookup has
     * just read (so n is in the heap): the lookup's read of an entry or a
     * child slot further on then overlaps the header's miss instead of
     * following it.
     */
    static void lines(Segment s, long n) {
        if (s.readableAfter(n, LINES_SPAN)) touchLines(s, n);
    }

    /** {@link #lines} for a node no check has read yet (a transient's walk): every bound is compared. */
    static void linesAt(Segment s, long n) {
        if (s.readableAhead(n, LINES_SPAN)) touchLines(s, n);
    }

    /** The bytes from a node's start to the end of the last word {@link #touchLines} reads. */
    private static final long LINES_SPAN = 64 * 4 + Long.BYTES;

    private static void touchLines(Segment s, long n) {
        keep(s.getLong(n + 64) + s.getLong(n + 128) + s.getLong(n + 192) + s.getLong(n + 256));
    }

    /** Reads the first word of the collection block, then of the node, that each of the n entries' values names. */
    static void values(Segment s, long first, int n, int es) {
        long sum = 0;
        for (int i = 0; i < n; i++) sum += collOf(s, first + (long) i * es);
        for (int i = 0; i < n; i++) sum += nodeOf(s, first + (long) i * es);
        keep(sum);
    }

    /** {@link #values} for the first n of entries, wherever each lies. */
    static void values(Segment s, long[] entries, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) sum += collOf(s, entries[i]);
        for (int i = 0; i < n; i++) sum += nodeOf(s, entries[i]);
        keep(sum);
    }

    /** The first word of the collection block entry e's value names; 0 if none can be read. */
    private static long collOf(Segment s, long e) {
        long c = valPayload(s, e);
        return isNested(valTag(s, e)) && s.readableAhead(c, COLL_LENGTH) ? s.getLong(c) : 0;
    }

    /** The first word of the node that collection block names (collOf having read the block); 0 if none. */
    private static long nodeOf(Segment s, long e) {
        int tag = valTag(s, e);
        long c = valPayload(s, e);
        if (!isNested(tag) || !s.readableAhead(c, COLL_LENGTH)) return 0;
        long node = s.getLong(c + nodeField(tag));
        return s.readableAhead(node, Long.BYTES) ? s.getLong(node) : 0;
    }

    /**
     * Reads the interner's decode-table slots of the keyword keys of the
     * first n of entries (see {@link Interner#warm}): with many distinct
     * keywords each decode is a miss in that table, one after another as a
     * walk steps through the entries, where these loads overlap them. Keys
     * of another type (the first entry's tells) are not scanned, nor keys
     * of a table small enough to stay in cache (measured: 10k keywords, a
     * walk 15% slower with the loads; 100k level; 1M 10-40% faster).
     * Returns whether it read them.
     */
    static boolean keywordKeys(Heap h, Segment s, long[] entries, int n) {
        Interner in = h.interner();
        if (n < 2 || keyTag(s, entries[0]) != Tags.KEYWORD || !in.worthWarming()) return false;
        long sum = 0;
        for (int i = 0; i < n; i++) {
            long e = entries[i];
            if (keyTag(s, e) == Tags.KEYWORD) sum += in.warm(keyPayload(s, e));
        }
        keep(sum);
        return true;
    }

    /**
     * Reads the first word of each of bitmap node n's children, n having
     * this many entries and children: a walk visits them in turn, and in a
     * big map each is a miss of its own (the bottom nodes of a 100M-entry
     * map hold three entries each, so one per three entries).
     */
    static void children(Segment s, long n, int es, int entries, int children) {
        long sum = 0;
        for (int j = 0; j < children; j++) {
            long c = s.getLong(MapNodes.childSlot(n, es, entries, j));
            if (s.readableAhead(c, Long.BYTES)) sum += s.getLong(c);
        }
        keep(sum);
    }

    /**
     * Maps, sets, vectors and vector-ofs: collections whose block names, when
     * they are small, one node (see {@link #nodeField}), which walks read
     * ahead and persistent!'s layout moves.
     */
    static boolean isNested(int tag) {
        return tag == Tags.MAP || tag == Tags.SET || tag == Tags.VECTOR || tag == Tags.VECTOR_OF;
    }

    /** The collection block field naming that node: a map's or set's root, a vector's tail leaf. */
    static int nodeField(int tag) {
        return tag == Tags.MAP || tag == Tags.SET ? COLL_ROOT_OFFSET : COLL_TAIL_OFFSET;
    }
}
