/*
 * What the library's files share: the open file, checked loads from the
 * mapping, block checks, and the helpers of each part.
 */
#ifndef SLAB_INTERNAL_H
#define SLAB_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "format.h"
#include "slab.h"

struct slab_file {
    int fd;
    uint8_t *base;          /* the mapping, mapped bytes */
    uint64_t capacity;
    uint64_t mapped;        /* capacity, or a snapshot file's length up to its trailer */
    uint64_t heap_base;
    uint32_t map_bits, vec_bits;
    int slot;               /* reader slot index, -1 when not attached */
    char path[256];
    char message[512];      /* the last error's message */
};

/* Records a message for status and returns status. */
int slab_fail(slab_file *f, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- loads (the caller has checked the range) ------------------------------ */

static inline uint64_t ld64(const slab_file *f, uint64_t off) {
    uint64_t v;
    memcpy(&v, f->base + off, 8);
    return v;
}
static inline uint32_t ld32(const slab_file *f, uint64_t off) {
    uint32_t v;
    memcpy(&v, f->base + off, 4);
    return v;
}
static inline uint16_t ld16(const slab_file *f, uint64_t off) {
    uint16_t v;
    memcpy(&v, f->base + off, 2);
    return v;
}
static inline uint8_t ld8(const slab_file *f, uint64_t off) { return f->base[off]; }

/* Words other processes change: aligned 64-bit atomics (FORMAT.md, Conventions). */
static inline uint64_t *word_at(const slab_file *f, uint64_t off) { return (uint64_t *) (void *) (f->base + off); }
static inline uint64_t load_acquire(const slab_file *f, uint64_t off) {
    return __atomic_load_n(word_at(f, off), __ATOMIC_ACQUIRE);
}
static inline uint64_t load_seq(const slab_file *f, uint64_t off) {
    return __atomic_load_n(word_at(f, off), __ATOMIC_SEQ_CST);
}
static inline void store_release(const slab_file *f, uint64_t off, uint64_t v) {
    __atomic_store_n(word_at(f, off), v, __ATOMIC_RELEASE);
}
static inline void store_seq(const slab_file *f, uint64_t off, uint64_t v) {
    __atomic_store_n(word_at(f, off), v, __ATOMIC_SEQ_CST);
}
static inline int cas_seq(const slab_file *f, uint64_t off, uint64_t expect, uint64_t update) {
    return __atomic_compare_exchange_n(word_at(f, off), &expect, update, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* --- blocks --------------------------------------------------------------------- */

uint64_t slab_size_of_class(uint32_t cls);

/* Checks that off is a live block of type `type` (with a count) lying in the
 * heap below the frontier, at least `need` bytes long; sets *size. */
int slab_check_block(slab_file *f, uint64_t off, int type, uint64_t need, uint64_t *size);

/* --- seals (seal.c) ---------------------------------------------------------------- */

/* The seal of n bytes at p, with the 64-bit word number `word` (counted from
 * p) masked by `keep` (the seal's own bytes read as 0; word UINT32_MAX: none). */
uint32_t slab_seal_of(const uint8_t *p, uint64_t n, uint32_t word, uint64_t keep);
/* A blob, interned or meta-symbol block of `size` bytes whose layout ends at
 * `end`: its seal is the 4-byte trailer at end rounded up to 4. */
int slab_check_trailer_seal(slab_file *f, uint64_t off, uint64_t end, uint64_t size);
/* A collection block or box: the seal is the 4-byte field at seal_at, and covers [8, end). */
int slab_check_field_seal(slab_file *f, uint64_t off, uint64_t end, uint64_t seal_at);
/* A map, set or vector node whose layout ends at end: sealed, and its seal matches. */
int slab_check_node_seal(slab_file *f, uint64_t off, uint64_t end, int vector);

/* --- hashing (hash.c) ------------------------------------------------------------- */

int32_t slab_hash_long(int64_t x);
int32_t slab_hash_int(int32_t x);
int32_t slab_mix_coll_hash(int32_t h, uint64_t n);
int32_t slab_hash_double(double d);
int32_t slab_hash_float(float x);
int32_t slab_symbol_hash(const slab_text *ns, int has_ns, const slab_text *name);
int32_t slab_string_hash(const slab_text *t);
/* BigInteger.hashCode of a two's complement big-endian number. */
int32_t slab_bigint_hash(const uint8_t *bytes, uint32_t length);

/* --- processes (reader.c) --------------------------------------------------------- */

/* This process's start, epoch milliseconds as the JVM computes it (0 if unknown). */
int64_t slab_process_start_ms(pid_t pid);
int slab_process_alive(int64_t pid, int64_t start_ms);

#endif
