package slab.vector;

import slab.mem.AllocatorDescriptor;

/**
 * Layout of vector trie nodes (block types VEC_BRANCH and VEC_LEAF). A
 * vector is a trie of branching W = 2^vecBits (the segment header's
 * vecBits, 5 by default) plus a tail leaf, the shape of
 * clojure.lang.PersistentVector; the collection block (see
 * slab.ref.CollDescriptor) or an on-heap handle holds root, tail, count and
 * shift. All fields are little-endian.
 *
 * <pre>
 * Branch node (VEC_BRANCH), 32 + 8 * W bytes:
 *
 *   0                   8             24                  32
 *   +-------------------+-------------+-------------------+------------------------------+
 *   | allocator header  | lineage     | node word         | child[0] ... child[W-1]      |
 *   | (refcount, type)  | base, heir  | edit:48|0:8|cap:8 | node offsets, 0 = none       |
 *   +-------------------+-------------+-------------------+------------------------------+
 *
 * Leaf node (VEC_LEAF) with cap slots, 32 + 9 * cap bytes:
 *
 *   0                   8             24                  32               32 + 8 * cap
 *   +-------------------+-------------+-------------------+----------------+---------------+
 *   | allocator header  | lineage     | node word         | payload[0..cap)| tag[0..cap)   |
 *   |                   | base, heir  | edit:48|0:8|cap:8 | 8 bytes each   | 1 byte each   |
 *   +-------------------+-------------+-------------------+----------------+---------------+
 * </pre>
 *
 * The node word holds the slot capacity in its low byte, the element type
 * of a primitive leaf (vector-of, see {@link PrimLeafDescriptor}; 0 here)
 * in the next, and the transient edit id above them (0 = persistent: the
 * node is never written again; once sealed, bit 63 and the seal in bits
 * 16..47, see slab.mem.SealDescriptor). All three node types share this prefix, so
 * shape code reads capacity and edit id without knowing the type. Slot
 * i of a leaf is the value-codec slot (tag[i], payload[i]) described in
 * {@link Tags}; counted tags hold one reference count on their block.
 *
 * <p>Capacities: a branch and every leaf inside the trie have cap = W and
 * are full. The tail of a published vector has cap = count - tailoff, the
 * number of elements it holds (so a three-element vector costs one 48-byte
 * block). The tail of a transient has cap = W; persistent! trims it. Slots
 * and children past the vector's end hold tag NIL and offset 0, so the
 * reclaimer can drop every slot of a leaf without knowing the count.
 */
public final class VecNodeDescriptor {
    private VecNodeDescriptor() {}

    /** The allocator's block header (reference count, block type). */
    public static final int HEADER_OFFSET;
    /** Node word: capacity (low 8 bits), element type (next 8) and edit id or seal above. */
    public static final int NODE_WORD_OFFSET;
    /** First child offset of a branch; first payload of a leaf. */
    public static final int SLOTS_OFFSET;
    public static final int CHILD_LENGTH = 8;
    public static final int PAYLOAD_LENGTH = 8;
    public static final int TAG_LENGTH = 1;

    public static final int CAPACITY_BITS = 8;
    public static final long CAPACITY_MASK = (1L << CAPACITY_BITS) - 1;
    /** The element type of a primitive leaf (PrimLeafDescriptor.ELEM_*); 0 in branches and slot leaves. */
    public static final int ELEM_SHIFT = CAPACITY_BITS;
    public static final int ELEM_BITS = 8;
    public static final long ELEM_MASK = (1L << ELEM_BITS) - 1;
    public static final int EDIT_SHIFT = ELEM_SHIFT + ELEM_BITS;
    /**
     * Edit ids stay below 2^47, so bit 63 (SealDescriptor.SEAL_FLAG) is never
     * part of one: a sealed word is never a transient's id.
     */
    public static final long MAX_EDIT = (1L << 47) - 1;
    /** A sealed node word: SEAL_FLAG, the 32-bit seal at this shift, bits 48..62 zero. */
    public static final int SEAL_SHIFT = EDIT_SHIFT;
    /** Bits of a sealed node word that must be zero (48..62). */
    public static final long SEAL_PAD_MASK = ((1L << 15) - 1) << 48;

    public static final int MIN_BITS = 1;
    public static final int MAX_BITS = 5;
    /**
     * The deepest shift a reader accepts: a trie of 2^31 elements needs at
     * most 30, so anything deeper is damage, and no walk goes further down.
     */
    public static final int MAX_SHIFT = 40;

    static {
        int offset = 0;
        HEADER_OFFSET = offset;     offset += AllocatorDescriptor.BLOCK_HEADER_LENGTH;
        offset = slab.ref.LineageDescriptor.END_OFFSET;   // base and heir words (slab.ref.LineageDescriptor)
        NODE_WORD_OFFSET = offset;  offset += 8;
        SLOTS_OFFSET = offset;
    }

    /** Bytes of a branch of branching w, header included. */
    public static long branchLength(int w) { return SLOTS_OFFSET + (long) CHILD_LENGTH * w; }

    /** Bytes of a leaf with cap slots, header included. */
    public static long leafLength(int cap) { return SLOTS_OFFSET + (long) (PAYLOAD_LENGTH + TAG_LENGTH) * cap; }

    public static long childOffset(int i) { return SLOTS_OFFSET + (long) CHILD_LENGTH * i; }

    public static long payloadOffset(int i) { return SLOTS_OFFSET + (long) PAYLOAD_LENGTH * i; }

    /** Offset of tag i in a leaf of capacity cap: the tags follow the payloads. */
    public static long tagOffset(int cap, int i) { return SLOTS_OFFSET + (long) PAYLOAD_LENGTH * cap + i; }

    public static long nodeWord(long edit, int cap) { return (edit << EDIT_SHIFT) | cap; }

    /** The node word of a primitive leaf of element type elem. */
    public static long nodeWord(long edit, int elem, int cap) { return (edit << EDIT_SHIFT) | ((long) elem << ELEM_SHIFT) | cap; }

    public static int elemOf(long nodeWord) { return (int) ((nodeWord >>> ELEM_SHIFT) & ELEM_MASK); }

    public static int capacityOf(long nodeWord) { return (int) (nodeWord & CAPACITY_MASK); }

    public static long editOf(long nodeWord) { return nodeWord >>> EDIT_SHIFT; }

    /**
     * Can (count, shift, root, tail) describe a vector of branching 2^bits?
     * Shift a multiple of bits, at least bits, and deep enough for the trie's
     * leaves; root 0 exactly when every element fits the tail; tail 0
     * exactly when the vector is empty. Checked wherever a version is read
     * from the segment, so the walks, which go shift / bits levels down and
     * count elements along, are bounded by numbers that agree.
     */
    public static boolean isShape(int bits, long count, int shift, long root, long tail) {
        if (count < 0 || count > Integer.MAX_VALUE || shift < bits || shift > MAX_SHIFT || shift % bits != 0) return false;
        int w = 1 << bits;
        long tailoff = count < w ? 0 : ((count - 1) >>> bits) << bits;
        if (count == 0) return root == 0 && tail == 0 && shift == bits;
        if (tail == 0) return false;
        if (tailoff == 0) return root == 0 && shift == bits;
        return root != 0 && (tailoff >>> bits) <= 1L << shift;
    }

    public static void checkBits(int bits) {
        if (bits < MIN_BITS || bits > MAX_BITS)
            throw new IllegalStateException("slab: vector branching bits must be 1..5, got " + bits);
    }

    public static void checkCapacity(int cap, int w) {
        if (cap < 1 || cap > w)
            throw new IllegalStateException("slab: vector node capacity " + cap + " outside 1.." + w
                + " (damaged node?)");
    }

    public static void checkEdit(long edit) {
        if (edit < 0 || edit > MAX_EDIT)
            throw new IllegalStateException("slab: transient edit id " + edit + " does not fit a vector node");
    }
}
