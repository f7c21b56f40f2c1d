/*
 * Clojure's hasheq (clojure.lang.Util/hasheq, Murmur3), as FORMAT.md
 * ("Hashes") states it for every tag. The reader checks stored hashes
 * against these (a mismatch is damage) and uses the keyword hash to find a
 * root. Arithmetic is on uint32_t, so it wraps as Java's int does.
 */
#include <math.h>

#include "internal.h"

static uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static uint32_t mix_k1(uint32_t k) { return rotl(k * 0xcc9e2d51U, 15) * 0x1b873593U; }

static uint32_t mix_h1(uint32_t h, uint32_t k) { return rotl(h ^ k, 13) * 5 + 0xe6546b64U; }

static uint32_t fmix(uint32_t h, uint32_t n) {
    h ^= n;
    h ^= h >> 16;
    h *= 0x85ebca6bU;
    h ^= h >> 13;
    h *= 0xc2b2ae35U;
    h ^= h >> 16;
    return h;
}

int32_t slab_hash_int(int32_t x) {
    if (x == 0) return 0;
    return (int32_t) fmix(mix_h1(0, mix_k1((uint32_t) x)), 4);
}

int32_t slab_hash_long(int64_t x) {
    if (x == 0) return 0;
    uint64_t u = (uint64_t) x;
    uint32_t h = mix_h1(0, mix_k1((uint32_t) u));
    h = mix_h1(h, mix_k1((uint32_t) (u >> 32)));
    return (int32_t) fmix(h, 8);
}

int32_t slab_mix_coll_hash(int32_t h, uint64_t n) {
    return (int32_t) fmix(mix_h1(0, mix_k1((uint32_t) h)), (uint32_t) n);
}

/* Double.hashCode with NaNs canonical (doubleToLongBits); 0 for both zeros. */
int32_t slab_hash_double(double d) {
    if (d == 0.0) return 0;
    uint64_t bits;
    if (isnan(d)) bits = 0x7ff8000000000000ULL;
    else memcpy(&bits, &d, 8);
    return (int32_t) (uint32_t) (bits ^ (bits >> 32));
}

/* Float.hashCode with NaNs canonical (floatToIntBits); 0 for both zeros. */
int32_t slab_hash_float(float x) {
    if (x == 0.0f) return 0;
    uint32_t bits;
    if (isnan(x)) bits = 0x7fc00000U;
    else memcpy(&bits, &x, 4);
    return (int32_t) bits;
}

static uint32_t java_hash(const slab_text *t) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < t->length; i++) h = 31 * h + slab_text_unit(t, i);
    return h;
}

int32_t slab_string_hash(const slab_text *t) { return slab_hash_int((int32_t) java_hash(t)); }

/* Murmur3.hashUnencodedChars */
static uint32_t unencoded(const slab_text *t) {
    uint32_t h = 0, n = t->length, i;
    for (i = 1; i < n; i += 2) h = mix_h1(h, mix_k1(slab_text_unit(t, i - 1) | (uint32_t) slab_text_unit(t, i) << 16));
    if (n & 1) h ^= mix_k1(slab_text_unit(t, n - 1));
    return fmix(h, 2 * n);
}

int32_t slab_symbol_hash(const slab_text *ns, int has_ns, const slab_text *name) {
    uint32_t seed = unencoded(name), h = has_ns ? java_hash(ns) : 0;
    uint32_t sar2 = seed >> 2 | (seed & 0x80000000U ? 0xC0000000U : 0);   // Java's seed >> 2 on an int: arithmetic
    return (int32_t) (seed ^ (h + 0x9e3779b9U + (seed << 6) + sar2));
}

int32_t slab_keyword_hash(const uint16_t *ns, size_t ns_len, const uint16_t *name, size_t name_len) {
    slab_text n = {(const uint8_t *) name, (uint32_t) name_len, 1, {0}}, s = {(const uint8_t *) ns, (uint32_t) ns_len, 1, {0}};
    return (int32_t) ((uint32_t) slab_symbol_hash(&s, ns != NULL, &n) + 0x9e3779b9U);
}

/* BigInteger.hashCode: over the magnitude's 32-bit words, most significant
 * first, times the sign. A negative number's magnitude is its two's
 * complement negation, ~x + 1: the carry reaches byte k exactly when every
 * byte to its right is zero, i.e. k is at or right of the last non-zero byte. */
int32_t slab_bigint_hash(const uint8_t *b, uint32_t n) {
    int neg = n > 0 && (b[0] & 0x80);
    uint32_t last = 0;
    for (uint32_t k = 0; k < n; k++)
        if (b[k] != 0) last = k;
    uint32_t h = 0, nonzero = 0;
    uint32_t first = n % 4 ? n % 4 : 4;   // bytes in the most significant word
    uint32_t words = (n + 3) / 4;
    for (uint32_t w = 0; w < words; w++) {
        uint32_t start = w == 0 ? 0 : first + 4 * (w - 1), len = w == 0 ? first : 4, word = 0;
        for (uint32_t j = 0; j < len; j++) {
            uint32_t k = start + j, byte = b[k];
            if (neg) byte = (~byte + (k >= last ? 1U : 0U)) & 0xFF;
            word = word << 8 | byte;
        }
        if (word != 0) nonzero = 1;
        h = 31 * h + word;   // leading zero words add nothing: the magnitude has none in Java
    }
    if (!nonzero) return 0;
    return (int32_t) (neg ? 0U - h : h);
}
