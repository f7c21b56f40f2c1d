package slab.codec;

import static slab.codec.MapNodes.*;
import static slab.codec.MapUpdates.inserted;
import static slab.codec.MapUpdates.removed;
import static slab.codec.MapUpdates.replaceValue;
import static slab.codec.MapUpdates.sameValue;

import java.lang.ref.Cleaner;

import slab.mem.Segment;

/**
 * A transient map or set. It owns one count on its root and a fresh edit id;
 * walking down, it copies each node not yet carrying that id (attaching the
 * copy to its already-owned parent before going on, so a failure part-way
 * leaves a consistent tree), then edits the nodes it owns in place, growing
 * a block when it runs out of room. {@link #persistent} hands the root to a
 * new {@link Root} and ends the edit; nodes keep their id, which no other
 * transient ever gets, so they are never changed again.
 *
 * <p>A transient dropped without {@code persistent!} gives its root back
 * through the Cleaner, like a handle.
 */
public final class TransientMap {
    private static final int MAX_DEPTH = 34;

    private final Codec c;
    private final Segment s;
    private final int kind;
    private final MapOp op;
    private final Owned owned;
    private final Cleaner.Cleanable cleanable;
    private long count;
    private int hashSum;
    private boolean ended;

    private final long[] pathNode = new long[MAX_DEPTH];
    private final long[] pathSlot = new long[MAX_DEPTH];
    private final int[] pathBit = new int[MAX_DEPTH];

    /** A transient over from's contents (from may be null for an empty one). */
    public TransientMap(Codec c, int kind, Root from) { this(c, kind, from, false); }

    /** trusted: every key and value will have been validated by the caller (bulk conversion). */
    TransientMap(Codec c, int kind, Root from, boolean trusted) {
        this.c = c;
        this.s = c.segment();
        this.kind = kind;
        this.op = new MapOp(c, kind == Tags.SET, c.newEdit(), trusted);
        this.owned = new Owned(c);
        if (from != null && from.node != 0) {
            c.retain(from.node);
            c.ownMutable(from.node);
            owned.root = from.node;
            count = from.count;
            hashSum = from.hashSum();
        }
        this.cleanable = c.cleaner().register(this, owned);
    }

    // --- reading ----------------------------------------------------------------------

    public long count() {
        ensureEditable();
        return count;
    }

    /** The entry for key, or 0. */
    public long find(Object key) {
        ensureEditable();
        return MapNodes.find(c, owned.root, key, clojure.lang.Util.hasheq(key), op.es);
    }

    public Object valAt(Object key, Object notFound) {
        long e = find(key);
        if (e == 0) return notFound;
        return op.set ? c.decode(keyTag(s, e), keyPayload(s, e)) : c.decode(valTag(s, e), valPayload(s, e));
    }

    // --- updates ------------------------------------------------------------------------

    public void assoc(Object key, Object val) {
        ensureEditable();
        op.begin(key, val);
        try {
            doAssoc();
        } finally {
            op.finish();
        }
        count += op.countDelta;
        hashSum += op.hashDelta;
    }

    public void conj(Object key) { assoc(key, null); }

    public void dissoc(Object key) {
        ensureEditable();
        op.beginProbe(key);
        if (MapNodes.find(c, owned.root, key, op.k.hash, op.es) == 0) return;
        doDissoc();
        count += op.countDelta;
        hashSum += op.hashDelta;
    }

    /** Ends the edit and returns a handle owning the root. */
    public Root persistent() {
        ensureEditable();
        ended = true;
        long root = owned.root;
        owned.root = 0;
        cleanable.clean();
        Root r = new Root(c, kind, root, 0, count, 0, hashSum, true);   // records its own count...
        c.disownMutable(root);                                                    // ...which was this transient's
        return r;
    }

    /** Gives the root back if persistent was never called; used after a failed bulk build. */
    public void abandon() {
        ended = true;
        cleanable.clean();
    }

    private void ensureEditable() {
        if (ended) throw new IllegalStateException("Transient used after persistent! call");
        s.checkOpen();
    }

    private void doAssoc() {
        int es = op.es;
        if (owned.root == 0) {
            long n = newBitmap(op, 4, 0);
            writeEntry(op, entry(n, es, 0));
            s.putInt(n + MapNodeDescriptor.DATAMAP_OFFSET, bitpos(op.k.hash, 0, op.bits));
            setRoot(n);
            inserted(op);
            return;
        }
        long n = editableRoot();
        long parentSlot = 0;
        int shift = 0;
        while (true) {
            if (isCollision(s, n)) {
                int i = collisionIndex(op, n);
                if (i >= 0) {
                    if (!op.set && !sameValue(op, entry(n, es, i))) replaceValue(op, entry(n, es, i));
                    return;
                }
                if (!hasRoom(op, n, 1, 0)) n = regrow(n, parentSlot, 1, 0);
                appendCollision(op, n);
                inserted(op);
                return;
            }
            int bit = bitpos(op.k.hash, shift, op.bits);
            int dm = datamap(s, n), nm = nodemap(s, n);
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                int he = entryHash(s, e);
                if (he == op.k.hash && c.equalsValue(keyTag(s, e), keyPayload(s, e), op.key)) {
                    if (!op.set && !sameValue(op, e)) replaceValue(op, e);
                    return;
                }
                long sub = mergeTwo(op, e, he, shift + op.bits);
                removeEntry(op, n, bit, true);   // an entry is at least as long as a child slot: no need to grow
                insertChild(op, n, bit, sub);
                inserted(op);
                return;
            }
            if ((nm & bit) != 0) {
                long slot = childSlot(n, es, Integer.bitCount(dm), index(nm, bit));
                parentSlot = slot;
                n = editableChild(slot);
                shift += op.bits;
                continue;
            }
            if (!hasRoom(op, n, 1, 0)) n = regrow(n, parentSlot, 1, 0);
            insertEntry(op, n, bit);
            inserted(op);
            return;
        }
    }

    /** Removes a key known to be present, then inlines nodes left with one entry, bottom up. */
    private void doDissoc() {
        int es = op.es;
        long n = editableRoot();
        long parentSlot = 0;
        int shift = 0, depth = 0;
        while (true) {
            if (isCollision(s, n)) {
                int i = collisionIndex(op, n);
                removed(op, entry(n, es, i));
                removeFromCollision(n, i);
                break;
            }
            int bit = bitpos(op.k.hash, shift, op.bits);
            int dm = datamap(s, n), nm = nodemap(s, n);
            if ((dm & bit) != 0) {
                removed(op, entry(n, es, index(dm, bit)));
                removeEntry(op, n, bit, true);
                break;
            }
            long slot = childSlot(n, es, Integer.bitCount(dm), index(nm, bit));
            pathNode[depth] = n;
            pathSlot[depth] = parentSlot;
            pathBit[depth] = bit;
            depth++;
            parentSlot = slot;
            n = editableChild(slot);
            shift += op.bits;
        }
        while (depth > 0 && isSingleEntry(s, n)) {
            depth--;
            long p = pathNode[depth];
            int bit = pathBit[depth];
            removeChild(op, p, bit, false);
            if (!hasRoom(op, p, 1, 0)) p = regrow(p, pathSlot[depth], 1, 0);
            insertEntryFrom(op, p, bit, entry(n, es, 0));
            c.releaseRef(n);   // n was owned by this transient alone: frees it and the counts it held
            n = p;
        }
        long root = owned.root;
        if (!isCollision(s, root) && datamap(s, root) == 0 && nodemap(s, root) == 0) {
            owned.root = 0;
            c.disownMutable(root);
            c.releaseRef(root);
        }
    }

    /**
     * Removes entry i of an owned collision node the way PersistentHashMap's
     * transient does, so seqs and printing keep clojure.core's order: the
     * last entry moves into the hole. clojure.core keeps nil outside its
     * nodes, so a nil entry is skipped when picking the last one, and
     * removing nil just closes the gap.
     */
    private void removeFromCollision(long n, int i) {
        int es = op.es;
        int cnt = collisionCount(s, n);
        releaseEntry(op, entry(n, es, i));
        if (op.key != null) {
            int last = cnt - 1;
            while (keyTag(s, entry(n, es, last)) == Tags.NIL) last--;
            if (last != i) {
                s.copy(entry(n, es, last), entry(n, es, i), es);
                i = last;
            }
        }
        s.copy(entry(n, es, i + 1), entry(n, es, i), (long) (cnt - i - 1) * es);
        s.putInt(n + MapNodeDescriptor.COLLISION_COUNT_OFFSET, cnt - 1);
    }

    private long editableRoot() {
        long root = owned.root;
        if (edit(s, root) == op.edit) return root;
        long copy = copy(op, root, 2, 0);
        c.ownMutable(copy);
        owned.root = copy;
        c.disownMutable(root);
        c.releaseRef(root);
        return copy;
    }

    private long editableChild(long slot) {
        long child = s.getLong(slot);
        if (edit(s, child) == op.edit) return child;
        long copy = copy(op, child, 2, 0);
        s.putLong(slot, copy);
        c.releaseRef(child);
        return copy;
    }

    private long regrow(long n, long parentSlot, int moreEntries, int moreChildren) {
        if (parentSlot != 0) {
            long b = grow(op, n, moreEntries, moreChildren);
            s.putLong(parentSlot, b);
            return b;
        }
        long b = grow(op, n, moreEntries, moreChildren);   // frees the old root's block
        c.disownMutable(n);
        setRoot(b);
        return b;
    }

    /** Makes a node this transient built its root (it held no root before, or its old one is gone). */
    private void setRoot(long n) {
        owned.root = n;
        c.ownMutable(n);
    }

    /** The Cleaner's action: holds the root the transient owns, never the transient. */
    private static final class Owned extends CleanerAction {
        long root;

        Owned(Codec c) { super(c); }

        @Override
        void giveBack() {
            long r = root;
            root = 0;
            codec.releaseOwnedMutable(r);
        }
    }
}
