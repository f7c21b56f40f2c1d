package slab.codec;

import static slab.codec.MapNodeDescriptor.*;

import slab.mem.Segment;

/**
 * CHAMP nodes: reading them, and the primitive edits every update is written
 * against. A primitive either copies a node (adding a count to everything the
 * copy shares) or edits a node in place; in-place edits are allowed only on a
 * node this update owns outright: a fresh copy, or a node carrying the edit id
 * of the transient doing the edit. In-place edits release what they overwrite
 * and take over the counts of what they store.
 */
final class MapNodes {
    private MapNodes() {}

    // --- reading ----------------------------------------------------------------

    static boolean isCollision(Segment s, long n) {
        int t = s.getByte(n + 4);   // type byte of the block header
        return t == BlockTypes.MAP_COLLISION || t == BlockTypes.SET_COLLISION;
    }

    static int datamap(Segment s, long n) { return s.getInt(n + DATAMAP_OFFSET); }
    static int nodemap(Segment s, long n) { return s.getInt(n + NODEMAP_OFFSET); }
    static long edit(Segment s, long n) { return s.getLong(n + EDIT_OFFSET); }
    static int collisionCount(Segment s, long n) { return s.getInt(n + COLLISION_COUNT_OFFSET); }

    static int mask(int hash, int shift, int bits) { return (hash >>> shift) & ((1 << bits) - 1); }
    static int bitpos(int hash, int shift, int bits) { return 1 << mask(hash, shift, bits); }
    static int index(int bitmap, int bit) { return Integer.bitCount(bitmap & (bit - 1)); }

    static long entry(long n, int es, int i) { return n + ENTRIES_OFFSET + (long) i * es; }
    static long childSlot(long n, int es, int entries, int j) {
        return n + ENTRIES_OFFSET + (long) entries * es + (long) j * CHILD_LENGTH;
    }
    static long child(Segment s, long n, int es, int j) {
        return s.getLong(childSlot(n, es, Integer.bitCount(datamap(s, n)), j));
    }

    static int entryHash(Segment s, long e) { return s.getInt(e + ENTRY_HASH_OFFSET); }
    static int keyTag(Segment s, long e) { return s.getByte(e + ENTRY_KEY_TAG_OFFSET); }
    static long keyPayload(Segment s, long e) { return s.getLong(e + ENTRY_KEY_OFFSET); }
    static int valTag(Segment s, long e) { return s.getByte(e + ENTRY_VALUE_TAG_OFFSET); }
    static long valPayload(Segment s, long e) { return s.getLong(e + ENTRY_VALUE_OFFSET); }

    /** Bytes a bitmap node with this many entries and children needs. */
    static long bitmapBytes(int es, int entries, int children) {
        return ENTRIES_OFFSET + (long) entries * es + (long) children * CHILD_LENGTH;
    }

    /** The entry for key (with hasheq hash) under node n, or 0. Allocates nothing for scalar keys. */
    static long find(Codec c, long n, Object key, int hash, int es) {
        Segment s = c.segment();
        int bits = s.mapBits();
        int shift = 0;
        while (n != 0) {
            if (isCollision(s, n)) {
                int cnt = collisionCount(s, n);
                for (int i = 0; i < cnt; i++) {
                    long e = entry(n, es, i);
                    if (entryHash(s, e) == hash && c.equalsValue(keyTag(s, e), keyPayload(s, e), key)) return e;
                }
                return 0;
            }
            int bit = bitpos(hash, shift, bits);
            int dm = datamap(s, n);
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                return entryHash(s, e) == hash && c.equalsValue(keyTag(s, e), keyPayload(s, e), key) ? e : 0;
            }
            int nm = nodemap(s, n);
            if ((nm & bit) == 0) return 0;
            n = s.getLong(childSlot(n, es, Integer.bitCount(dm), index(nm, bit)));
            shift += bits;
        }
        return 0;
    }

    // --- allocation and copying -----------------------------------------------------

    static int nodeType(boolean set) { return set ? BlockTypes.SET_NODE : BlockTypes.MAP_NODE; }
    static int collisionType(boolean set) { return set ? BlockTypes.SET_COLLISION : BlockTypes.MAP_COLLISION; }

    /** A new empty bitmap node with room for this many entries and children. */
    static long newBitmap(MapOp op, int entries, int children) {
        long n = op.s.allocator().allocate(bitmapBytes(op.es, entries, children) - HEADER, nodeType(op.set));
        op.s.putLong(n + DATAMAP_OFFSET, 0);   // datamap and nodemap
        op.s.putLong(n + EDIT_OFFSET, op.edit);
        return n;
    }

    static long newCollision(MapOp op, int hash, int room) {
        long n = op.s.allocator().allocate(bitmapBytes(op.es, room, 0) - HEADER, collisionType(op.set));
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
     * id and room for extra entries and children, adding a count to every
     * counted slot and child the copy shares with n.
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
        s.copy(n + DATAMAP_OFFSET, b + DATAMAP_OFFSET, bytes - DATAMAP_OFFSET);
        s.putLong(b + EDIT_OFFSET, op.edit);
        retainShared(op, b, entries, children);
        return b;
    }

    /** Moves node n's bytes into a bigger block; n must be owned outright and is freed. */
    static long grow(MapOp op, long n, int moreEntries, int moreChildren) {
        Segment s = op.s;
        boolean collision = isCollision(s, n);
        int entries = collision ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        int children = collision ? 0 : Integer.bitCount(nodemap(s, n));
        long bytes = bitmapBytes(op.es, entries, children);
        // Grow by half again, so a transient filling one node moves it a few times, not once per entry.
        int roomE = Math.max(moreEntries, entries / 2 + 1), roomC = Math.max(moreChildren, children / 2);
        long b = s.allocator().allocate(bitmapBytes(op.es, entries + roomE, children + roomC) - HEADER,
            collision ? collisionType(op.set) : nodeType(op.set));
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
        Codec c = op.c;
        for (int i = 0; i < entries; i++) {
            long e = entry(n, op.es, i);
            c.retainSlot(keyTag(s, e), keyPayload(s, e));
            if (!op.set) c.retainSlot(valTag(s, e), valPayload(s, e));
        }
        long cs = childSlot(n, op.es, entries, 0);
        for (int j = 0; j < children; j++) c.retain(s.getLong(cs + (long) j * CHILD_LENGTH));
    }

    // --- in-place edits (node owned outright, room checked by the caller) ---------------

    /** Writes the op's key and value as entry i (bytes already made room for). */
    static void writeEntry(MapOp op, long e) {
        Segment s = op.s;
        s.putInt(e + ENTRY_HASH_OFFSET, op.k.hash);
        s.putByte(e + ENTRY_KEY_TAG_OFFSET, (byte) op.k.tag);
        s.putLong(e + ENTRY_KEY_OFFSET, op.k.payload);
        if (!op.set) {
            s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) op.v.tag);
            s.putLong(e + ENTRY_VALUE_OFFSET, op.v.payload);
        } else {
            s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) 0);
        }
        s.putByte(e + 6, (byte) 0);
        s.putByte(e + 7, (byte) 0);
        op.keyUsed = true;
        op.valUsed = true;
    }

    /** Copies entry bytes from src to dst, adding counts for the copy. */
    static void copyEntry(MapOp op, long src, long dst) {
        op.s.copy(src, dst, op.es);
        op.c.retainSlot(keyTag(op.s, dst), keyPayload(op.s, dst));
        if (!op.set) op.c.retainSlot(valTag(op.s, dst), valPayload(op.s, dst));
    }

    static void releaseEntry(MapOp op, long e) {
        op.c.releaseSlot(keyTag(op.s, e), keyPayload(op.s, e));
        if (!op.set) op.c.releaseSlot(valTag(op.s, e), valPayload(op.s, e));
    }

    /** Replaces the value of entry e with the op's value, releasing the old one. */
    static void setValue(MapOp op, long e) {
        Segment s = op.s;
        int oldTag = valTag(s, e);
        long oldPayload = valPayload(s, e);
        s.putByte(e + ENTRY_VALUE_TAG_OFFSET, (byte) op.v.tag);
        s.putLong(e + ENTRY_VALUE_OFFSET, op.v.payload);
        op.valUsed = true;
        op.c.releaseSlot(oldTag, oldPayload);
    }

    /** Inserts the op's entry at bit of a bitmap node. */
    static void insertEntry(MapOp op, long n, int bit) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(dm, bit);
        long at = entry(n, op.es, idx);
        long tailBytes = (long) (entries - idx) * op.es + (long) children * CHILD_LENGTH;
        s.copy(at, at + op.es, tailBytes);
        writeEntry(op, at);
        s.putInt(n + DATAMAP_OFFSET, dm | bit);
    }

    /** Inserts at bit a copy of the entry at src (adding counts for the copy). */
    static void insertEntryFrom(MapOp op, long n, int bit, long src) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(dm, bit);
        long at = entry(n, op.es, idx);
        s.copy(at, at + op.es, (long) (entries - idx) * op.es + (long) children * CHILD_LENGTH);
        copyEntry(op, src, at);
        s.putInt(n + DATAMAP_OFFSET, dm | bit);
    }

    /** Removes the entry at bit of a bitmap node, releasing its slots if release is set. */
    static void removeEntry(MapOp op, long n, int bit, boolean release) {
        Segment s = op.s;
        int dm = datamap(s, n), nm = nodemap(s, n);
        int entries = Integer.bitCount(dm), children = Integer.bitCount(nm);
        int idx = index(dm, bit);
        long at = entry(n, op.es, idx);
        if (release) releaseEntry(op, at);
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
        if (release) op.c.releaseRef(old);
    }

    /** Stores child at slot address, releasing what was there. */
    static void setChild(MapOp op, long slot, long child) {
        long old = op.s.getLong(slot);
        op.s.putLong(slot, child);
        op.c.releaseRef(old);
    }

    /** Appends the op's entry to a collision node. */
    static void appendCollision(MapOp op, long n) {
        int cnt = collisionCount(op.s, n);
        writeEntry(op, entry(n, op.es, cnt));
        op.s.putInt(n + COLLISION_COUNT_OFFSET, cnt + 1);
    }

    static void removeCollision(MapOp op, long n, int i, boolean release) {
        int cnt = collisionCount(op.s, n);
        long at = entry(n, op.es, i);
        if (release) releaseEntry(op, at);
        op.s.copy(at + op.es, at, (long) (cnt - i - 1) * op.es);
        op.s.putInt(n + COLLISION_COUNT_OFFSET, cnt - 1);
    }

    /** Index of key in a collision node, or -1. */
    static int collisionIndex(MapOp op, long n) {
        int cnt = collisionCount(op.s, n);
        for (int i = 0; i < cnt; i++) {
            long e = entry(n, op.es, i);
            if (op.c.equalsValue(keyTag(op.s, e), keyPayload(op.s, e), op.key)) return i;
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
            return n;
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
            return n;
        }
        long sub = mergeTwo(op, e, he, shift + op.bits);
        long n;
        try {
            n = newBitmap(op, 0, 1);
        } catch (RuntimeException ex) {
            op.c.releaseRef(sub);
            throw ex;
        }
        op.s.putLong(childSlot(n, op.es, 0, 0), sub);
        op.s.putInt(n + NODEMAP_OFFSET, 1 << m1);
        return n;
    }

    /** A bitmap node holding only a copy of entry e, laid out as a root (level 0). */
    static long singleEntry(MapOp op, long e) {
        long n = newBitmap(op, 1, 0);
        copyEntry(op, e, entry(n, op.es, 0));
        op.s.putInt(n + DATAMAP_OFFSET, bitpos(entryHash(op.s, e), 0, op.bits));
        return n;
    }

    /** Is n a bitmap node with one entry and no children (to be inlined by its parent)? */
    static boolean isSingleEntry(Segment s, long n) {
        if (isCollision(s, n)) return collisionCount(s, n) == 1;
        return nodemap(s, n) == 0 && Integer.bitCount(datamap(s, n)) == 1;
    }

    // --- reclaiming -------------------------------------------------------------------

    /** Queues the counted slots and children of a dead node for release. */
    static void dropChildren(Codec c, long n, LongStack work) {
        Segment s = c.segment();
        int t = s.getByte(n + 4);
        boolean set = t == BlockTypes.SET_NODE || t == BlockTypes.SET_COLLISION;
        int es = set ? SET_ENTRY_LENGTH : MAP_ENTRY_LENGTH;
        boolean collision = t == BlockTypes.MAP_COLLISION || t == BlockTypes.SET_COLLISION;
        int entries = collision ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        for (int i = 0; i < entries; i++) {
            long e = entry(n, es, i);
            c.dropSlotInto(keyTag(s, e), keyPayload(s, e), work);
            if (!set) c.dropSlotInto(valTag(s, e), valPayload(s, e), work);
        }
        if (collision) return;
        int children = Integer.bitCount(nodemap(s, n));
        long cs = childSlot(n, es, entries, 0);
        for (int j = 0; j < children; j++) c.dropInto(s.getLong(cs + (long) j * CHILD_LENGTH), work);
    }

    /** Pushes every counted slot and child of node n onto out (the sweep's reference graph). */
    static void pushRefs(Codec c, long n, LongStack out) {
        Segment s = c.segment();
        int t = s.getByte(n + 4);
        boolean set = t == BlockTypes.SET_NODE || t == BlockTypes.SET_COLLISION;
        int es = set ? SET_ENTRY_LENGTH : MAP_ENTRY_LENGTH;
        boolean collision = t == BlockTypes.MAP_COLLISION || t == BlockTypes.SET_COLLISION;
        int entries = collision ? collisionCount(s, n) : Integer.bitCount(datamap(s, n));
        for (int i = 0; i < entries; i++) {
            long e = entry(n, es, i);
            if (Tags.isCounted(keyTag(s, e))) out.push(keyPayload(s, e));
            if (!set && Tags.isCounted(valTag(s, e))) out.push(valPayload(s, e));
        }
        if (collision) return;
        int children = Integer.bitCount(nodemap(s, n));
        long cs = childSlot(n, es, entries, 0);
        for (int j = 0; j < children; j++) out.push(s.getLong(cs + (long) j * CHILD_LENGTH));
    }

    // --- building from on-heap collections ------------------------------------------------

    static Root fromMap(Codec c, clojure.lang.IPersistentMap m) {
        TransientMap t = new TransientMap(c, Tags.MAP, null, true);
        try {
            for (Object o : (Iterable<?>) m) {
                java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) o;
                try {
                    t.assoc(e.getKey(), e.getValue());
                } catch (clojure.lang.ExceptionInfo ex) {
                    throw c.withPath(ex, e.getKey());
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }

    static Root fromSet(Codec c, clojure.lang.IPersistentSet set) {
        TransientMap t = new TransientMap(c, Tags.SET, null, true);
        try {
            for (clojure.lang.ISeq q = set.seq(); q != null; q = q.next()) {
                Object k = q.first();
                try {
                    t.conj(k);
                } catch (clojure.lang.ExceptionInfo ex) {
                    throw c.withPath(ex, k);
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }
}
