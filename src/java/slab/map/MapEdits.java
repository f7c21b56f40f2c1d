package slab.map;

import static slab.map.MapNodeDescriptor.*;
import static slab.map.MapNodes.*;

import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.RefCounts;
import slab.ref.SegmentLineage;
import slab.value.Slot;
import slab.value.Tags;

/**
 * The primitive edits every map and set update is written against. A
 * primitive either copies a node or edits a node in place; in-place edits
 * are allowed only on a node the update owns outright: a fresh copy, or a
 * node carrying the edit id of the transient doing the edit. In-place edits
 * release what they overwrite and take over the counts of what they store.
 * A persistent copy borrows the slots of the node it copies when that saves
 * counts (slab.ref.Lineage): then edits of it release nothing, and
 * {@link #settled} gives back a stored count the copy does not owe.
 */
final class MapEdits {
    private MapEdits() {}

    // --- allocation and copying -----------------------------------------------------

    static int nodeType(boolean set) { return set ? BlockTypes.SET_NODE : BlockTypes.MAP_NODE; }
    static int collisionType(boolean set) { return set ? BlockTypes.SET_COLLISION : BlockTypes.MAP_COLLISION; }

    /** A new empty bitmap node with room for this many entries and children. */
    static long newBitmap(MapOp op, int entries, int children) {
        long n = op.s.allocator().allocate(bitmapBytes(op.es, entries, children) - HEADER, nodeType(op.set));
        SegmentLineage.clear(op.s, n);
        op.s.putLong(n + DATAMAP_OFFSET, 0);   // datamap and nodemap
        op.s.putLong(n + EDIT_OFFSET, op.edit);
        return n;
    }

    static long newCollision(MapOp op, int hash, int room) {
        long n = op.s.allocator().allocate(bitmapBytes(op.es, room, 0) - HEADER, collisionType(op.set));
        SegmentLineage.clear(op.s, n);
        op.s.putInt(n + COLLISION_HASH_OFFSET, hash);
        op.s.putInt(n + COLLISION_COUNT_OFFSET, 0);
        op.s.putLong(n + EDIT_OFFSET, op.edit);
        return n;
    }

    /** Room for one more entry (and moreChildren children) in node n's block? */
    static boolean hasRoom(MapOp op, long n, int moreEntries, int moreChildren) {
        Segment s = op.s;
        int entries, children;
        if (isCollision(s, n)) { entries = collisionCount(s, n); children = 0; }
        else { entries = Integer.bitCount(datamap(s, n)); children = Integer.bitCount(nodemap(s, n)); }
        return bitmapBytes(op.es, entries + moreEntries, children + moreChildren) <= s.allocator().blockSize(n);
    }

    /**
     * Copies node n (bitmap or collision) into a new block with the op's edit
     * id and room for extra entries and children. A persistent copy borrows
     * n's counted slots and children when it can (op.borrowing is then the
     * copy); otherwise the copy adds a count to each.
     */
    static long copy(MapOp op, long n, int extraEntries, int extraChildren) {
        Segment s = op.s;
        int es = op.es;
        boolean collision = isCollision(s, n);
        int entries = collision ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        int children = collision ? 0 : Integer.bitCount(nodemap(s, n));
        long bytes = bitmapBytes(es, entries, children);
        long b = s.allocator().allocate(bitmapBytes(es, entries + extraEntries, children + extraChildren) - HEADER,
            collision ? collisionType(op.set) : nodeType(op.set));
        SegmentLineage.clear(s, b);
        s.copy(n + DATAMAP_OFFSET, b + DATAMAP_OFFSET, bytes - DATAMAP_OFFSET);
        s.putLong(b + EDIT_OFFSET, op.edit);
        op.storedCount = 0;
        // Claimed in settled, once the edits are done: an heir another process can reach
        // through the heir word must never be half-written (a kill would leave it so).
        if (op.edit == 0 && counted(op, b, entries, children) >= SegmentLineage.LAZY_MIN) {
            op.borrowing = b;
            return b;
        }
        op.borrowing = 0;
        retainShared(op, b, entries, children);
        return b;
    }

    /** How many counted slots and children the first entries and children of node n hold. */
    private static int counted(MapOp op, long n, int entries, int children) {
        Segment s = op.s;
        int c = children;
        for (int i = 0; i < entries; i++) {
            long e = entry(n, op.es, i);
            if (Tags.isCounted(keyTag(s, e))) c++;
            if (!op.set && Tags.isCounted(valTag(s, e))) c++;
        }
        return c;
    }

    /**
     * Ends the edits of copy (made from n), which borrowed while they ran:
     * now whole, it becomes n's heir if n has none, and a block the edits
     * stored that n holds as often is borrowed too (its count goes back).
     * Otherwise it takes a count on every slot the edits did not store, as a
     * copy that counts its shared slots would hold. Returns copy.
     */
    static long settled(MapOp op, long n, long copy) {
        MapSeals.sealed(op, copy);   // whole now, and before the claim makes it reachable as n's heir
        if (op.borrowing == copy) {
            op.borrowing = 0;
            if (op.h.lineage().claim(n, copy)) {
                op.h.lineage().settle(n, copy, op.stored, op.storedCount);
            } else {
                retainUnstored(op, copy);
            }
        }
        op.storedCount = 0;
        return copy;
    }

    /** Retains each counted slot of node n except, once each, the blocks in op.stored (which came with counts). */
    private static void retainUnstored(MapOp op, long n) {
        long[] left = java.util.Arrays.copyOf(op.stored, op.storedCount);
        MapNodeRefs.forEachRef(op.s, n, c -> {
            for (int i = 0; i < left.length; i++) {
                if (left[i] == c) {
                    left[i] = 0;
                    return;
                }
            }
            RefCounts.retain(op.h, c);
        });
    }

    /** The op's key and value, just written into node n. */
    private static void storedEntry(MapOp op, long n) {
        stored(op, n, op.k.tag, op.k.payload);
        if (!op.set) stored(op, n, op.v.tag, op.v.payload);
    }

    /** A slot an edit put into node n: if n is the borrowing copy and the slot is counted, record it. */
    private static void stored(MapOp op, long n, int tag, long payload) {
        if (Tags.isCounted(tag)) storedBlock(op, n, payload);
    }

    /** A block (with its count) an edit put into node n: recorded if n is the borrowing copy. */
    private static void storedBlock(MapOp op, long n, long block) {
        if (op.borrowing != n) return;
        if (op.storedCount == op.stored.length) op.stored = java.util.Arrays.copyOf(op.stored, op.storedCount * 2);
        op.stored[op.storedCount++] = block;
    }

    /** Moves node n's bytes into a bigger block; n must be owned outright and is freed. */
    static long grow(MapOp op, long n, int moreEntries, int moreChildren) {
        Segment s = op.s;
        int entries = isCollision(s, n) ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        int children = isCollision(s, n) ? 0 : Integer.bitCount(nodemap(s, n));
        // Grow by half again, so a transient filling one node moves it a few times, not once per entry.
        int roomE = Math.max(moreEntries, entries / 2 + 1), roomC = Math.max(moreChildren, children / 2);
        return move(op, n, bitmapBytes(op.es, entries + roomE, children + roomC), true);
    }

    /**
     * Moves owned node n into the smallest block that holds it when its
     * block is of a bigger size class (a transient leaves room to grow
     * into), and frees n. Returns where the node is: n itself when it fits
     * already, or when the segment has no room to spare for the move.
     */
    static long fit(MapOp op, long n) {
        long bytes = MapSeals.end(op.s, n, op.es);
        if (SizeClasses.sizeOf(SizeClasses.classFor(bytes)) >= op.s.allocator().blockSize(n)) return n;
        long b = move(op, n, bytes, false);
        return b == 0 ? n : b;
    }

    /** Copies owned node n into a new block of blockBytes and frees n; 0 (n untouched) if !wait and no room. */
    private static long move(MapOp op, long n, long blockBytes, boolean wait) {
        Segment s = op.s;
        long bytes = MapSeals.end(s, n, op.es);
        int type = isCollision(s, n) ? collisionType(op.set) : nodeType(op.set);
        long b = wait ? s.allocator().allocate(blockBytes - HEADER, type) : s.allocator().allocateIfRoom(blockBytes - HEADER, type);
        if (b == 0) return 0;
        SegmentLineage.clear(s, b);
        s.copy(n + DATAMAP_OFFSET, b + DATAMAP_OFFSET, bytes - DATAMAP_OFFSET);
        freeShell(op, n);
        return b;
    }

    /** Frees a node whose contents have been moved elsewhere (its counts go with them). */
    static void freeShell(MapOp op, long n) {
        if (!op.s.allocator().release(n))
            throw new IllegalStateException("slab: a node owned by a transient was shared (offset " + n + ")");
        op.s.allocator().free(n);
    }

    private static void retainShared(MapOp op, long n, int entries, int children) {
        Segment s = op.s;
        for (int i = 0; i < entries; i++) {
            long e = entry(n, op.es, i);
            RefCounts.retainSlot(op.h, keyTag(s, e), keyPayload(s, e));
            if (!op.set) RefCounts.retainSlot(op.h, valTag(s, e), valPayload(s, e));
        }
        // The children's headers are read first with plain loads, which the CPU overlaps, so
        // the atomic updates that follow find their lines in cache (as VecNodes.retainAll).
        long states = 0;
        for (int j = 0; j < children; j++) states |= s.getLong(s.getLong(childSlot(n, op.es, entries, j))) ^ RefCounts.LIVE_STATE_BITS;
        if ((states & RefCounts.STATE_BITS) != 0)
            throw new IllegalStateException("slab: a map node at offset " + n + " names a child that is not live");
        for (int j = 0; j < children; j++) RefCounts.retain(op.h, s.getLong(childSlot(n, op.es, entries, j)));
    }

    // --- in-place edits (node owned outright, room checked by the caller) ---------------

    /** Writes the op's key and value as entry i (bytes already made room for). */
    static void writeEntry(MapOp op, long e) {
        writeSlots(op.s, e, op.k, op.set ? null : op.v);
        op.keyUsed = true;
        op.valUsed = true;
    }

    /** Writes entry e from slot k and, for a map, slot v (null for a set entry); the entry takes over their counts. */
    static void writeSlots(Segment s, long e, Slot k, Slot v) {
        s.putInt(e + ENTRY_HASH_OFFSET, k.hash);
        s.putByte(e + ENTRY_KEY_TAG_OFFSET, (byte) k.tag);
        s.putLong(e + ENTRY_KEY_OFFSET, k.payload);
        if (v != null) {
            s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) v.tag);
            s.putLong(e + ENTRY_VALUE_OFFSET, v.payload);
        } else {
            s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) 0);
        }
        s.putShort(e + ENTRY_PAD_OFFSET, (short) 0);
    }

    /** Copies entry bytes from src to dst, adding counts for the copy. */
    static void copyEntry(MapOp op, long src, long dst) {
        op.s.copy(src, dst, op.es);
        RefCounts.retainSlot(op.h, keyTag(op.s, dst), keyPayload(op.s, dst));
        if (!op.set) RefCounts.retainSlot(op.h, valTag(op.s, dst), valPayload(op.s, dst));
    }

    static void releaseEntry(MapOp op, long e) {
        RefCounts.releaseSlot(op.h, keyTag(op.s, e), keyPayload(op.s, e));
        if (!op.set) RefCounts.releaseSlot(op.h, valTag(op.s, e), valPayload(op.s, e));
    }

    /** Replaces the value of entry e with the op's value, releasing the old one. */
    static void setValue(MapOp op, long n, long e) {
        Segment s = op.s;
        int oldTag = valTag(s, e);
        long oldPayload = valPayload(s, e);
        s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) op.v.tag);
        s.putLong(e + ENTRY_VALUE_OFFSET, op.v.payload);
        op.valUsed = true;
        stored(op, n, op.v.tag, op.v.payload);
        if (op.borrowing != n) RefCounts.releaseSlot(op.h, oldTag, oldPayload);
    }

    /** Inserts the op's entry at bit of a bitmap node. */
    static void insertEntry(MapOp op, long n, int bit) {
        writeEntry(op, openEntry(op, n, bit));
        storedEntry(op, n);
        op.s.putInt(n + DATAMAP_OFFSET, datamap(op.s, n) | bit);
    }

    /** Inserts at bit a copy of the entry at src (adding counts for the copy). */
    static void insertEntryFrom(MapOp op, long n, int bit, long src) {
        long at = openEntry(op, n, bit);
        copyEntry(op, src, at);
        stored(op, n, keyTag(op.s, at), keyPayload(op.s, at));
        if (!op.set) stored(op, n, valTag(op.s, at), valPayload(op.s, at));
        op.s.putInt(n + DATAMAP_OFFSET, datamap(op.s, n) | bit);
    }

    /** Shifts the entries after bit's position and the children up by one entry; returns the gap. */
    private static long openEntry(MapOp op, long n, int bit) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(dm, bit);
        long at = entry(n, op.es, idx);
        s.copy(at, at + op.es, (long) (entries - idx) * op.es + (long) children * CHILD_LENGTH);
        return at;
    }

    /** Removes the entry at bit of a bitmap node, releasing its slots if release is set. */
    static void removeEntry(MapOp op, long n, int bit, boolean release) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(dm, bit);
        long at = entry(n, op.es, idx);
        if (release && op.borrowing != n) releaseEntry(op, at);
        long tailBytes = (long) (entries - idx - 1) * op.es + (long) children * CHILD_LENGTH;
        s.copy(at + op.es, at, tailBytes);
        s.putInt(n + DATAMAP_OFFSET, dm & ~bit);
    }

    static void insertChild(MapOp op, long n, int bit, long child) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(nm, bit);
        long at = childSlot(n, op.es, entries, idx);
        s.copy(at, at + CHILD_LENGTH, (long) (children - idx) * CHILD_LENGTH);
        s.putLong(at, child);
        s.putInt(n + NODEMAP_OFFSET, nm | bit);
        storedBlock(op, n, child);
    }

    /** Removes the child at bit; releases it if release is set. */
    static void removeChild(MapOp op, long n, int bit, boolean release) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(nm, bit);
        long at = childSlot(n, op.es, entries, idx);
        long old = s.getLong(at);
        s.copy(at + CHILD_LENGTH, at, (long) (children - idx - 1) * CHILD_LENGTH);
        s.putInt(n + NODEMAP_OFFSET, nm & ~bit);
        if (release && op.borrowing != n) RefCounts.release(op.h, old);
    }

    /** Stores child at slot address (in node n), releasing what was there. */
    static void setChild(MapOp op, long n, long slot, long child) {
        long old = op.s.getLong(slot);
        op.s.putLong(slot, child);
        storedBlock(op, n, child);
        if (op.borrowing != n) RefCounts.release(op.h, old);
    }

    /** Appends the op's entry to a collision node. */
    static void appendCollision(MapOp op, long n) {
        int cnt = collisionCount(op.s, n);
        writeEntry(op, entry(n, op.es, cnt));
        storedEntry(op, n);
        op.s.putInt(n + COLLISION_COUNT_OFFSET, cnt + 1);
    }

    static void removeCollision(MapOp op, long n, int i, boolean release) {
        int cnt = collisionCount(op.s, n);
        long at = entry(n, op.es, i);
        if (release && op.borrowing != n) releaseEntry(op, at);
        op.s.copy(at + op.es, at, (long) (cnt - i - 1) * op.es);
        op.s.putInt(n + COLLISION_COUNT_OFFSET, cnt - 1);
    }

    /** Index of key in a collision node, or -1. */
    static int collisionIndex(MapOp op, long n) {
        int cnt = collisionCount(op.s, n);
        for (int i = 0; i < cnt; i++) {
            long e = entry(n, op.es, i);
            if (op.keyAt(keyTag(op.s, e), keyPayload(op.s, e))) return i;
        }
        return -1;
    }

    /**
     * A node holding a copy of existing entry e (hash he) and the op's new
     * entry, placed at the first level from shift where their hashes differ,
     * or in a collision node when all 32 bits agree.
     */
    static long mergeTwo(MapOp op, long e, int he, int shift) {
        int hn = op.k.hash;
        if (shift >= 32) {
            long n = newCollision(op, hn, 2 + (op.edit != 0 ? 2 : 0));
            copyEntry(op, e, entry(n, op.es, 0));
            writeEntry(op, entry(n, op.es, 1));
            op.s.putInt(n + COLLISION_COUNT_OFFSET, 2);
            return MapSeals.sealed(op, n);
        }
        int m1 = mask(he, shift, op.bits), m2 = mask(hn, shift, op.bits);
        if (m1 != m2) {
            // Two entries, and in a transient room for one more: most nodes made here never
            // grow (in a 1M-entry map ~60% of entries sit in such nodes), and grow() makes room
            // if one does. Room for two more made 2-entry nodes 128-byte blocks.
            long n = newBitmap(op, op.edit != 0 ? 3 : 2, 0);
            long first = entry(n, op.es, 0), second = entry(n, op.es, 1);
            if (m1 < m2) { copyEntry(op, e, first); writeEntry(op, second); }
            else { writeEntry(op, first); copyEntry(op, e, second); }
            op.s.putInt(n + DATAMAP_OFFSET, (1 << m1) | (1 << m2));
            return MapSeals.sealed(op, n);
        }
        long sub = mergeTwo(op, e, he, shift + op.bits);
        long n;
        try {
            n = newBitmap(op, 0, 1);
        } catch (RuntimeException ex) {
            RefCounts.release(op.h, sub);
            throw ex;
        }
        op.s.putLong(childSlot(n, op.es, 0, 0), sub);
        op.s.putInt(n + NODEMAP_OFFSET, 1 << m1);
        return MapSeals.sealed(op, n);
    }

    /** A bitmap node holding only a copy of entry e, laid out as a root (level 0). */
    static long singleEntry(MapOp op, long e) {
        long n = newBitmap(op, 1, 0);
        copyEntry(op, e, entry(n, op.es, 0));
        op.s.putInt(n + DATAMAP_OFFSET, bitpos(entryHash(op.s, e), 0, op.bits));
        return MapSeals.sealed(op, n);
    }
}
