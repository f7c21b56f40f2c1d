/*
 * Walking collections (FORMAT.md, "Map nodes" and "Vector nodes"). Every
 * node is checked before it is read: its type at its level, its size
 * against its bitmaps or capacity, and every entry's hash against the path
 * that leads to it (a key in the wrong place is damage), so a damaged trie
 * cannot send the walk in circles: depth is bounded by the levels of a
 * 32-bit hash (maps) or by the shift (vectors), and a map yields no more
 * entries than its count.
 *
 * Vector leaves are read through leaf_slot(), the one place that knows a
 * leaf's layout: a slot leaf (tags and payloads), or a primitive leaf of a
 * vector-of, whose element becomes the slot of the same value (FORMAT.md,
 * "Primitive leaf"), so it decodes, hashes and prints as that value.
 */
#include "internal.h"

/* --- maps and sets ----------------------------------------------------------------- */

static int levels(const slab_file *f) { return (int) ((32 + f->map_bits - 1) / f->map_bits); }

/* Checks node n at level `level` of a map (or set) and fills the frame. */
static int push_node(slab_iter *it, uint64_t n, int level, uint64_t prefix) {
    slab_file *f = it->f;
    int set = it->kind == SLAB_SET;
    uint64_t e = set ? SET_ENTRY_LENGTH : MAP_ENTRY_LENGTH, size;
    int collision = level == levels(f);
    int type = collision ? (set ? T_SET_COLLISION : T_MAP_COLLISION) : (set ? T_SET_NODE : T_MAP_NODE);
    if (level >= SLAB_MAX_TRIE_DEPTH) return slab_fail(f, SLAB_EDAMAGED, "map trie deeper than a hash allows");
    int st = slab_check_block(f, n, type, MAP_ENTRIES_OFFSET, &size);
    if (st) return st;
    uint64_t entries, children;
    if (collision) {
        entries = ld32(f, n + MAP_COLLISION_COUNT_OFFSET);
        children = 0;
        if (entries == 0) return slab_fail(f, SLAB_EDAMAGED, "empty collision node %llu", (unsigned long long) n);
    } else {
        uint32_t dm = ld32(f, n + MAP_DATAMAP_OFFSET), nm = ld32(f, n + MAP_NODEMAP_OFFSET);
        uint32_t width = 1U << f->map_bits;
        uint64_t mask = width == 32 ? 0xFFFFFFFFULL : (1ULL << width) - 1;
        if ((dm & nm) || (dm & ~mask) || (nm & ~mask))
            return slab_fail(f, SLAB_EDAMAGED, "map node %llu has overlapping or out-of-range bitmaps", (unsigned long long) n);
        entries = (uint64_t) __builtin_popcount(dm);
        children = (uint64_t) __builtin_popcount(nm);
    }
    if (MAP_ENTRIES_OFFSET + entries * e + children * 8 > size)
        return slab_fail(f, SLAB_EDAMAGED, "map node %llu is smaller than its entries", (unsigned long long) n);
    if ((st = slab_check_node_seal(f, n, MAP_ENTRIES_OFFSET + entries * e + children * 8, 0))) return st;
    it->node[level] = n;
    it->pos[level] = 0;
    it->prefix[level] = prefix;
    it->depth = level;
    return SLAB_OK;
}

/* The position (0 .. 2^b-1) of the i-th set bit of m. */
static uint32_t nth_bit(uint32_t m, uint32_t i) {
    for (; i > 0; i--) m &= m - 1;
    return (uint32_t) __builtin_ctz(m);
}

static int map_next(slab_iter *it, slab_value *key, slab_value *val) {
    slab_file *f = it->f;
    int set = it->kind == SLAB_SET;
    uint64_t e = set ? SET_ENTRY_LENGTH : MAP_ENTRY_LENGTH;
    uint32_t b = f->map_bits;
    while (it->depth >= 0) {
        int d = it->depth;
        uint64_t n = it->node[d];
        int collision = d == levels(f);
        uint32_t dm = collision ? 0 : ld32(f, n + MAP_DATAMAP_OFFSET), nm = collision ? 0 : ld32(f, n + MAP_NODEMAP_OFFSET);
        uint32_t entries = collision ? ld32(f, n + MAP_COLLISION_COUNT_OFFSET) : (uint32_t) __builtin_popcount(dm);
        uint32_t children = collision ? 0 : (uint32_t) __builtin_popcount(nm);
        uint32_t i = it->pos[d];
        // The hash bits below this level are the path's; at this level, the position's.
        uint64_t low = (uint64_t) d * b >= 32 ? 0xFFFFFFFFULL : (1ULL << (d * b)) - 1;
        if (i < entries) {
            it->pos[d]++;
            uint64_t at = n + MAP_ENTRIES_OFFSET + i * e;
            uint32_t h = ld32(f, at + MAP_ENTRY_HASH_OFFSET);
            int st = slab_decode(f, ld8(f, at + MAP_ENTRY_KEY_TAG_OFFSET), ld64(f, at + MAP_ENTRY_KEY_OFFSET), key);
            if (st) return st;
            if (!set && (st = slab_decode(f, ld8(f, at + MAP_ENTRY_VALUE_TAG_OFFSET), ld64(f, at + MAP_ENTRY_VALUE_OFFSET), val)))
                return st;
            int placed = collision ? h == ld32(f, n + MAP_COLLISION_HASH_OFFSET) && (h & low) == it->prefix[d]
                                   : (h & low) == it->prefix[d] && ((h >> (d * b)) & ((1U << b) - 1)) == nth_bit(dm, i);
            if ((uint32_t) key->hash != h || !placed)
                return slab_fail(f, SLAB_EDAMAGED, "map node %llu: entry %u has hash %u where its key hashes to %u, or sits in the wrong place",
                                 (unsigned long long) n, i, h, (uint32_t) key->hash);
            if (++it->seen > it->count)
                return slab_fail(f, SLAB_EDAMAGED, "map holds more entries than its count %llu", (unsigned long long) it->count);
            return 1;
        }
        if (i < entries + children) {
            it->pos[d]++;
            uint32_t c = i - entries;
            uint64_t child = ld64(f, n + MAP_ENTRIES_OFFSET + (uint64_t) entries * e + (uint64_t) c * 8);
            uint64_t prefix = it->prefix[d] | (uint64_t) nth_bit(nm, c) << (d * b);
            int st = push_node(it, child, d + 1, prefix & 0xFFFFFFFFULL);
            if (st) return st;
            continue;
        }
        it->depth--;
    }
    if (it->seen != it->count)
        return slab_fail(f, SLAB_EDAMAGED, "map has %llu entries but its count says %llu", (unsigned long long) it->seen,
                         (unsigned long long) it->count);
    return 0;
}

/* --- vectors and lists ---------------------------------------------------------------- */

static uint64_t width_of(const slab_file *f) { return 1ULL << f->vec_bits; }

static uint64_t tailoff(const slab_file *f, uint64_t count) {
    return count < width_of(f) ? 0 : ((count - 1) >> f->vec_bits) << f->vec_bits;
}

static const uint32_t elem_width[ELEM_MAX + 1] = {0, 8, 8, 4, 4, 2, 2, 1, 1};

/* Checks that leaf is a leaf block of capacity cap: a slot leaf (elem 0) or a
 * primitive leaf of element type elem, large enough for its elements; sets *type. */
static int check_leaf(slab_file *f, uint64_t leaf, uint32_t cap, int elem, int *type) {
    uint64_t size;
    int prim = elem != 0;
    int st = slab_check_block(f, leaf, prim ? T_VEC_PRIM_LEAF : T_VEC_LEAF, VEC_SLOTS_OFFSET, &size);
    if (st) return st;
    uint64_t word = ld64(f, leaf + VEC_NODE_WORD_OFFSET);
    uint32_t c = (uint32_t) (word & VEC_CAPACITY_MASK);
    int e = (int) ((word >> VEC_ELEM_SHIFT) & VEC_ELEM_MASK);
    uint64_t need = prim ? PRIM_ELEMENTS_OFFSET + (uint64_t) elem_width[elem] * cap : VEC_SLOTS_OFFSET + 9ULL * cap;
    if (c != cap || e != elem || need > size)
        return slab_fail(f, SLAB_EDAMAGED, "vector leaf %llu has capacity %u and element type %d where %u and %d were expected",
                         (unsigned long long) leaf, c, e, cap, elem);
    *type = prim ? T_VEC_PRIM_LEAF : T_VEC_LEAF;
    return slab_check_node_seal(f, leaf, need, 1);
}

/* The slot (tag, payload) holding the same value as element j of a checked primitive leaf. */
static void prim_slot(const slab_file *f, uint64_t leaf, int elem, uint32_t j, uint8_t *tag, uint64_t *payload) {
    uint64_t at = leaf + PRIM_ELEMENTS_OFFSET + (uint64_t) elem_width[elem] * j;
    switch (elem) {
    case ELEM_LONG: *tag = TAG_LONG; *payload = ld64(f, at); break;
    case ELEM_DOUBLE: *tag = TAG_DOUBLE; *payload = ld64(f, at); break;
    case ELEM_INT: *tag = TAG_LONG; *payload = (uint64_t) (int64_t) (int32_t) ld32(f, at); break;
    case ELEM_FLOAT: *tag = TAG_FLOAT; *payload = ld32(f, at); break;
    case ELEM_SHORT: *tag = TAG_LONG; *payload = (uint64_t) (int64_t) (int16_t) ld16(f, at); break;
    case ELEM_CHAR: *tag = TAG_CHAR; *payload = ld16(f, at); break;
    case ELEM_BYTE: *tag = TAG_LONG; *payload = (uint64_t) (int64_t) (int8_t) ld8(f, at); break;
    default: *tag = ld8(f, at) ? TAG_TRUE : TAG_FALSE; *payload = 0; break;   // ELEM_BOOLEAN
    }
}

/* Element j of a checked leaf of capacity cap. */
static int leaf_slot(slab_file *f, uint64_t leaf, int type, int elem, uint32_t cap, uint32_t j, slab_value *out) {
    switch (type) {
    case T_VEC_LEAF: {
        uint64_t payload = ld64(f, leaf + VEC_SLOTS_OFFSET + 8ULL * j);
        uint8_t tag = ld8(f, leaf + VEC_SLOTS_OFFSET + 8ULL * cap + j);
        return slab_decode(f, tag, payload, out);
    }
    case T_VEC_PRIM_LEAF: {
        uint8_t tag;
        uint64_t payload;
        prim_slot(f, leaf, elem, j, &tag, &payload);
        return slab_decode(f, tag, payload, out);
    }
    default:
        return slab_fail(f, SLAB_EDAMAGED, "leaf %llu of unknown type %d", (unsigned long long) leaf, type);
    }
}

/* Finds the leaf holding element i, with the trie's shape checked on the way. */
static int find_leaf(slab_iter *it, uint64_t i) {
    slab_file *f = it->f;
    uint64_t w = width_of(f), to = tailoff(f, it->count);
    if (i >= to) {
        it->leaf = it->tail;
        it->leaf_base = to;
        it->leaf_cap = (uint32_t) (it->count - to);
    } else {
        uint64_t node = it->root;
        for (uint32_t level = it->shift; level > 0; level -= f->vec_bits) {
            uint64_t size;
            int st = slab_check_block(f, node, T_VEC_BRANCH, VEC_SLOTS_OFFSET + 8 * w, &size);
            if (st) return st;
            if ((ld64(f, node + VEC_NODE_WORD_OFFSET) & VEC_CAPACITY_MASK) != w)
                return slab_fail(f, SLAB_EDAMAGED, "vector branch %llu does not have %llu children", (unsigned long long) node,
                                 (unsigned long long) w);
            if ((st = slab_check_node_seal(f, node, VEC_SLOTS_OFFSET + 8 * w, 1))) return st;
            node = ld64(f, node + VEC_SLOTS_OFFSET + 8 * ((i >> level) & (w - 1)));
        }
        it->leaf = node;
        it->leaf_base = i & ~(w - 1);
        it->leaf_cap = (uint32_t) w;
    }
    return check_leaf(f, it->leaf, it->leaf_cap, it->elem, &it->leaf_type);
}

static int vec_begin(slab_iter *it, uint64_t coll) {
    slab_file *f = it->f;
    it->shift = ld8(f, coll + COLL_SHIFT_OFFSET);
    it->root = ld64(f, coll + COLL_ROOT_OFFSET);
    it->tail = ld64(f, coll + COLL_TAIL_OFFSET);
    it->leaf = 0;
    it->elem = it->kind == SLAB_VECTOR_OF ? ld8(f, coll + COLL_ELEM_OFFSET) : 0;
    if (it->kind == SLAB_VECTOR_OF && (it->elem < 1 || it->elem > ELEM_MAX))
        return slab_fail(f, SLAB_EDAMAGED, "vector-of block %llu has element type %d", (unsigned long long) coll, it->elem);
    uint64_t to = tailoff(f, it->count), b = f->vec_bits;
    // The trie under a root of this shift holds W^(shift/b + 1) elements; the shift bounds the depth.
    int shape = it->shift >= b && it->shift % b == 0 && it->shift < 64 && (to == 0) == (it->root == 0)
                && (it->count == 0) == (it->tail == 0) && (to == 0 || ((to - 1) >> it->shift) < width_of(f));
    if (!shape)
        return slab_fail(f, SLAB_EDAMAGED, "vector block %llu: count %llu, shift %u, root and tail do not fit",
                         (unsigned long long) coll, (unsigned long long) it->count, it->shift);
    return SLAB_OK;
}

static int vec_next(slab_iter *it, slab_value *elem) {
    if (it->seen >= it->count) return 0;
    uint64_t i = it->seen;
    if (!it->leaf || i < it->leaf_base || i >= it->leaf_base + it->leaf_cap) {
        int st = find_leaf(it, i);
        if (st) return st;
    }
    int st = leaf_slot(it->f, it->leaf, it->leaf_type, it->elem, it->leaf_cap, (uint32_t) (i - it->leaf_base), elem);
    if (st) return st;
    it->seen++;
    return 1;
}

/* --- the iterator ----------------------------------------------------------------- */

int slab_iter_begin(slab_file *f, const slab_value *coll, slab_iter *it) {
    if (!f || !coll || !it) return SLAB_EARG;
    if (coll->kind < SLAB_MAP) return slab_fail(f, SLAB_EARG, "not a collection");
    memset(it, 0, sizeof *it);
    it->f = f;
    it->kind = coll->kind;
    it->count = coll->as.coll.count;
    it->depth = -1;
    uint64_t c = coll->as.coll.block;
    if (coll->kind == SLAB_MAP || coll->kind == SLAB_SET) {
        uint64_t root = ld64(f, c + COLL_ROOT_OFFSET);
        if (root == 0) {
            return it->count == 0 ? SLAB_OK
                                  : slab_fail(f, SLAB_EDAMAGED, "map block %llu has no root but a count", (unsigned long long) c);
        }
        return push_node(it, root, 0, 0);
    }
    return vec_begin(it, c);
}

int slab_iter_next(slab_iter *it, slab_value *key, slab_value *val) {
    slab_value ignored;
    if (!it || !key) return SLAB_EARG;
    if (it->kind == SLAB_MAP || it->kind == SLAB_SET) return map_next(it, key, val ? val : &ignored);
    return vec_next(it, key);
}

int slab_nth(slab_file *f, const slab_value *coll, uint64_t i, slab_value *out) {
    slab_iter it;
    if (!f || !coll || !out) return SLAB_EARG;
    if (coll->kind != SLAB_VECTOR && coll->kind != SLAB_LIST && coll->kind != SLAB_VECTOR_OF)
        return slab_fail(f, SLAB_EARG, "not a vector, list or vector-of");
    int st = slab_iter_begin(f, coll, &it);
    if (st) return st;
    if (i >= it.count) return slab_fail(f, SLAB_EARG, "index %llu out of bounds (count %llu)", (unsigned long long) i,
                                        (unsigned long long) it.count);
    it.seen = i;
    st = vec_next(&it, out);
    return st < 0 ? st : SLAB_OK;
}

/* --- vector-of leaves ------------------------------------------------------------------ */

int slab_leaf_at(slab_file *f, const slab_value *vec, uint64_t i, slab_leaf *out) {
    slab_iter it;
    if (!f || !vec || !out) return SLAB_EARG;
    if (vec->kind != SLAB_VECTOR_OF) return slab_fail(f, SLAB_EARG, "not a vector-of");
    int st = slab_iter_begin(f, vec, &it);
    if (st) return st;
    if (i >= it.count) return slab_fail(f, SLAB_EARG, "index %llu out of bounds (count %llu)", (unsigned long long) i,
                                        (unsigned long long) it.count);
    if ((st = find_leaf(&it, i))) return st;
    out->elem = (slab_elem) it.elem;
    out->data = f->base + it.leaf + PRIM_ELEMENTS_OFFSET;
    out->length = it.leaf_cap;
    out->first = it.leaf_base;
    return SLAB_OK;
}

static const void *typed(const slab_leaf *l, slab_elem e) { return l && l->elem == e ? l->data : NULL; }

const int64_t *slab_leaf_longs(const slab_leaf *l) { return typed(l, SLAB_ELEM_LONG); }
const double *slab_leaf_doubles(const slab_leaf *l) { return typed(l, SLAB_ELEM_DOUBLE); }
const int32_t *slab_leaf_ints(const slab_leaf *l) { return typed(l, SLAB_ELEM_INT); }
const float *slab_leaf_floats(const slab_leaf *l) { return typed(l, SLAB_ELEM_FLOAT); }
const int16_t *slab_leaf_shorts(const slab_leaf *l) { return typed(l, SLAB_ELEM_SHORT); }
const uint16_t *slab_leaf_chars(const slab_leaf *l) { return typed(l, SLAB_ELEM_CHAR); }
const int8_t *slab_leaf_bytes(const slab_leaf *l) { return typed(l, SLAB_ELEM_BYTE); }
const uint8_t *slab_leaf_booleans(const slab_leaf *l) { return typed(l, SLAB_ELEM_BOOLEAN); }
