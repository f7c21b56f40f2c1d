/*
 * Seals (FORMAT.md, "Seals"): the 32-bit checksum every immutable block
 * carries, checked on every block the reader follows, so a damaged byte is
 * an error, never a different value.
 */
#include "internal.h"

uint32_t slab_seal_of(const uint8_t *p, uint64_t n, uint32_t word, uint64_t keep) {
    uint64_t h = SEAL_SEED ^ (n * SEAL_MUL);
    for (uint64_t i = 0, k = 0; i < n; i += 8, k++) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i < 8 ? n - i : 8);   // the format's words are little-endian, as every load here assumes
        if (k == word) w &= keep;
        h = (h ^ w) * SEAL_MUL;
        h ^= h >> 32;
    }
    h ^= h >> 33;
    h *= SEAL_FIN;
    h ^= h >> 33;
    uint32_t s = (uint32_t) h;
    return s ? s : 1;
}

uint32_t slab_seal(const uint8_t *bytes, uint64_t n) { return slab_seal_of(bytes, n, UINT32_MAX, 0); }

/* Compares a stored seal with the one the block's bytes give. */
static int compare(slab_file *f, uint64_t off, uint32_t stored, uint32_t computed) {
    if (stored == computed) return SLAB_OK;
    return slab_fail(f, SLAB_EDAMAGED, "block %llu (type %u) does not match its seal (stored 0x%08x, computed 0x%08x)",
                     (unsigned long long) off, (unsigned) ((ld64(f, off) >> TYPE_SHIFT) & 0xFF), stored, computed);
}

int slab_check_trailer_seal(slab_file *f, uint64_t off, uint64_t end, uint64_t size) {
    uint64_t at = (end + 3) & ~3ULL;
    if (end < BLOCK_HEADER_LENGTH || at + SEAL_LENGTH > size)
        return slab_fail(f, SLAB_EDAMAGED, "block %llu has no room for its seal after %llu bytes", (unsigned long long) off,
                         (unsigned long long) end);
    return compare(f, off, ld32(f, off + at), slab_seal_of(f->base + off + 8, end - 8, UINT32_MAX, 0));
}

int slab_check_field_seal(slab_file *f, uint64_t off, uint64_t end, uint64_t seal_at) {
    // The seal's 4 bytes are the high half of the aligned word that holds them.
    uint32_t word = (uint32_t) ((seal_at - 8) / 8);
    return compare(f, off, ld32(f, off + seal_at), slab_seal_of(f->base + off + 8, end - 8, word, 0xFFFFFFFFULL));
}

int slab_check_node_seal(slab_file *f, uint64_t off, uint64_t end, int vector) {
    if (vector) {
        uint64_t nw = ld64(f, off + VEC_NODE_WORD_OFFSET);
        if (!(nw & SEAL_FLAG) || ((nw >> 48) & 0x7FFF) != 0)
            return slab_fail(f, SLAB_EDAMAGED, "vector node %llu is not sealed (node word 0x%llx)", (unsigned long long) off,
                             (unsigned long long) nw);
        return compare(f, off, (uint32_t) (nw >> VEC_SEAL_SHIFT),
                       slab_seal_of(f->base + off + NODE_SEAL_START, end - NODE_SEAL_START, 0, VEC_UNSEALED_MASK));
    }
    uint64_t ew = ld64(f, off + MAP_EDIT_OFFSET);
    if (!(ew & SEAL_FLAG) || (ew >> 32) != (SEAL_FLAG >> 32))
        return slab_fail(f, SLAB_EDAMAGED, "map node %llu is not sealed (edit word 0x%llx)", (unsigned long long) off,
                         (unsigned long long) ew);
    return compare(f, off, (uint32_t) ew,
                   slab_seal_of(f->base + off + NODE_SEAL_START, end - NODE_SEAL_START,
                                (MAP_EDIT_OFFSET - NODE_SEAL_START) / 8, 0));
}
