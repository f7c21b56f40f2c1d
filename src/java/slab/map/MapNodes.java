package slab.map;

import static slab.map.MapNodeDescriptor.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.ref.Heap;
import slab.value.Equality;

/**
 * Reading CHAMP nodes (layout in {@link MapNodeDescriptor}): fields,
 * bitmap arithmetic, and the lookup every operation starts from. The
 * primitive edits are in {@link MapEdits}.
 */
final class MapNodes {
    private MapNodes() {}

    static int type(Segment s, long n) { return s.getByte(n + AllocatorDescriptor.TYPE_BYTE_OFFSET); }

    static boolean isCollision(Segment s, long n) {
        int t = type(s, n);
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

    static int entryHash(Segment s, long e) { return s.getInt(e + ENTRY_HASH_OFFSET); }
    static int keyTag(Segment s, long e) { return s.getByte(e + ENTRY_KEY_TAG_OFFSET); }
    static long keyPayload(Segment s, long e) { return s.getLong(e + ENTRY_KEY_OFFSET); }
    static int valTag(Segment s, long e) { return s.getByte(e + ENTRY_VALUE_TAG_OFFSET); }
    static long valPayload(Segment s, long e) { return s.getLong(e + ENTRY_VALUE_OFFSET); }

    /** Entry length of a map (false) or set (true). */
    static int entryLength(boolean set) { return set ? SET_ENTRY_LENGTH : MAP_ENTRY_LENGTH; }

    /** Bytes a bitmap node with this many entries and children needs. */
    static long bitmapBytes(int es, int entries, int children) {
        return ENTRIES_OFFSET + (long) entries * es + (long) children * CHILD_LENGTH;
    }

    /** Is n a bitmap node with one entry and no children (to be inlined by its parent)? */
    static boolean isSingleEntry(Segment s, long n) {
        if (isCollision(s, n)) return collisionCount(s, n) == 1;
        return nodemap(s, n) == 0 && Integer.bitCount(datamap(s, n)) == 1;
    }

    /** The entry for key (with hasheq hash) under node n, or 0. Allocates nothing for scalar keys. */
    static long find(Heap h, long n, Object key, int hash, int es) {
        Segment s = h.segment();
        int bits = s.mapBits();
        int shift = 0;
        while (n != 0) {
            if (isCollision(s, n)) {
                int cnt = collisionCount(s, n);
                for (int i = 0; i < cnt; i++) {
                    long e = entry(n, es, i);
                    if (entryHash(s, e) == hash && Equality.equalsValue(h, keyTag(s, e), keyPayload(s, e), key)) return e;
                }
                return 0;
            }
            int bit = bitpos(hash, shift, bits);
            int dm = datamap(s, n);
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                return entryHash(s, e) == hash && Equality.equalsValue(h, keyTag(s, e), keyPayload(s, e), key) ? e : 0;
            }
            int nm = nodemap(s, n);
            if ((nm & bit) == 0) return 0;
            n = s.getLong(childSlot(n, es, Integer.bitCount(dm), index(nm, bit)));
            shift += bits;
        }
        return 0;
    }
}
