/*
 * Decoding slots (FORMAT.md, "Value codec"): every offset a slot names is
 * checked with slab_check_block before a byte of the block is read, every
 * length against the block's size, and every stored hash against the hash
 * rule of its tag (a mismatch is damage: the same rule a JVM relies on to
 * find keys).
 */
#include "internal.h"

uint16_t slab_text_unit(const slab_text *t, uint32_t i) {
    if (!t->data) return t->inline_chars[i];
    if (t->utf16) return (uint16_t) (t->data[2 * (size_t) i] | t->data[2 * (size_t) i + 1] << 8);
    return t->data[i];
}

static int bad_hash(slab_file *f, const char *what, uint64_t off, int32_t stored, int32_t computed) {
    return slab_fail(f, SLAB_EDAMAGED, "%s at %llu stores hash %d, its value hashes to %d", what,
                     (unsigned long long) off, stored, computed);
}

/* An interned keyword (kind INTERN_KEYWORD) or symbol block. */
static int decode_interned(slab_file *f, uint64_t off, int kind, slab_value *out) {
    uint64_t size;
    int st = slab_check_block(f, off, T_INTERNED, INTERN_DATA_OFFSET, &size);
    if (st) return st;
    int k = ld8(f, off + INTERN_KIND_OFFSET), enc = ld8(f, off + INTERN_ENCODING_OFFSET);
    int32_t ns_len = (int32_t) ld32(f, off + INTERN_NS_LENGTH_OFFSET), name_len = (int32_t) ld32(f, off + INTERN_NAME_LENGTH_OFFSET);
    if (k != kind || enc > INTERN_UTF16 || ns_len < -1 || name_len < 0)
        return slab_fail(f, SLAB_EDAMAGED, "interned block %llu is damaged (kind %d, lengths %d %d)",
                         (unsigned long long) off, k, ns_len, name_len);
    uint64_t unit = enc == INTERN_UTF16 ? 2 : 1;
    uint64_t chars = (uint64_t) (ns_len > 0 ? ns_len : 0) + (uint64_t) name_len;
    if (INTERN_DATA_OFFSET + chars * unit > size)
        return slab_fail(f, SLAB_EDAMAGED, "interned block %llu is shorter than its name", (unsigned long long) off);
    const uint8_t *data = f->base + off + INTERN_DATA_OFFSET;
    slab_text ns = {data, ns_len > 0 ? (uint32_t) ns_len : 0, enc == INTERN_UTF16, {0}};
    slab_text name = {data + (ns_len > 0 ? (uint64_t) ns_len * unit : 0), (uint32_t) name_len, enc == INTERN_UTF16, {0}};
    if ((st = slab_check_trailer_seal(f, off, INTERN_DATA_OFFSET + chars * unit, size))) return st;
    out->as.sym.ns = ns;
    out->as.sym.has_ns = ns_len >= 0;
    out->as.sym.name = name;
    int32_t stored = (int32_t) ld32(f, off + INTERN_HASH_OFFSET);
    uint32_t h = (uint32_t) slab_symbol_hash(&ns, ns_len >= 0, &name);
    if (kind == INTERN_KEYWORD) h += 0x9e3779b9U;
    if ((int32_t) h != stored) return bad_hash(f, "interned block", off, stored, (int32_t) h);
    out->hash = stored;
    return SLAB_OK;
}

static int decode_string_blob(slab_file *f, uint64_t off, slab_value *out) {
    uint64_t size;
    int st = slab_check_block(f, off, T_BLOB, BLOB_STRING_DATA_OFFSET, &size);
    if (st) return st;
    uint32_t lw = ld32(f, off + BLOB_LENGTH_OFFSET), n = lw & ~BLOB_UTF16_FLAG;
    int utf16 = (lw & BLOB_UTF16_FLAG) != 0;
    if (BLOB_STRING_DATA_OFFSET + (uint64_t) n * (utf16 ? 2 : 1) > size)
        return slab_fail(f, SLAB_EDAMAGED, "string blob %llu is shorter than its length %u", (unsigned long long) off, n);
    if ((st = slab_check_trailer_seal(f, off, BLOB_STRING_DATA_OFFSET + (uint64_t) n * (utf16 ? 2 : 1), size))) return st;
    slab_text t = {f->base + off + BLOB_STRING_DATA_OFFSET, n, utf16, {0}};
    out->as.str = t;
    out->hash = (int32_t) ld32(f, off + BLOB_HASH_OFFSET);
    int32_t h = slab_string_hash(&t);
    return h == out->hash ? SLAB_OK : bad_hash(f, "string blob", off, out->hash, h);
}

/* Checks that a blob's `len` bytes from data_at lie inside its block of `size` bytes. */
static int blob_bytes(slab_file *f, uint64_t off, uint64_t data_at, uint64_t len, uint64_t size) {
    if (len == 0 || data_at + len > size)
        return slab_fail(f, SLAB_EDAMAGED, "blob %llu: length %llu does not fit its block", (unsigned long long) off,
                         (unsigned long long) len);
    return SLAB_OK;
}

static int decode_blob(slab_file *f, uint8_t tag, uint64_t off, slab_value *out) {
    uint64_t size;
    uint64_t need = tag == TAG_UUID ? BLOB_UUID_LENGTH : tag == TAG_INSTANT ? BLOB_INSTANT_LENGTH
                  : tag == TAG_BIGINT || tag == TAG_BIGINTEGER ? BLOB_BIGINT_DATA_OFFSET : BLOB_RATIO_DATA_OFFSET;
    int st = slab_check_block(f, off, T_BLOB, need, &size);
    if (st) return st;
    int32_t stored = (int32_t) ld32(f, off + BLOB_HASH_OFFSET), h;
    out->hash = stored;
    switch (tag) {
    case TAG_BIGINT: case TAG_BIGINTEGER: {
        uint32_t n = ld32(f, off + BLOB_LENGTH_OFFSET);
        if ((st = blob_bytes(f, off, BLOB_BIGINT_DATA_OFFSET, n, size))
            || (st = slab_check_trailer_seal(f, off, BLOB_BIGINT_DATA_OFFSET + (uint64_t) n, size))) return st;
        out->as.big.bytes = f->base + off + BLOB_BIGINT_DATA_OFFSET;
        out->as.big.length = n;
        h = slab_bigint_hash(out->as.big.bytes, n);
        break;
    }
    case TAG_BIGDECIMAL: {
        uint32_t n = ld32(f, off + BLOB_LENGTH_OFFSET);
        if ((st = blob_bytes(f, off, BLOB_BIGDEC_DATA_OFFSET, n, size))
            || (st = slab_check_trailer_seal(f, off, BLOB_BIGDEC_DATA_OFFSET + (uint64_t) n, size))) return st;
        out->as.dec.bytes = f->base + off + BLOB_BIGDEC_DATA_OFFSET;
        out->as.dec.length = n;
        out->as.dec.scale = (int32_t) ld32(f, off + BLOB_BIGDEC_SCALE_OFFSET);
        h = stored;   // BigDecimal's hash needs stripTrailingZeros: a reader takes the stored one
        break;
    }
    case TAG_RATIO: {
        uint32_t p = ld32(f, off + BLOB_LENGTH_OFFSET), q = ld32(f, off + BLOB_RATIO_DEN_LENGTH_OFFSET);
        if ((st = blob_bytes(f, off, BLOB_RATIO_DATA_OFFSET, (uint64_t) p + q, size))
            || (st = slab_check_trailer_seal(f, off, BLOB_RATIO_DATA_OFFSET + (uint64_t) p + q, size))) return st;
        if (p == 0 || q == 0) return slab_fail(f, SLAB_EDAMAGED, "ratio blob %llu has an empty part", (unsigned long long) off);
        out->as.ratio.num = f->base + off + BLOB_RATIO_DATA_OFFSET;
        out->as.ratio.num_length = p;
        out->as.ratio.den = out->as.ratio.num + p;
        out->as.ratio.den_length = q;
        h = slab_bigint_hash(out->as.ratio.num, p) ^ slab_bigint_hash(out->as.ratio.den, q);
        break;
    }
    case TAG_UUID: {
        if ((st = slab_check_trailer_seal(f, off, BLOB_UUID_LENGTH, size))) return st;
        uint64_t msb = ld64(f, off + BLOB_UUID_MSB_OFFSET), lsb = ld64(f, off + BLOB_UUID_LSB_OFFSET), x = msb ^ lsb;
        out->as.uuid.msb = msb;
        out->as.uuid.lsb = lsb;
        h = (int32_t) ((uint32_t) (x >> 32) ^ (uint32_t) x);
        break;
    }
    default: {   // TAG_INSTANT
        if ((st = slab_check_trailer_seal(f, off, BLOB_INSTANT_LENGTH, size))) return st;
        uint32_t nanos = ld32(f, off + BLOB_INSTANT_NANOS_OFFSET);
        uint64_t secs = ld64(f, off + BLOB_INSTANT_SECONDS_OFFSET);
        if (nanos > 999999999U)
            return slab_fail(f, SLAB_EDAMAGED, "instant blob %llu has %u nanoseconds", (unsigned long long) off, nanos);
        out->as.instant.seconds = (int64_t) secs;
        out->as.instant.nanos = (int32_t) nanos;
        h = (int32_t) ((uint32_t) (secs ^ (secs >> 32)) + 51U * nanos);
        break;
    }
    }
    return h == stored ? SLAB_OK : bad_hash(f, "blob", off, stored, h);
}

static int decode_coll(slab_file *f, uint8_t tag, uint64_t off, slab_value *out) {
    int st = slab_check_block(f, off, T_COLL, COLL_LENGTH, NULL);
    if (st || (st = slab_check_field_seal(f, off, COLL_LENGTH, COLL_SEAL_OFFSET))) return st;
    if (ld8(f, off + COLL_KIND_OFFSET) != tag)
        return slab_fail(f, SLAB_EDAMAGED, "collection block %llu is of kind %d, named by tag %d", (unsigned long long) off,
                         ld8(f, off + COLL_KIND_OFFSET), tag);
    out->as.coll.block = off;
    out->as.coll.count = ld32(f, off + COLL_COUNT_OFFSET);
    if (tag == TAG_VECTOR_OF) {
        uint8_t elem = ld8(f, off + COLL_ELEM_OFFSET);
        if (elem < 1 || elem > ELEM_MAX)
            return slab_fail(f, SLAB_EDAMAGED, "vector-of block %llu has element type %d", (unsigned long long) off, elem);
        out->as.coll.elem = (slab_elem) elem;
    }
    int32_t h = (int32_t) ld32(f, off + COLL_HASH_OFFSET);
    // Maps and sets keep the sum of their entries' hashes; vectors and lists the hash itself.
    out->hash = tag == TAG_MAP || tag == TAG_SET ? slab_mix_coll_hash(h, out->as.coll.count) : h;
    return SLAB_OK;
}

int slab_decode(slab_file *f, uint8_t tag, uint64_t p, slab_value *out) {
    memset(out, 0, sizeof *out);
    out->tag = tag;
    out->payload = p;
    switch (tag) {
    case TAG_NIL: out->kind = SLAB_NIL; return SLAB_OK;
    case TAG_FALSE: out->kind = SLAB_FALSE; out->hash = 1237; return SLAB_OK;
    case TAG_TRUE: out->kind = SLAB_TRUE; out->hash = 1231; return SLAB_OK;
    case TAG_LONG: case TAG_BIGINT_SMALL: case TAG_BIGINTEGER_SMALL:
        out->kind = tag == TAG_LONG ? SLAB_LONG : tag == TAG_BIGINT_SMALL ? SLAB_BIGINT : SLAB_BIGINTEGER;
        if (tag == TAG_LONG) out->as.l = (int64_t) p;
        else out->as.big.small = (int64_t) p;   // bytes stay NULL
        out->hash = slab_hash_long((int64_t) p);
        return SLAB_OK;
    case TAG_DOUBLE:
        out->kind = SLAB_DOUBLE;
        memcpy(&out->as.d, &p, 8);
        out->hash = slab_hash_double(out->as.d);
        return SLAB_OK;
    case TAG_FLOAT: {
        if (p >> 32) return slab_fail(f, SLAB_EDAMAGED, "a float slot has high bits set");
        uint32_t bits = (uint32_t) p;
        out->kind = SLAB_FLOAT;
        memcpy(&out->as.f, &bits, 4);
        out->hash = slab_hash_float(out->as.f);
        return SLAB_OK;
    }
    case TAG_CHAR:
        if (p > 0xFFFF) return slab_fail(f, SLAB_EDAMAGED, "a char slot holds %llu", (unsigned long long) p);
        out->kind = SLAB_CHAR;
        out->as.c = (uint16_t) p;
        out->hash = (int32_t) p;
        return SLAB_OK;
    case TAG_DATE:
        out->kind = SLAB_DATE;
        out->as.l = (int64_t) p;
        out->hash = (int32_t) (uint32_t) (p ^ (p >> 32));
        return SLAB_OK;
    case TAG_KEYWORD: out->kind = SLAB_KEYWORD; return decode_interned(f, p, INTERN_KEYWORD, out);
    case TAG_SYMBOL: out->kind = SLAB_SYMBOL; return decode_interned(f, p, INTERN_SYMBOL, out);
    case TAG_SYMBOL_META: {
        out->kind = SLAB_SYMBOL;
        uint64_t size;
        int st = slab_check_block(f, p, T_META_SYMBOL, META_SYMBOL_LENGTH, &size);
        if (st || (st = slab_check_trailer_seal(f, p, META_SYMBOL_LENGTH, size))) return st;
        if ((st = decode_interned(f, ld64(f, p + META_SYMBOL_SYMBOL_OFFSET), INTERN_SYMBOL, out))) return st;
        int32_t stored = (int32_t) ld32(f, p + META_SYMBOL_HASH_OFFSET);
        return stored == out->hash ? SLAB_OK : bad_hash(f, "symbol with metadata", p, stored, out->hash);
    }
    case TAG_STRING: out->kind = SLAB_STRING; return decode_string_blob(f, p, out);
    case TAG_BIGINT: out->kind = SLAB_BIGINT; return decode_blob(f, tag, p, out);
    case TAG_BIGINTEGER: out->kind = SLAB_BIGINTEGER; return decode_blob(f, tag, p, out);
    case TAG_BIGDECIMAL: out->kind = SLAB_BIGDECIMAL; return decode_blob(f, tag, p, out);
    case TAG_RATIO: out->kind = SLAB_RATIO; return decode_blob(f, tag, p, out);
    case TAG_UUID: out->kind = SLAB_UUID; return decode_blob(f, tag, p, out);
    case TAG_INSTANT: out->kind = SLAB_INSTANT; return decode_blob(f, tag, p, out);
    case TAG_MAP: out->kind = SLAB_MAP; return decode_coll(f, tag, p, out);
    case TAG_SET: out->kind = SLAB_SET; return decode_coll(f, tag, p, out);
    case TAG_VECTOR: out->kind = SLAB_VECTOR; return decode_coll(f, tag, p, out);
    case TAG_LIST: out->kind = SLAB_LIST; return decode_coll(f, tag, p, out);
    case TAG_VECTOR_OF: out->kind = SLAB_VECTOR_OF; return decode_coll(f, tag, p, out);
    default:
        if (tag >= TAG_STR_INLINE && tag <= TAG_STR_INLINE + TAG_STR_INLINE_MAX) {
            uint32_t n = tag - TAG_STR_INLINE;
            if (n < 8 && (p >> (8 * n)) != 0)
                return slab_fail(f, SLAB_EDAMAGED, "an inline string has bytes past its length");
            out->kind = SLAB_STRING;
            out->as.str.data = NULL;
            out->as.str.length = n;
            for (uint32_t i = 0; i < n; i++) out->as.str.inline_chars[i] = (uint8_t) (p >> (8 * i));
            out->hash = slab_string_hash(&out->as.str);
            return SLAB_OK;
        }
        return slab_fail(f, SLAB_EDAMAGED, "unknown tag %d", tag);
    }
}
