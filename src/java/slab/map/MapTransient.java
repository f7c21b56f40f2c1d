package slab.map;

import static slab.map.MapEdits.*;
import static slab.map.MapNodes.*;
import static slab.map.MapUpdates.inserted;
import static slab.map.MapUpdates.removed;
import static slab.map.MapUpdates.replaceValue;
import static slab.map.MapUpdates.sameValue;

import java.lang.ref.Reference;

import slab.mem.KillPoints;
import slab.mem.Segment;
import slab.ref.CleanerAction;
import slab.ref.Handle;
import slab.ref.SingleUser;
import slab.ref.Heap;
import slab.ref.Ownership;
import slab.ref.RefCounts;
import slab.value.Hashing;
import slab.value.Decoder;
import slab.value.Tags;

/**
 * A transient map or set. It owns one count on its root and a fresh edit id;
 * walking down, it copies each node not yet carrying that id (attaching the
 * copy to its already-owned parent before going on, so a failure part-way
 * leaves a consistent tree), then edits the nodes it owns in place, growing
 * a block when it runs out of room. {@link #persistent} hands the root to a
 * new {@link Handle} and ends the edit; nodes keep their id, which no other
 * transient ever gets, so they are never changed again.
 *
 * <p>A transient dropped without {@code persistent!} gives its root back
 * through the Cleaner, like a handle.
 */
public final class MapTransient {
    private static final int MAX_DEPTH = 34;

    private final Heap h;
    private final Ownership owners;
    private final Segment s;
    private final int kind;
    private final MapOp op;
    private final Owned owned;
    private final Owned cleanable;
    private long count;
    private int hashSum;
    private boolean ended;

    private final long[] pathNode = new long[MAX_DEPTH];
    private final long[] pathSlot = new long[MAX_DEPTH];
    private final int[] pathBit = new int[MAX_DEPTH];

    /** A transient over from's contents (from may be null for an empty one). */
    MapTransient(Heap h, int kind, Handle from) { this(h, kind, from, false); }

    /** trusted: every key and value will have been validated by the caller (bulk conversion). */
    MapTransient(Heap h, int kind, Handle from, boolean trusted) {
        this.h = h;
        this.user = new SingleUser(h.gate());
        this.owners = h.ownership();
        this.s = h.segment();
        this.kind = kind;
        this.op = new MapOp(h, kind == Tags.SET, h.newEdit(), trusted);
        this.owned = new Owned(this, owners);
        if (from != null && from.node != 0) {
            RefCounts.retain(h, from.node);
            owners.ownMutable(from.node);
            owned.root = from.node;
            count = from.count;
            hashSum = from.hashSum();
        }
        this.cleanable = owned;
    }

    // --- reading ----------------------------------------------------------------------

    private long countAlone() {
        ensureEditable();
        return count;
    }

    /** Whether key is present. */
    private boolean containsKeyAlone(Object key) {
        ensureEditable();
        try {
            return find(key) != 0;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private Object valAtAlone(Object key, Object notFound) {
        ensureEditable();
        try {
            long e = find(key);
            if (e == 0) return notFound;
            return op.set ? Decoder.decode(h, keyTag(s, e), keyPayload(s, e)) : Decoder.decode(h, valTag(s, e), valPayload(s, e));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The entry for key, or 0. */
    private long find(Object key) {
        return MapNodes.find(h, owned.root, key, Hashing.ofKey(key), op.es);
    }

    // --- updates ------------------------------------------------------------------------

    private void assocAlone(Object key, Object val) {
        ensureEditable();
        op.begin(key, val);
        try {
            doAssoc();
        } finally {
            op.finish();
            Reference.reachabilityFence(this);
        }
        count += op.countDelta;
        hashSum += op.hashDelta;
    }

    public void conj(Object key) { assoc(key, null); }

    private void dissocAlone(Object key) {
        ensureEditable();
        try {
            op.beginProbe(key);
            if (MapNodes.find(h, owned.root, key, op.k.hash, op.es) == 0) return;
            doDissoc();
        } finally {
            Reference.reachabilityFence(this);
        }
        count += op.countDelta;
        hashSum += op.hashDelta;
    }

    /** Ends the edit and returns a handle owning the root. */
    private Handle persistentAlone() {
        ensureEditable();
        // Seal before anything publishes the root; a kill while sealing leaves it recorded as
        // mutable, so the sweep frees it unread.
        if (owned.root != 0 && edit(s, owned.root) == op.edit) {
            MapLayout layout = new MapLayout(s, h.lineage(), count);
            try {
                layOut(owned.root, 0, layout);
            } catch (RuntimeException | Error e) {
                try {
                    layout.freeOld();   // nothing names the blocks moved from, whatever stopped the walk
                } catch (RuntimeException | Error f) {
                    e.addSuppressed(f);
                }
                throw e;
            }
            layout.freeOld();
        }
        MapSeals.sealTransient(s, owned.root, op.es, op.edit);
        ended = true;
        long root = owned.root;
        owned.root = 0;
        cleanable.clean();
        // The count passes from this transient's record to the handle's. Erase
        // first: a kill between leaves it unrecorded (a leak the sweep takes
        // back), never recorded twice (given back twice).
        KillPoints.step("persistent");
        owners.disownMutable(root);
        KillPoints.step("persistent");
        Handle r = new Handle(h, kind, root, 0, count, 0, hashSum, true);
        KillPoints.step("persistent");
        return r;
    }

    /** Gives the root back if persistent was never called; used after a failed bulk build. */
    private void abandonAlone() {
        ended = true;
        cleanable.clean();
    }

    private void ensureEditable() {
        if (ended) throw new IllegalAccessError("Transient used after persistent! call");   // as clojure.core
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
        boolean ahead = count >= NestedWarm.LOOKUP_AHEAD_FROM;   // as a lookup in a big map does
        while (true) {
            if (ahead) NestedWarm.linesAt(s, n);
            if (isCollision(s, n)) {
                int i = collisionIndex(op, n);
                if (i >= 0) {
                    if (!op.set && !sameValue(op, entry(n, es, i))) replaceValue(op, n, entry(n, es, i));
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
                if (he == op.k.hash && op.keyAt(keyTag(s, e), keyPayload(s, e))) {
                    if (!op.set && !sameValue(op, e)) replaceValue(op, n, e);
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
            RefCounts.release(h, n);   // n was owned by this transient alone: frees it and the counts it held
            n = p;
        }
        long root = owned.root;
        if (!isCollision(s, root) && datamap(s, root) == 0 && nodemap(s, root) == 0) {
            owned.root = 0;
            owners.disownMutable(root);
            RefCounts.release(h, root);
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
        owners.ownMutable(copy);
        owned.root = copy;
        owners.disownMutable(root);
        RefCounts.release(h, root);
        return copy;
    }

    private long editableChild(long slot) {
        long child = s.getLong(slot);
        if (edit(s, child) == op.edit) return child;
        long copy = copy(op, child, 2, 0);
        s.putLong(slot, copy);
        RefCounts.release(h, child);
        return copy;
    }

    private long regrow(long n, long parentSlot, int moreEntries, int moreChildren) {
        if (parentSlot != 0) {
            long b = grow(op, n, moreEntries, moreChildren);
            s.putLong(parentSlot, b);
            return b;
        }
        long b = grow(op, n, moreEntries, moreChildren);   // frees the old root's block
        owners.disownMutable(n);
        setRoot(b);
        return b;
    }

    /**
     * Lays out every node this transient made (n, carrying its edit id, and
     * those below) in walk order, parents first: each moves into a block of
     * its own size, as regrow moves one (a map built by assoc! would
     * otherwise keep the room left to grow into, a third more bytes for a
     * small nested map), and the small nested collections its entries
     * alone hold follow it in the order a walk reads them ({@link MapLayout}).
     */
    private void layOut(long n, long parentSlot, MapLayout layout) {
        int es = op.es;
        long b = layout.node(n, es);
        boolean copied = b != 0;
        if (!copied) b = fit(op, n);
        if (b != n) {
            if (parentSlot != 0) s.putLong(parentSlot, b);
            else {
                owners.disownMutable(n);
                KillPoints.step("persistent");
                setRoot(b);
            }
            if (copied) layout.retire(n);
            n = b;
        }
        boolean ownsSlots = layout.movesNested() && layout.ownsSlots(n);
        if (isCollision(s, n)) {
            if (ownsSlots) for (int i = 0, cnt = collisionCount(s, n); i < cnt; i++) layout.entry(entry(n, es, i), es);
            return;
        }
        int dm = datamap(s, n), nm = nodemap(s, n), entries = Integer.bitCount(dm);
        if (ownsSlots) layout.warm(entry(n, es, 0), entries, es);
        for (int rem = dm | nm; rem != 0; rem &= rem - 1) {
            int bit = rem & -rem;
            if ((dm & bit) != 0) {
                if (ownsSlots) layout.entry(entry(n, es, index(dm, bit)), es);
            } else {
                long slot = childSlot(n, es, entries, index(nm, bit));
                long c = s.getLong(slot);
                if (edit(s, c) == op.edit) layOut(c, slot, layout);
            }
        }
    }

    /** Makes a node this transient built its root (it held no root before, or its old one is gone). */
    private void setRoot(long n) {
        owned.root = n;
        owners.ownMutable(n);
    }

    /** The Cleaner's action: holds the root the transient owns, never the transient. */
    private static final class Owned extends CleanerAction {
        long root;

        Owned(MapTransient owner, Ownership owners) { super(owner, owners); }

        @Override
        protected void giveBack() {
            long r = root;
            root = 0;
            owners.releaseOwnedMutable(r);
        }
    }

    // --- one user at a time (see SingleUser) ------------------------------------------

    private final SingleUser user;

    private void enter() { user.enter(); }

    private void exit() { user.exit(); }

    public long count() {
        enter();
        try {
            return countAlone();
        } finally {
            exit();
        }
    }

    public boolean containsKey(Object key) {
        enter();
        try {
            return containsKeyAlone(key);
        } finally {
            exit();
        }
    }

    public Object valAt(Object key, Object notFound) {
        enter();
        try {
            return valAtAlone(key, notFound);
        } finally {
            exit();
        }
    }

    public void assoc(Object key, Object val) {
        enter();
        try {
            assocAlone(key, val);
        } finally {
            exit();
        }
    }

    public void dissoc(Object key) {
        enter();
        try {
            dissocAlone(key);
        } finally {
            exit();
        }
    }

    public Handle persistent() {
        enter();
        try {
            return persistentAlone();
        } finally {
            exit();
        }
    }

    public void abandon() {
        enter();
        try {
            abandonAlone();
        } finally {
            exit();
        }
    }
}
