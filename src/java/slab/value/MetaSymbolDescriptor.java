package slab.value;

import slab.mem.AllocatorDescriptor;

/**
 * Layout of a symbol-with-metadata block (block type META_SYMBOL), what a
 * slot with tag SYMBOL_META names. The symbol itself stays interned (its
 * block is never freed); the metadata map is a counted slot the block owns.
 *
 * <pre>
 *   0        8        12         13     16              24
 *   +--------+--------+----------+------+---------------+--------------+
 *   | header | hasheq | meta tag | pad  | interned sym  | meta payload |
 *   +--------+--------+----------+------+---------------+--------------+
 * </pre>
 *
 * hasheq is the symbol's (metadata does not change it); the symbol word is
 * the offset of the symbol's interned block, as in a SYMBOL slot.
 */
public final class MetaSymbolDescriptor {
    private MetaSymbolDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    public static final int META_SYMBOL_HASH_OFFSET = 8;
    public static final int META_SYMBOL_META_TAG_OFFSET = 12;
    public static final int META_SYMBOL_PAD_OFFSET = 13;
    public static final int META_SYMBOL_SYMBOL_OFFSET = 16;
    public static final int META_SYMBOL_META_OFFSET = 24;
    public static final int META_SYMBOL_LENGTH = 32;
}
