package slab.map;

import slab.mem.Segment;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.value.Encoder;
import slab.value.Equality;
import slab.value.Hashing;
import slab.value.Slot;
import slab.value.Tags;
import slab.value.Validator;

/**
 * One map or set update in progress: the encoded key and value going in,
 * and what the update did, reported through this object rather than through
 * a tuple per level (as PersistentHashMap's Box does).
 */
final class MapOp {
    final Heap h;
    final Segment s;
    final boolean set;
    /** Entry length: MAP_ENTRY_LENGTH or SET_ENTRY_LENGTH. */
    final int es;
    final int bits;
    /** 0 for persistent updates; the transient's id otherwise. */
    final long edit;
    /** Values come from a builder that validated the whole value already. */
    final boolean trusted;

    Object key;
    /** key's interned offset when it is a keyword this process knows (see {@link #keyAt}), else 0. */
    long keywordOffset;
    final Slot k = new Slot();
    final Slot v = new Slot();
    /** The key and value slots were stored in a node, which now owns their counts. */
    boolean keyUsed;
    boolean valUsed;

    boolean changed;
    int countDelta;
    int hashDelta;

    /**
     * The copy being edited when it borrows its slots from the node it was
     * copied from (slab.ref.Lineage), else 0: edits of it give nothing back
     * (what they overwrite is the base's), and record in stored the counted
     * blocks they put in, for {@link MapEdits#settled}.
     */
    long borrowing;
    long[] stored = new long[4];
    int storedCount;

    /** A thread's cached op is in the middle of an update (see {@link #persistent}). */
    private boolean busy;
    private int ticket;

    /** Per thread, the last op used for persistent map (0) and set (1) updates. */
    private static final ThreadLocal<MapOp[]> CACHED = ThreadLocal.withInitial(() -> new MapOp[2]);

    MapOp(Heap h, boolean set, long edit) { this(h, set, edit, false); }

    MapOp(Heap h, boolean set, long edit, boolean trusted) {
        this.trusted = trusted;
        this.h = h;
        this.s = h.segment();
        this.set = set;
        this.es = MapNodes.entryLength(set);
        this.bits = s.mapBits();
        this.edit = edit;
    }

    /**
     * An op for one persistent update (edit 0, untrusted values), reused per
     * thread so that assoc and dissoc allocate no op and no slots. An update
     * that re-enters slab on the same thread while one is running (a key's
     * equals calling back in) gets a fresh op. Hand it back with {@link #done}.
     */
    static MapOp persistent(Heap h, boolean set) {
        MapOp[] cached = CACHED.get();
        int i = set ? 1 : 0;
        MapOp op = cached[i];
        if (op == null || op.busy || op.h != h) {
            op = new MapOp(h, set, 0);
            if (cached[i] == null || !cached[i].busy) cached[i] = op;
        }
        op.busy = true;
        op.ticket = h.gate().enter();
        return op;
    }

    /** Ends a persistent update: drops the key so the cache holds no user value, and leaves the gate. */
    void done() {
        key = null;
        busy = false;
        h.gate().exit(ticket);
    }

    /** Starts a new update of key (hash) to val; encodes both, so an unsupported value fails before any node changes. */
    void begin(Object key, Object val) {
        this.key = key;
        keyUsed = valUsed = changed = false;
        borrowing = 0;
        storedCount = 0;
        countDelta = hashDelta = 0;
        k.set(0, 0, 0);
        v.set(0, 0, 0);
        if (!trusted) {
            Validator.validate(h, key);
            if (!set) {
                try {
                    Validator.validate(h, val);
                } catch (clojure.lang.ExceptionInfo e) {
                    throw Validator.withPath(e, key);   // the value at key, as (assoc m key val) puts it
                }
            }
        }
        Encoder.encodeTrusted(h, key, k);
        keywordOffset = k.tag == Tags.KEYWORD ? k.payload : 0;
        if (!set) {
            try {
                Encoder.encodeTrusted(h, val, v);
            } catch (RuntimeException e) {
                RefCounts.releaseSlot(h, k.tag, k.payload);
                throw e;
            }
        }
    }

    /** Starts a removal or lookup: no encoding needed. */
    void beginProbe(Object key) {
        this.key = key;
        keyUsed = valUsed = changed = false;
        borrowing = 0;
        storedCount = 0;
        countDelta = hashDelta = 0;
        k.set(0, 0, Hashing.ofKey(key));
        keywordOffset = Equality.knownOffset(h, key);
    }

    /** Whether the key stored as (tag, p) is this op's key. */
    boolean keyAt(int tag, long p) {
        return Equality.equalsKey(h, tag, p, key, keywordOffset);
    }

    /** Releases the encoded slots no node took. */
    void finish() {
        if (!keyUsed) RefCounts.releaseSlot(h, k.tag, k.payload);
        if (!valUsed && !set) RefCounts.releaseSlot(h, v.tag, v.payload);
        k.set(0, 0, k.hash);
        v.set(0, 0, 0);
    }

    int entryHash(int kh, int vh) {
        return set ? kh : mapEntryHash(kh, vh);
    }

    /** A map entry's share of its map's hash sum: the hasheq of the [k v] pair. */
    static int mapEntryHash(int kh, int vh) {
        return clojure.lang.Murmur3.mixCollHash(31 * (31 + kh) + vh, 2);
    }
}
