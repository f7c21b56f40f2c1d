package slab.share;

import slab.mem.AllocatorDescriptor;

/**
 * Layouts of the two blocks through which values are published: a box
 * (block type BOX) holds one counted slot, the value a named root or atom
 * publishes; a cell (CELL) is an anonymous atom's word, naming its box.
 *
 * <pre>
 * Box:  8 tag (byte, padded to 4)   12 seal   16 payload (counted if the tag is)
 * Cell: 8 box offset (0 = none)
 * </pre>
 */
public final class BoxDescriptor {
    private BoxDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    /** The slot tag, one byte; bytes 9..11 are zero. */
    public static final int BOX_TAG_OFFSET = 8;
    /** The box's seal (slab.mem.Seals), over bytes [8, 24) with these 4 read as 0. */
    public static final int BOX_SEAL_OFFSET = 12;
    public static final int BOX_PAYLOAD_OFFSET = 16;
    public static final int BOX_LENGTH = 24;
    public static final int CELL_WORD_OFFSET = 8;
    public static final int CELL_LENGTH = 16;
}
