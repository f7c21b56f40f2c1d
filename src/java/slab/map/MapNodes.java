package slab.map;

import static slab.map.MapNodeDescriptor.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
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

    static long bitmapBytes(int es, int entries, int children) { return MapNodeDescriptor.nodeBytes(es, entries, children); }

    /** Is n a bitmap node with one entry and no children (to be inlined by its parent)? */
    static boolean isSingleEntry(Segment s, long n) {
        if (isCollision(s, n)) return collisionCount(s, n) == 1;
        return nodemap(s, n) == 0 && Integer.bitCount(datamap(s, n)) == 1;
    }

    // --- checks (every node offset read from the segment is untrusted) ---------------

    /** Hash bits a node at level shift has consumed: an entry there agrees with its path on these. */
    static int prefixMask(int shift, int bits) {
        int used = shift + bits;
        return used >= 32 ? -1 : (1 << used) - 1;
    }

    /** What {@link #checkNode} returns for a collision node (no sound bitmap node has these bitmaps). */
    static final long COLLISION = -1L;

    /**
     * Checks node n, reached at hash bit shift of a map (es = MAP_ENTRY_LENGTH)
     * or set, before anything in it is read: a live block of the map's or
     * set's node type; a bitmap node above bit 32 with disjoint bitmaps
     * whose entries and children fit the block; a collision node at or below
     * bit 32 whose entries fit. Returns {@link #COLLISION} for a collision
     * node, else both bitmaps in one word (datamap in the low 32 bits,
     * nodemap in the high: they are adjacent, so one read fetches both).
     * Since bitmap nodes exist only above bit 32 and collision nodes have no
     * children, a walk is at most 32 / bits + 1 nodes deep whatever the
     * offsets say: a child naming its own node or an ancestor is caught here.
     */
    static long checkNode(Segment s, long n, int es, int shift) {
        long hd = s.liveHeader(n, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hd);
        boolean set = es == SET_ENTRY_LENGTH;
        if (t == (set ? BlockTypes.SET_NODE : BlockTypes.MAP_NODE)) {
            long maps = s.getLong(n + DATAMAP_OFFSET);
            int dm = (int) maps, nm = (int) (maps >>> 32);
            if (shift >= 32 || (dm & nm) != 0
                    || bitmapBytes(es, Integer.bitCount(dm), Integer.bitCount(nm)) > Segment.blockSize(hd))
                throw badNode(s, n, shift, "bitmap node");
            if (s.verifyOnRead) MapSeals.checkRead(s, n);
            return maps;
        }
        if (t == (set ? BlockTypes.SET_COLLISION : BlockTypes.MAP_COLLISION)) {
            int cnt = collisionCount(s, n);
            if (shift < 32 || cnt < 1 || bitmapBytes(es, cnt, 0) > Segment.blockSize(hd))
                throw badNode(s, n, shift, "collision node");
            if (s.verifyOnRead) MapSeals.checkRead(s, n);
            return COLLISION;
        }
        throw s.wrongType(n, hd, "a " + (set ? "set" : "map") + " node");
    }

    private static RuntimeException badNode(Segment s, long n, int shift, String kind) {
        return Damage.at(s, n, "a well-formed " + kind + " at hash bit " + shift + " (bitmap nodes above bit 32 "
            + "with disjoint bitmaps, collision nodes at it, entries and children inside the block)");
    }

    /** Damage: entry e of node n does not belong where the trie holds it (its hash disagrees with its path). */
    static RuntimeException misplaced(Segment s, long n, long e, int hash) {
        return Damage.at(s, n, "an entry whose hash agrees with its place in the trie; the entry at " + e
            + " has hash " + hash);
    }

    /** Child j of bitmap node n (with this many entries); never 0, as a bitmap says a child is there. */
    static long child(Segment s, long n, int es, int entries, int j) {
        long c = s.getLong(childSlot(n, es, entries, j));
        if (c == 0) throw Damage.at(s, n, "a child node where the nodemap has one, found offset 0");
        return c;
    }

    /**
     * Damage unless entry e, at position pos of a bitmap node at hash bit
     * shift reached through hash bits prefix (collision node: pos 0, shift
     * 32 or more, prefix the whole hash), has a hash that agrees with that
     * path, as every entry of a sound trie does.
     */
    static void checkPlace(Segment s, long n, long e, int prefix, int pos, int shift, int bits) {
        int he = entryHash(s, e);
        int want = shift >= 32 ? prefix : prefix | pos << shift;
        if (((he ^ want) & prefixMask(shift, bits)) != 0) throw misplaced(s, n, e, he);
    }

    // --- lookup -------------------------------------------------------------------------

    /**
     * The entry for key (with hasheq hash) under node n, or 0. Allocates
     * nothing for scalar keys. Every node is checked before it is read
     * ({@link #checkNode}), and an entry found at the key's position must
     * agree with the key's hash on every bit the path used, as in a sound
     * trie: a child offset redirected to another node is caught there.
     */
    static long find(Heap h, long n, Object key, int hash, int es) { return find(h, n, key, hash, es, false); }

    /** find, reading each node's next lines ahead when ahead (a big map: see {@link NestedWarm#lines}). */
    static long find(Heap h, long n, Object key, int hash, int es, boolean ahead) {
        // the keyword's offset read before the walk needs it, so the loads overlap
        return find(h, n, key, hash, Equality.knownOffset(h, key), es, ahead);
    }

    /** find with key's {@link Equality#knownOffset} given (a walk probing each value for one key looks it up once). */
    static long find(Heap h, long n, Object key, int hash, long kwOff, int es, boolean ahead) {
        Segment s = h.segment();
        int bits = s.mapBits();
        int shift = 0;
        boolean set = es == SET_ENTRY_LENGTH;
        int bitmapNode = Segment.live(set ? BlockTypes.SET_NODE : BlockTypes.MAP_NODE);
        while (n != 0) {
            // The light form of checkNode (offset, state and type, depth, disjoint bitmaps: what
            // bounds the walk), since a lookup reads one entry or child of each node; the size
            // checks are checkNode's, on the walks that read whole nodes, and verify's.
            long hd = s.header(n, "a map or set node");
            if (ahead) NestedWarm.lines(s, n);
            long maps;
            if (Segment.stateAndType(hd) == bitmapNode) {
                maps = s.getLong(n + DATAMAP_OFFSET);
                if (shift >= 32 || ((int) maps & (int) (maps >>> 32)) != 0) throw badNode(s, n, shift, "bitmap node");
                if (s.verifyOnRead) MapSeals.checkRead(s, n);
            } else {
                maps = checkNode(s, n, es, shift);
            }
            if (maps == COLLISION) {
                int cnt = collisionCount(s, n);
                for (int i = 0; i < cnt; i++) {
                    long e = entry(n, es, i);
                    int he = entryHash(s, e);
                    if (he != hash) throw misplaced(s, n, e, he);
                    if (Equality.equalsKey(h, keyTag(s, e), keyPayload(s, e), key, kwOff)) return e;
                }
                return 0;
            }
            int bit = bitpos(hash, shift, bits);
            int dm = (int) maps;
            if ((dm & bit) != 0) {
                long e = entry(n, es, index(dm, bit));
                int he = entryHash(s, e);
                if (((he ^ hash) & prefixMask(shift, bits)) != 0) throw misplaced(s, n, e, he);
                return he == hash && Equality.equalsKey(h, keyTag(s, e), keyPayload(s, e), key, kwOff) ? e : 0;
            }
            int nm = (int) (maps >>> 32);
            if ((nm & bit) == 0) return 0;
            n = child(s, n, es, Integer.bitCount(dm), index(nm, bit));
            shift += bits;
        }
        return 0;
    }
}
