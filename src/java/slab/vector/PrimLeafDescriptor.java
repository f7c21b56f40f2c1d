package slab.vector;

/**
 * Layout of a leaf of unboxed numbers (block type VEC_PRIM_LEAF), the
 * leaves of a vector-of (tag VECTOR_OF). Branches are ordinary VEC_BRANCH
 * nodes; only the leaves differ. The element type is kept twice: in the
 * collection block (slab.ref.CollDescriptor.COLL_ELEM_OFFSET) and in each
 * leaf's node word (VecNodeDescriptor.ELEM_SHIFT), so a leaf can be checked
 * on its own (its size against capacity x width) and a reader that meets a
 * leaf of another type knows the file is damaged.
 *
 * <pre>
 * Primitive leaf (VEC_PRIM_LEAF) with cap elements of w bytes, 32 + w * cap bytes:
 *
 *   0                   8             24                     32
 *   +-------------------+-------------+----------------------+-------------------------------+
 *   | allocator header  | lineage     | node word            | element[0] ... element[cap-1] |
 *   |                   | 0, 0        | edit:48|elem:8|cap:8 | w bytes each, little-endian   |
 *   +-------------------+-------------+----------------------+-------------------------------+
 * </pre>
 *
 * The elements start 32 bytes into a 16-aligned block, so a leaf of doubles
 * or longs is an aligned C array. A primitive leaf holds no reference
 * counts: its lineage words stay 0 (a copy never borrows from it, since
 * there is nothing to borrow), and the reclaimer, the sweep and verify find
 * no references in it. Elements past a vector's end (only in a transient's
 * tail) are zero.
 */
public final class PrimLeafDescriptor {
    private PrimLeafDescriptor() {}

    /** First element, 8-aligned (the same offset as a slot leaf's first payload). */
    public static final int ELEMENTS_OFFSET = VecNodeDescriptor.SLOTS_OFFSET;

    // Element types, as :long, :double, ... of clojure.core/vector-of. Widths in bytes follow each.
    public static final int ELEM_LONG = 1;      // 8, two's complement
    public static final int ELEM_DOUBLE = 2;    // 8, IEEE-754 (NaN payloads kept)
    public static final int ELEM_INT = 3;       // 4, two's complement
    public static final int ELEM_FLOAT = 4;     // 4, IEEE-754
    public static final int ELEM_SHORT = 5;     // 2, two's complement
    public static final int ELEM_CHAR = 6;      // 2, a UTF-16 code unit
    public static final int ELEM_BYTE = 7;      // 1, two's complement
    public static final int ELEM_BOOLEAN = 8;   // 1, 0 or 1
    /** The largest element type. */
    public static final int ELEM_MAX = ELEM_BOOLEAN;

    private static final int[] WIDTH = {0, 8, 8, 4, 4, 2, 2, 1, 1};

    public static boolean isElem(int elem) { return elem >= ELEM_LONG && elem <= ELEM_MAX; }

    /** Bytes of one element of type elem. */
    public static int width(int elem) { return WIDTH[elem]; }

    /** Bytes of a leaf with cap elements of type elem, header included. */
    public static long leafLength(int elem, int cap) { return ELEMENTS_OFFSET + (long) WIDTH[elem] * cap; }

    /** Offset of element i in a leaf of type elem. */
    public static long elementOffset(int elem, int i) { return ELEMENTS_OFFSET + (long) WIDTH[elem] * i; }

    public static void checkElem(int elem) {
        if (!isElem(elem)) throw new IllegalStateException("slab: unknown vector-of element type " + elem + " (damaged block?)");
    }
}
