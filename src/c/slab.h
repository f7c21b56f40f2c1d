/*
 * slab.h: read a slab segment (a file that JVMs running slab share) from C.
 *
 * A process that links libslab attaches to the segment as a *foreign reader*:
 * it takes a slot of the reader table in the segment header, never allocates,
 * and pins the version of a named root it reads with one reference count, so
 * no JVM frees that version while it walks it. The protocol is in
 * doc/FORMAT.md, "Foreign readers".
 *
 *     slab_file *f;
 *     slab_pin pin;
 *     slab_value v;
 *     if (slab_open("/dev/shm/orders.slab", &f) == SLAB_OK &&
 *         slab_attach(f) == SLAB_OK &&
 *         slab_pin_root(f, "orders", &pin, &v) == SLAB_OK) {
 *         ... walk v with slab_iter_begin / slab_iter_next ...
 *         slab_unpin(f, &pin);
 *     }
 *     slab_close(f);                  // detaches, unmaps; f may be NULL
 *
 * Every offset the library reads from the file is untrusted: it is checked
 * (inside the heap, 16-aligned, a live block of the expected type and size,
 * bounded depth and length) before it is followed, so a damaged or hostile
 * file gives SLAB_EDAMAGED, never a crash or a hang. The one exception the
 * library cannot check: a file truncated *while it is mapped* raises SIGBUS
 * on the next access, as for every user of mmap.
 *
 * Values point into the mapping: they stay valid while the pin that reached
 * them is held and the file is open. Strings are UTF-16 code units as stored
 * (Latin-1 bytes or UTF-16LE, unpaired surrogates kept).
 *
 * A slab_file is not thread-safe: use one per thread, or a lock.
 */
#ifndef SLAB_H
#define SLAB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- errors ------------------------------------------------------------------ */

enum slab_status {
    SLAB_OK = 0,
    SLAB_EIO = -1,       /* the file could not be opened, mapped or locked (see errno in the message) */
    SLAB_ENOTSLAB = -2,  /* not a slab segment: magic, checksum, layout or size */
    SLAB_EVERSION = -3,  /* a slab segment of another format version */
    SLAB_EDAMAGED = -4,  /* an offset or field failed a check: the file is damaged */
    SLAB_ENOROOT = -5,   /* no root of that name holds a value */
    SLAB_EFULL = -6,     /* no free reader slot, or no free pin word */
    SLAB_EBUSY = -7,     /* a sweep was cut short: open the segment with slab (a JVM) once first */
    SLAB_ESTATE = -8,    /* the call does not fit the state: not attached, a pin not held, ... */
    SLAB_ETOOBIG = -9,   /* a walk went past its budget or nesting limit */
    SLAB_EARG = -10,     /* a bad argument (NULL, a name that is not UTF-8, ...) */
    SLAB_ENOMEM = -11    /* malloc failed */
};

/* A short description of a status code. */
const char *slab_strerror(int status);

/* --- opening and attaching --------------------------------------------------- */

typedef struct slab_file slab_file;

/* Opens and maps a segment file (read-write: a reader writes its slot and
 * the counts it takes) and validates its header. On failure *out is NULL;
 * slab_open_error() says why. */
int slab_open(const char *path, slab_file **out);

/* The message of the last failed slab_open in this thread. */
const char *slab_open_error(void);

/* Detaches if attached, then unmaps and closes. NULL is a no-op. */
void slab_close(slab_file *f);

/* A one-line message for the last error returned on f. */
const char *slab_error_message(const slab_file *f);

/* The seal (FORMAT.md, "Seals") of n bytes: every block the library reads
 * is checked against it; exposed for tools that check blocks themselves. */
uint32_t slab_seal(const uint8_t *bytes, uint64_t n);

/* Takes a reader slot (briefly holding the fcntl lock on the whole file). */
int slab_attach(slab_file *f);

/* Gives back every pin still held and frees the slot. */
int slab_detach(slab_file *f);

/* --- values -------------------------------------------------------------------- */

typedef enum slab_kind {
    SLAB_NIL, SLAB_FALSE, SLAB_TRUE,
    SLAB_LONG,        /* long (also int, short, byte): as.l */
    SLAB_DOUBLE,      /* as.d */
    SLAB_FLOAT,       /* as.f */
    SLAB_CHAR,        /* a UTF-16 code unit: as.c */
    SLAB_BIGINT,      /* clojure.lang.BigInt: as.big (one that fits a long: bytes NULL, as.big.small) */
    SLAB_BIGINTEGER,  /* java.math.BigInteger: as.big, likewise */
    SLAB_DATE,        /* java.util.Date: as.l, epoch milliseconds */
    SLAB_KEYWORD,     /* as.sym */
    SLAB_SYMBOL,      /* as.sym (metadata, if any, is not decoded) */
    SLAB_STRING,      /* as.str */
    SLAB_BIGDECIMAL,  /* as.dec: unscaled x 10^-scale */
    SLAB_RATIO,       /* as.ratio */
    SLAB_UUID,        /* as.uuid */
    SLAB_INSTANT,     /* java.time.Instant: as.instant */
    SLAB_MAP, SLAB_SET, SLAB_VECTOR, SLAB_LIST,  /* as.coll; walk with slab_iter */
    SLAB_VECTOR_OF    /* a vector of unboxed numbers (vector-of): as.coll, as.coll.elem; walk with slab_iter
                         (elements come as SLAB_LONG, SLAB_DOUBLE, ...) or leaf by leaf with slab_leaf_at */
} slab_kind;

/* The element types of a vector-of, as clojure.core/vector-of names them
 * (the numbers of FORMAT.md, "Primitive leaf"). */
typedef enum slab_elem {
    SLAB_ELEM_LONG = 1,     /* int64_t */
    SLAB_ELEM_DOUBLE = 2,   /* double */
    SLAB_ELEM_INT = 3,      /* int32_t */
    SLAB_ELEM_FLOAT = 4,    /* float */
    SLAB_ELEM_SHORT = 5,    /* int16_t */
    SLAB_ELEM_CHAR = 6,     /* uint16_t, a UTF-16 code unit */
    SLAB_ELEM_BYTE = 7,     /* int8_t */
    SLAB_ELEM_BOOLEAN = 8   /* uint8_t, 0 or 1 */
} slab_elem;

typedef struct slab_text {
    const uint8_t *data;  /* Latin-1 bytes, or UTF-16LE units when utf16 (unaligned) */
    uint32_t length;      /* in chars (code units) */
    int utf16;
    uint8_t inline_chars[8];  /* an inline string's chars (data is NULL then); read any text with slab_text_unit */
} slab_text;

typedef struct slab_value {
    slab_kind kind;
    uint8_t tag;          /* the slot's tag (FORMAT.md, Slots) */
    uint64_t payload;     /* the slot's payload */
    int32_t hash;         /* Clojure's hasheq of the value */
    union {
        int64_t l;
        double d;
        float f;
        uint16_t c;
        slab_text str;
        struct { slab_text ns; int has_ns; slab_text name; } sym;
        struct { const uint8_t *bytes; uint32_t length; int64_t small; } big;  /* two's complement, big-endian */
        struct { const uint8_t *bytes; uint32_t length; int32_t scale; } dec;
        struct { const uint8_t *num; uint32_t num_length; const uint8_t *den; uint32_t den_length; } ratio;
        struct { uint64_t msb, lsb; } uuid;
        struct { int64_t seconds; int32_t nanos; } instant;
        struct { uint64_t block; uint64_t count; slab_elem elem; /* vector-of only, else 0 */ } coll;
    } as;
} slab_value;

/* Code unit i (< length) of a string, keyword or symbol part. */
uint16_t slab_text_unit(const slab_text *t, uint32_t i);

/* Decodes a slot (tag, payload) read from the segment, checking every offset. */
int slab_decode(slab_file *f, uint8_t tag, uint64_t payload, slab_value *out);

/* --- pinning a root ----------------------------------------------------------- */

typedef struct slab_pin {
    uint64_t box;   /* the pinned box (0: not held) */
    int word;       /* which pin word of the slot records it */
} slab_pin;

/* Finds the root named `name` (a keyword's name without the colon, UTF-8;
 * "ns/name" for a namespaced one), pins its current version and decodes it
 * into *out. Everything reachable from *out stays valid until slab_unpin. */
int slab_pin_root(slab_file *f, const char *name, slab_pin *pin, slab_value *out);

/* Gives the pin back (or hands its count to the JVMs if it is the last). */
int slab_unpin(slab_file *f, slab_pin *pin);

/* --- collections ----------------------------------------------------------------- */

#define SLAB_MAX_TRIE_DEPTH 72

/* An iterator over a map (key, value), set (key) or vector/list (key =
 * element, in order). Lives on the caller's stack; no allocation. */
typedef struct slab_iter {
    slab_file *f;
    slab_kind kind;
    uint64_t count, seen;
    /* maps and sets: a stack of (node, next position) */
    int depth;
    uint64_t node[SLAB_MAX_TRIE_DEPTH];
    uint32_t pos[SLAB_MAX_TRIE_DEPTH];
    uint64_t prefix[SLAB_MAX_TRIE_DEPTH];   /* the hash bits of the path to each node */
    /* vectors and lists */
    uint64_t root, tail, leaf, leaf_base;
    uint32_t shift, leaf_cap;
    int leaf_type;
    int elem;             /* a vector-of's element type, 0 for a vector or list */
} slab_iter;

int slab_iter_begin(slab_file *f, const slab_value *coll, slab_iter *it);

/* 1 and the next item, 0 at the end, or a negative status. */
int slab_iter_next(slab_iter *it, slab_value *key, slab_value *val);

/* Element i of a vector, list or vector-of. */
int slab_nth(slab_file *f, const slab_value *coll, uint64_t i, slab_value *out);

/* --- vector-of leaves: the numbers in place ------------------------------------- */

/* One leaf of a vector-of: `length` elements of type `elem`, contiguous and
 * aligned, holding elements first .. first + length - 1 of the vector. */
typedef struct slab_leaf {
    slab_elem elem;
    const void *data;
    uint32_t length;
    uint64_t first;
} slab_leaf;

/* The leaf holding element i of a vector-of (checked as every node is).
 * Visit every element in order with
 *     for (uint64_t i = 0; i < v.as.coll.count; i += leaf.length)
 *         if (slab_leaf_at(f, &v, i, &leaf)) ... else loop over leaf.length elements;
 * The data stays valid while the pin that reached v is held. */
int slab_leaf_at(slab_file *f, const slab_value *vec, uint64_t i, slab_leaf *out);

/* A leaf's elements as a typed array, or NULL when the leaf holds another type. */
const int64_t *slab_leaf_longs(const slab_leaf *l);
const double *slab_leaf_doubles(const slab_leaf *l);
const int32_t *slab_leaf_ints(const slab_leaf *l);
const float *slab_leaf_floats(const slab_leaf *l);
const int16_t *slab_leaf_shorts(const slab_leaf *l);
const uint16_t *slab_leaf_chars(const slab_leaf *l);
const int8_t *slab_leaf_bytes(const slab_leaf *l);
const uint8_t *slab_leaf_booleans(const slab_leaf *l);

/* --- hashing and printing ------------------------------------------------------- */

/* Clojure's hasheq of a keyword with this UTF-16 namespace (NULL: none) and name. */
int32_t slab_keyword_hash(const uint16_t *ns, size_t ns_len, const uint16_t *name, size_t name_len);

/* Limits of slab_print_edn: a budget of work (0: none), a unit per slot
 * printed plus one per 8 chars of a string, keyword or symbol and n/8 +
 * n^2/4096 for an n-byte big number (so text and numbers named many times
 * over are paid for by size); nesting depth; and
 * a flag (NULL: none) that, once set (say, by a signal handler), stops the
 * walk with SLAB_EIO, so the caller can still unpin and detach. */
typedef struct slab_print_limits {
    uint64_t budget;
    int max_nesting;
    volatile sig_atomic_t *cancel;
} slab_print_limits;

/* Prints v as EDN that clojure.edn/read-string reads back = to it (see
 * README: instants print as #inst with nine fraction digits). Stops with
 * SLAB_EIO at the first failed write (a closed pipe) or when cancelled. */
int slab_print_edn(slab_file *f, const slab_value *v, FILE *out, const slab_print_limits *limits);

#ifdef __cplusplus
}
#endif
#endif
