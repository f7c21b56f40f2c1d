package slab.map;

import static slab.map.MapNodes.*;

import java.lang.ref.Reference;
import java.util.Iterator;
import java.util.NoSuchElementException;

import clojure.lang.AFn;
import clojure.lang.ISeq;
import clojure.lang.LazySeq;
import clojure.lang.MapEntry;
import clojure.lang.Util;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Slots;
import slab.value.Tags;

/**
 * Walks a map or set version depth first with an explicit stack, yielding
 * entries, keys or values. It holds its handle, so the version stays alive
 * for as long as the iterator (or a seq made from it) is in use.
 */
final class MapIterator implements Iterator<Object> {
    static final int ENTRIES = 0, KEYS = 1, VALS = 2;

    private final Handle root;
    private final Heap h;
    private final Segment s;
    private final int es;
    private final int mode;
    private final long[] nodes = new long[34];
    /** Bitmap nodes: slots not yet visited. Collision nodes: next entry index. */
    private final int[] pending = new int[34];
    /** The hash bits the path to each node fixed (entries there must agree, see MapNodes.checkPlace). */
    private final int[] prefixes = new int[34];
    /** Which nodes on the stack are collision nodes. */
    private final boolean[] collision = new boolean[34];
    private final int bits;
    private int depth = -1;
    private long next;
    /** Elements handed out so far (see {@link #readsAhead}). */
    private long yielded;
    /** The nil key's entry, yielded first as PersistentHashMap does (and skipped by the walk); 0 if absent. */
    private long nilEntry;
    /** Entries the walk has gathered ahead of next (see {@link #following}). */
    private final long[] ahead = new long[CHUNK];
    private int aheadAt, aheadCount;
    /**
     * Whether the values last gathered were nested and laid out by
     * persistent!: the nodes were laid out with them, and reading a node's
     * children ahead would cost the walk more than it saves.
     */
    private boolean laidOut;
    /**
     * Whether gathering paid last time (scattered nested values, or keyword
     * keys); while it does not, the walk gathers (and looks again) only
     * once in RECHECK_MASK + 1 entries.
     */
    private boolean gathers = true;
    private int stepped;
    private static final int RECHECK_MASK = 1023;
    /**
     * What the walk threw (damage), kept until the elements before it are
     * handed out: next is then FAULT, which hasNext counts as an element
     * and next() throws.
     */
    private Throwable fault;
    private static final long FAULT = -1;

    MapIterator(Handle root, int mode) {
        root.check();
        this.root = root;
        this.h = root.heap;
        this.s = h.segment();
        this.es = MapNodes.entryLength(root.kind == Tags.SET);
        this.mode = root.kind == Tags.SET ? KEYS : mode;
        this.bits = s.mapBits();
        if (root.node != 0) push(root.node, 0);
        nilEntry = MapNodes.find(h, root.node, null, 0, es);
        next = nilEntry != 0 ? nilEntry : following();
        if (next == FAULT) reportFault();
        Reference.reachabilityFence(root);
    }

    /**
     * Enters node n, reached through hash bits prefix, after checking it
     * (MapNodes.checkNode): the check bounds the depth (no bitmap node below
     * hash bit 32), so a damaged trie never overflows the stack arrays.
     */
    private void push(long n, int prefix) {
        depth++;
        nodes[depth] = n;
        prefixes[depth] = prefix;
        long maps = checkNode(s, n, es, depth * bits);
        collision[depth] = maps == COLLISION;
        pending[depth] = collision[depth] ? 0 : (int) maps | (int) (maps >>> 32);
        if (!readsAhead() || collision[depth] || laidOut) return;
        int entries = Integer.bitCount((int) maps), children = Integer.bitCount((int) (maps >>> 32));
        if (children > 1) NestedWarm.children(s, n, es, entries, children);
    }

    /**
     * Whether the walk reads ahead (NestedWarm): in big maps only, and
     * once a chunk's worth has been handed out, so (first m) reads nothing
     * ahead.
     */
    private boolean readsAhead() {
        return yielded >= CHUNK && root.count >= NestedWarm.AHEAD_FROM;
    }

    /**
     * The next entry: from those gathered ahead, gathering the next CHUNK
     * when they are used up and the walk reads ahead (their values and keys
     * then read ahead all at once, where a node of a big map holds too few
     * entries to overlap their misses); 0 at the end. Scalar values, and
     * values laid out by persistent!, stream in without help, and gathering
     * them costs a seq more than it saves (1M entries laid out: 15 ns of 108
     * per entry).
     */
    private long following() {
        if (aheadAt < aheadCount) return ahead[aheadAt++];
        if (fault != null) return FAULT;
        if (!readsAhead() || !gathers && (++stepped & RECHECK_MASK) != 0) {
            try {
                return advance();
            } catch (RuntimeException | InternalError x) {
                fault = x;
                return FAULT;
            }
        }
        aheadAt = 0;
        aheadCount = 0;
        try {
            for (long e; aheadCount < CHUNK && (e = advance()) != 0; ) ahead[aheadCount++] = e;
        } catch (RuntimeException | InternalError x) {
            fault = x;   // reported once what was gathered before it is handed out
        }
        if (aheadCount == 0) return fault != null ? FAULT : 0;
        int values = mode != KEYS ? NestedWarm.warmUnlessLaidOut(s, ahead, aheadCount) : NestedWarm.SCALARS;
        boolean keywords = mode != VALS && NestedWarm.keywordKeys(h, s, ahead, aheadCount);
        laidOut = values == NestedWarm.LAID_OUT;
        gathers = values == NestedWarm.WARMED || keywords;
        return ahead[aheadAt++];
    }

    /** Throws what the walk found where it is up to (next is FAULT). */
    private void reportFault() {
        if (fault instanceof Error e) throw e;
        throw (RuntimeException) fault;
    }

    /**
     * Visits slots in bitmap order, entries and subtrees interleaved, which is
     * the order PersistentHashMap walks the same keys in, so seqs and printing
     * match clojure.core's hash-map.
     */
    private long advance() {
        while (depth >= 0) {
            long n = nodes[depth];
            int shift = depth * bits;
            if (collision[depth]) {
                if (pending[depth] < collisionCount(s, n)) {
                    long e = entry(n, es, pending[depth]++);
                    checkPlace(s, n, e, prefixes[depth], 0, shift, bits);
                    if (e != nilEntry) return e;
                    continue;
                }
                depth--;
                continue;
            }
            int rem = pending[depth];
            if (rem == 0) {
                depth--;
                continue;
            }
            int bit = rem & -rem;
            pending[depth] = rem & ~bit;
            int pos = Integer.numberOfTrailingZeros(bit);
            int dm = datamap(s, n);
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                checkPlace(s, n, e, prefixes[depth], pos, shift, bits);
                if (e != nilEntry) return e;
                continue;
            }
            push(child(s, n, es, Integer.bitCount(dm), index(nodemap(s, n), bit)), prefixes[depth] | pos << shift);
        }
        return 0;
    }

    @Override
    public boolean hasNext() { return next != 0; }

    @Override
    public Object next() {
        long e = next;
        if (e == 0) throw new NoSuchElementException();
        if (e == FAULT) reportFault();
        try {
            root.check();
            Object out = decode(e);
            yielded++;
            next = following();
            return out;
        } finally {
            Reference.reachabilityFence(root);
        }
    }

    /**
     * The next elements, up to max (at most CHUNK), checking the handle once
     * for all of them (a seq's chunk); longs are kept unboxed ({@link EntryChunk}).
     */
    private EntryChunk nextChunk(int max) {
        root.check();
        try {
            Slots keys = mode != VALS ? new Slots(max) : null, vals = mode != KEYS ? new Slots(max) : null;
            int n = 0;
            for (; next != 0 && next != FAULT && n < max; n++) {
                long e = next;
                if (keys != null) keys.put(h, root, n, keyTag(s, e), keyPayload(s, e));
                if (vals != null) vals.put(h, root, n, valTag(s, e), valPayload(s, e));
                yielded++;
                next = following();
            }
            if (n == 0 && next == FAULT) reportFault();
            return new EntryChunk(mode, keys, vals, 0, n);
        } finally {
            Reference.reachabilityFence(root);
        }
    }

    private Object decode(long e) {
        return switch (mode) {
            case KEYS -> MapReads.value(h, root, keyTag(s, e), keyPayload(s, e));
            case VALS -> MapReads.value(h, root, valTag(s, e), valPayload(s, e));
            default -> MapEntry.create(MapReads.value(h, root, keyTag(s, e), keyPayload(s, e)),
                MapReads.value(h, root, valTag(s, e), valPayload(s, e)));
        };
    }

    /**
     * The seq of the iterator's elements: the first read now, alone (so a
     * seq used as a test of emptiness decodes one element), then chunks of
     * CHUNK, each read when first asked for. Its head is a MapSeq, not a
     * lazy seq, so a loop over it calls one kind of seq, which lets the JIT
     * drop the entries and boxes of a loop that unboxes at once.
     */
    static ISeq seq(MapIterator it) {
        if (!it.hasNext()) return null;
        return new MapSeq(null, it.nextChunk(1), 0, chunkedSeq(it));
    }

    private static ISeq chunkedSeq(MapIterator it) {
        if (!it.hasNext()) return null;
        return new LazySeq(new AFn() {
            /** What stopped the chunk's read: the walk has moved past some of its elements. */
            private Throwable failed;

            @Override
            public Object invoke() {
                // LazySeq calls again after a throw; reading on would skip what the failed
                // read passed (a decode that overflowed the stack, say), so it fails alike.
                if (failed != null) throw Util.sneakyThrow(failed);
                try {
                    EntryChunk c = it.nextChunk(CHUNK);
                    return new MapSeq(null, c, 0, chunkedSeq(it));
                } catch (Throwable t) {
                    failed = t;
                    throw t;
                }
            }
        });
    }

    private static final int CHUNK = 32;
}
