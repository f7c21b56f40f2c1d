package slab.map;

import slab.mem.AllocatorDescriptor;

/**
 * Layout of CHAMP map and set nodes.
 *
 * <pre>
 * Bitmap node (block types MAP_NODE, SET_NODE):
 *   0        8        24         28         32                 40
 *   +--------+--------+----------+----------+------------------+---------------------+------------------+
 *   | header | lineage| datamap  | nodemap  | edit id          | entries (n x E)     | children (m x 8) |
 *   +--------+--------+----------+----------+------------------+---------------------+------------------+
 *
 * Collision node (MAP_COLLISION, SET_COLLISION): every key has the same 32-bit hash.
 *   0        8        24         28         32                 40
 *   +--------+--------+----------+----------+------------------+---------------------+
 *   | header | lineage| hash     | count    | edit id          | entries (n x E)     |
 *   +--------+--------+----------+----------+------------------+---------------------+
 *
 * Map entry, E = 24:                     Set entry, E = 16:
 *   +0 key hasheq (int)                    +0 key hasheq (int)
 *   +4 key tag, +5 value tag (bytes)       +4 key tag (byte), +5 zero
 *   +6 zero (2 bytes)                      +6 zero (2 bytes)
 *   +8 key payload, +16 value payload      +8 key payload
 * </pre>
 *
 * A node's bitmaps index its 2^b slots, b = the segment's map bits (5: 32
 * slots). Level i uses hash bits [i*b, i*b+b); past bit 31 keys live in
 * collision nodes. Entries are in bitmap order, children follow the entries
 * in bitmap order; a block may have unused room after the children, which a
 * transient uses to grow in place. The edit word holds the owning
 * transient's id while it edits the node, and SEAL_FLAG | seal once the
 * node is immutable (MapSeals); a node may be changed in place only by the
 * transient whose id it carries. The
 * lineage words (base, heir) are described in slab.ref.LineageDescriptor.
 */
public final class MapNodeDescriptor {
    private MapNodeDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;
    public static final int DATAMAP_OFFSET;
    public static final int NODEMAP_OFFSET;
    public static final int COLLISION_HASH_OFFSET;
    public static final int COLLISION_COUNT_OFFSET;
    public static final int EDIT_OFFSET;
    public static final int ENTRIES_OFFSET;

    public static final int ENTRY_HASH_OFFSET = 0;
    public static final int ENTRY_KEY_TAG_OFFSET = 4;
    public static final int ENTRY_VALUE_TAG_OFFSET = 5;
    /** Two zero bytes after the tags (a set entry's value tag is zero too). */
    public static final int ENTRY_PAD_OFFSET = 6;
    public static final int ENTRY_PAD_LENGTH = 2;
    public static final int ENTRY_KEY_OFFSET = 8;
    public static final int ENTRY_VALUE_OFFSET = 16;
    public static final int MAP_ENTRY_LENGTH = 24;
    public static final int SET_ENTRY_LENGTH = 16;
    public static final int CHILD_LENGTH = 8;

    static {
        int offset = slab.ref.LineageDescriptor.END_OFFSET;
        DATAMAP_OFFSET = offset;
        COLLISION_HASH_OFFSET = offset;
        offset += 4;
        NODEMAP_OFFSET = offset;
        COLLISION_COUNT_OFFSET = offset;
        offset += 4;
        EDIT_OFFSET = offset;
        offset += 8;
        ENTRIES_OFFSET = offset;
    }

    /** Bytes a node with this many entries (of es bytes) and children needs, header included. */
    public static long nodeBytes(int es, int entries, int children) {
        return ENTRIES_OFFSET + (long) entries * es + (long) children * CHILD_LENGTH;
    }
}
