package slab.ref;

import slab.mem.AllocatorDescriptor;

/**
 * Layout of a collection block (block type COLL): what a slot with tag MAP,
 * SET, VECTOR, LIST or VECTOR_OF names. It describes one version of a nested
 * collection (its kind, count, hash, root and tail nodes, metadata) and
 * holds one count on each node and on counted metadata.
 *
 * <pre>
 *   0        8      9          10      11     12       16      20     24          32          40
 *   +--------+------+----------+-------+------+--------+-------+------+-----------+-----------+-----------+
 *   | header | kind | meta tag | shift | elem | hasheq | count | seal | root node | tail node | meta      |
 *   +--------+------+----------+-------+------+--------+-------+------+-----------+-----------+-----------+
 * </pre>
 *
 * kind is the slot tag; shift is the vector trie's shift (0 for maps and
 * sets); elem is a vector-of's element type (0 for every other kind);
 * hasheq holds the entry-hash sum of a map or set (hasheq =
 * mixCollHash(sum, count)) and the ordered hasheq of a vector, list or
 * vector-of;
 * root and tail are node offsets, 0 for none (maps and sets have no tail);
 * meta is the payload of the metadata map's slot (tag NIL: none); seal
 * covers bytes [8, 48) with its own 4 read as 0, written before the block's
 * offset is stored anywhere.
 */
public final class CollDescriptor {
    private CollDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    public static final int COLL_KIND_OFFSET = 8;
    public static final int COLL_META_TAG_OFFSET = 9;
    public static final int COLL_SHIFT_OFFSET = 10;
    /** VECTOR_OF: the element type (PrimLeafDescriptor.ELEM_*); 0 for every other kind. */
    public static final int COLL_ELEM_OFFSET = 11;
    public static final int COLL_HASH_OFFSET = 12;
    /** The count, 4 bytes (Clojure counts are ints). */
    public static final int COLL_COUNT_OFFSET = 16;
    /** The block's seal (slab.mem.Seals), over bytes [8, 48) with these 4 read as 0. */
    public static final int COLL_SEAL_OFFSET = 20;
    public static final int COLL_ROOT_OFFSET = 24;
    public static final int COLL_TAIL_OFFSET = 32;
    public static final int COLL_META_OFFSET = 40;
    public static final int COLL_LENGTH = 48;
}
