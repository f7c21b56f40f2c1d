package slab.value;

import slab.mem.AllocatorDescriptor;

/**
 * Layouts of interned keywords and symbols (block type INTERNED) and of the
 * intern table (INTERN_TABLE), neither of which is ever freed. Offsets are
 * from the block's start.
 *
 * <pre>
 * Interned keyword or symbol:
 *   8  next in bucket chain (offset)   16 hasheq (int)
 *   20 kind: 1 keyword, 2 symbol (byte)  21 encoding: 0 Latin-1, 1 UTF-16LE (byte)
 *   24 namespace length in chars, -1 for none (int)   28 name length (int)
 *   32 namespace chars then name chars
 *
 * Intern table (one block, offset in the header's intern-table word):
 *   8  INTERN_BUCKETS bucket heads (offsets of interned blocks, 0 = empty);
 *      a keyword or symbol with hasheq h lives in chain h &amp; (INTERN_BUCKETS - 1)
 * </pre>
 */
public final class InternDescriptor {
    private InternDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    public static final int INTERN_NEXT_OFFSET = 8;
    public static final int INTERN_HASH_OFFSET = 16;
    public static final int INTERN_KIND_OFFSET = 20;
    public static final int INTERN_ENCODING_OFFSET = 21;
    public static final int INTERN_NS_LENGTH_OFFSET = 24;
    public static final int INTERN_NAME_LENGTH_OFFSET = 28;
    public static final int INTERN_DATA_OFFSET = 32;
    public static final int INTERN_KEYWORD = 1;
    public static final int INTERN_SYMBOL = 2;
    public static final int INTERN_LATIN1 = 0;
    public static final int INTERN_UTF16 = 1;

    /** The first bucket head of the intern table. */
    public static final int INTERN_BUCKETS_OFFSET = HEADER;
    /** Bucket heads in the intern table, a power of two. */
    public static final int INTERN_BUCKETS = 1 << 14;
    public static final int INTERN_BUCKET_LENGTH = 8;

    /** The bucket head word for a keyword or symbol of hasheq hash in the table at table. */
    public static long bucket(long table, int hash) {
        return table + INTERN_BUCKETS_OFFSET + (long) INTERN_BUCKET_LENGTH * (hash & (INTERN_BUCKETS - 1));
    }
}
