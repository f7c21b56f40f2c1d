package slab.mem;

/**
 * Constants of the seal: the 32-bit checksum every immutable block carries
 * (format version 6). Where each block type keeps its seal and which bytes
 * it covers is in that type's descriptor and in doc/FORMAT.md, *Seals*;
 * the function is {@link Seals#of}.
 *
 * <pre>
 * h = SEED ^ (n * MUL)
 * for each little-endian word w of the covered bytes (bytes past the end
 * and the seal's own bytes read as 0): h = (h ^ w) * MUL; h ^= h >>> 32
 * h ^= h >>> 33; h *= FIN; h ^= h >>> 33; seal = low 32 bits, 0 becomes 1
 * </pre>
 */
public final class SealDescriptor {
    private SealDescriptor() {}

    public static final long SEED = 0x9E3779B97F4A7C15L;
    public static final long MUL = 0xFF51AFD7ED558CCDL;
    public static final long FIN = 0xC4CEB9FE1A85EC53L;
    /** Bit 63 of a node's edit word (map) or node word (vector): the node is sealed, never edited again. */
    public static final long SEAL_FLAG = 1L << 63;
    /** Bytes of a seal. */
    public static final int SEAL_LENGTH = 4;
    /** A trailer seal (blobs, interned blocks, symbols with metadata) starts at the layout's end rounded up to this. */
    public static final int TRAILER_ALIGNMENT = 4;
}
