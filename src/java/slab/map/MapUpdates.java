package slab.map;

import static slab.map.MapEdits.*;
import static slab.map.MapNodes.*;

import slab.mem.Segment;
import slab.ref.RefCounts;
import slab.value.Equality;
import slab.value.Hashing;

/**
 * Persistent assoc and dissoc: path copying, written only against the
 * primitives in {@link MapEdits}. Each returns the new root (owning one
 * count), the same root when nothing changed, or 0 for an empty result.
 * Nothing is allocated on the way down, so a failure (segment full) on the
 * way up releases the new subtree built so far and leaves every version as
 * it was.
 */
final class MapUpdates {
    private MapUpdates() {}

    // --- assoc ------------------------------------------------------------------

    static long assoc(MapOp op, long root) {
        if (root == 0) {
            long n = newBitmap(op, 1, 0);
            writeEntry(op, entry(n, op.es, 0));
            op.s.putInt(n + MapNodeDescriptor.DATAMAP_OFFSET, bitpos(op.k.hash, 0, op.bits));
            inserted(op);
            return MapSeals.sealed(op, n);
        }
        return assoc(op, root, 0);
    }

    private static long assoc(MapOp op, long n, int shift) {
        Segment s = op.s;
        int es = op.es;
        if (isCollision(s, n)) {
            int i = collisionIndex(op, n);
            if (i >= 0) {
                if (op.set || sameValue(op, entry(n, es, i))) return n;
                long copy = copy(op, n, 0, 0);
                replaceValue(op, copy, entry(copy, es, i));
                return settled(op, n, copy);
            }
            long copy = copy(op, n, 1, 0);
            appendCollision(op, copy);
            inserted(op);
            return settled(op, n, copy);
        }
        int bit = bitpos(op.k.hash, shift, op.bits);
        int dm = datamap(s, n), nm = nodemap(s, n);
        if ((dm & bit) != 0) {
            int idx = index(dm, bit);
            long e = entry(n, es, idx);
            int he = entryHash(s, e);
            if (he == op.k.hash && op.keyAt(keyTag(s, e), keyPayload(s, e))) {
                if (op.set || sameValue(op, e)) return n;
                long copy = copy(op, n, 0, 0);
                replaceValue(op, copy, entry(copy, es, idx));
                return settled(op, n, copy);
            }
            long sub = mergeTwo(op, e, he, shift + op.bits);
            long copy = copyOrRelease(op, n, 0, 1, sub);
            removeEntry(op, copy, bit, true);
            insertChild(op, copy, bit, sub);
            inserted(op);
            return settled(op, n, copy);
        }
        if ((nm & bit) != 0) {
            long slot = childSlot(n, es, Integer.bitCount(dm), index(nm, bit)) - n;
            long child = s.getLong(n + slot);
            long sub = assoc(op, child, shift + op.bits);
            if (sub == child) return n;
            long copy = copyOrRelease(op, n, 0, 0, sub);
            setChild(op, copy, copy + slot, sub);
            return settled(op, n, copy);
        }
        long copy = copy(op, n, 1, 0);
        insertEntry(op, copy, bit);
        inserted(op);
        return settled(op, n, copy);
    }

    // --- dissoc -----------------------------------------------------------------

    static long dissoc(MapOp op, long root) {
        return root == 0 ? 0 : dissoc(op, root, 0);
    }

    private static long dissoc(MapOp op, long n, int shift) {
        Segment s = op.s;
        int es = op.es;
        if (isCollision(s, n)) {
            int i = collisionIndex(op, n);
            if (i < 0) return n;
            removed(op, entry(n, es, i));
            if (collisionCount(s, n) == 2) return singleEntry(op, entry(n, es, 1 - i));
            long copy = copy(op, n, 0, 0);
            removeCollision(op, copy, i, true);
            return settled(op, n, copy);
        }
        int bit = bitpos(op.k.hash, shift, op.bits);
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        if ((dm & bit) != 0) {
            int idx = index(dm, bit);
            long e = entry(n, es, idx);
            if (entryHash(s, e) != op.k.hash || !op.keyAt(keyTag(s, e), keyPayload(s, e))) return n;
            removed(op, e);
            if (entries == 1 && children == 0) return 0;
            // Below the root a node left with one entry is inlined by its parent.
            if (shift > 0 && entries == 2 && children == 0) return singleEntry(op, entry(n, es, 1 - idx));
            long copy = copy(op, n, 0, 0);
            removeEntry(op, copy, bit, true);
            return settled(op, n, copy);
        }
        if ((nm & bit) == 0) return n;
        long slot = childSlot(n, es, entries, index(nm, bit)) - n;
        long child = s.getLong(n + slot);
        long sub = dissoc(op, child, shift + op.bits);
        if (sub == child) return n;
        if (isSingleEntry(s, sub)) {
            if (entries == 0 && children == 1) return sub;   // this node would hold only that entry: pass it up
            long copy = copyOrRelease(op, n, 1, 0, sub);
            removeChild(op, copy, bit, true);
            insertEntryFrom(op, copy, bit, entry(sub, es, 0));
            RefCounts.release(op.h, sub);
            return settled(op, n, copy);
        }
        long copy = copyOrRelease(op, n, 0, 0, sub);
        setChild(op, copy, copy + slot, sub);
        return settled(op, n, copy);
    }

    // --- bookkeeping ----------------------------------------------------------------

    private static long copyOrRelease(MapOp op, long n, int extraEntries, int extraChildren, long sub) {
        try {
            return copy(op, n, extraEntries, extraChildren);
        } catch (RuntimeException ex) {
            RefCounts.release(op.h, sub);
            throw ex;
        }
    }

    /**
     * Would storing the op's value change nothing a reader can see? Only if
     * it has the encoding already there (Equality.sameEncoding): merely = values
     * can differ visibly (0.0 and -0.0, 1.0M and 1.00M, a nested vector and a
     * nested list), and Clojure's assoc stores the new one, so this does too.
     */
    static boolean sameValue(MapOp op, long e) {
        return Equality.sameEncoding(op.h, valTag(op.s, e), valPayload(op.s, e), op.v.tag, op.v.payload);
    }

    static void replaceValue(MapOp op, long n, long e) {
        int kh = entryHash(op.s, e);
        int oldHash = Hashing.hasheq(op.h, valTag(op.s, e), valPayload(op.s, e));
        op.hashDelta += op.entryHash(kh, op.v.hash) - op.entryHash(kh, oldHash);
        op.changed = true;
        setValue(op, n, e);
    }

    static void inserted(MapOp op) {
        op.changed = true;
        op.countDelta = 1;
        op.hashDelta += op.entryHash(op.k.hash, op.v.hash);
    }

    static void removed(MapOp op, long e) {
        op.changed = true;
        op.countDelta = -1;
        int vh = op.set ? 0 : Hashing.hasheq(op.h, valTag(op.s, e), valPayload(op.s, e));
        op.hashDelta -= op.entryHash(entryHash(op.s, e), vh);
    }
}
