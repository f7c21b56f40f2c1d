/*
 * slabread FILE ROOT: prints the value of named root ROOT (a keyword's name
 * without the colon) of the slab segment FILE as EDN, attached as a foreign
 * reader (the version stays pinned while it prints). Exit 0 on success; on
 * any error one line on stderr and exit 1 (2 for a usage error).
 *
 * For tests and tools:
 *   -n COUNT    pin, print and unpin the root COUNT times, one line each
 *   -b UNITS    stop with an error after UNITS of work (a slot, 8 chars of
 *               text, or more for big numbers: slab_print_limits; 0: no
 *               limit; the default is the segment's capacity / 4, at least 2^26)
 *   --hold      after printing, keep the pin and wait until killed
 *   --constants print the format constants this reader was built with
 *   --seal HEX  print the seal of these bytes (hex digits) as 0x%08x, to
 *               check the function against FORMAT.md's test vectors
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "slab.h"

static const char *file_name = "";

/* A file truncated while mapped: the kernel's SIGBUS, reported as one line. */
static void on_sigbus(int sig) {
    (void) sig;
    static const char msg[] = "slabread: the segment file was truncated while being read\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void) w;
    _exit(1);
}

/* SIGINT, SIGTERM, SIGHUP: stop the walk (or the --hold wait), then unpin
 * and detach as on any error; dying pinned would keep the version and the
 * reader slot until a JVM's recovery. (SIGPIPE is ignored: a closed pipe
 * fails the next write, which ends the walk the same way.) */
static volatile sig_atomic_t stop;

static void on_stop(int sig) {
    (void) sig;
    stop = 1;
}

static int usage(void) {
    fputs("usage: slabread [-n COUNT] [-b UNITS] [--hold] [--sum] FILE ROOT | slabread --constants | slabread --seal HEX\n", stderr);
    return 2;
}

static int fail(slab_file *f, int status) {
    fprintf(stderr, "slabread: %s: %s\n", file_name, f ? slab_error_message(f) : slab_open_error());
    (void) status;
    slab_close(f);
    return 1;
}

static void constants(void) {
    static const struct { const char *name; long long value; } c[] = {
        {"HeaderDescriptor.MAGIC", (long long) HDR_MAGIC},
        {"HeaderDescriptor.FORMAT_VERSION", HDR_FORMAT_VERSION},
        {"HeaderDescriptor.VERSION_OFFSET", HDR_VERSION_OFFSET},
        {"HeaderDescriptor.HEADER_LENGTH_OFFSET", HDR_HEADER_LENGTH_OFFSET},
        {"HeaderDescriptor.CAPACITY_OFFSET", HDR_CAPACITY_OFFSET},
        {"HeaderDescriptor.MAP_BITS_OFFSET", HDR_MAP_BITS_OFFSET},
        {"HeaderDescriptor.VEC_BITS_OFFSET", HDR_VEC_BITS_OFFSET},
        {"HeaderDescriptor.CLASS_COUNT_OFFSET", HDR_CLASS_COUNT_OFFSET},
        {"HeaderDescriptor.PAGE_SIZE_OFFSET", HDR_PAGE_SIZE_OFFSET},
        {"HeaderDescriptor.CHECKSUM_OFFSET", HDR_CHECKSUM_OFFSET},
        {"HeaderDescriptor.FIXED_LENGTH", HDR_FIXED_LENGTH},
        {"HeaderDescriptor.FRONTIER_OFFSET", HDR_FRONTIER_OFFSET},
        {"HeaderDescriptor.COMMITTED_OFFSET", HDR_COMMITTED_OFFSET},
        {"HeaderDescriptor.INTERN_TABLE_OFFSET", HDR_INTERN_TABLE_OFFSET},
        {"HeaderDescriptor.ROOT_TABLE_OFFSET", HDR_ROOT_TABLE_OFFSET},
        {"HeaderDescriptor.SWEEP_OFFSET", HDR_SWEEP_OFFSET},
        {"HeaderDescriptor.READERS_OFFSET", HDR_READERS_OFFSET},
        {"HeaderDescriptor.PAGE_SIZE", HDR_PAGE_SIZE},
        {"HeaderDescriptor.HEADER_LENGTH", HDR_HEADER_LENGTH},
        {"AllocatorDescriptor.BLOCK_HEADER_LENGTH", BLOCK_HEADER_LENGTH},
        {"AllocatorDescriptor.ALIGNMENT", BLOCK_ALIGNMENT},
        {"AllocatorDescriptor.PAGE_LENGTH", PAGE_LENGTH},
        {"AllocatorDescriptor.PAGE_SHIFT", PAGE_SHIFT},
        {"AllocatorDescriptor.PAGE_WORD_LENGTH", PAGE_WORD_LENGTH},
        {"AllocatorDescriptor.REFCOUNT_MASK", (long long) REFCOUNT_MASK},
        {"AllocatorDescriptor.TYPE_SHIFT", TYPE_SHIFT},
        {"AllocatorDescriptor.STATE_SHIFT", STATE_SHIFT},
        {"AllocatorDescriptor.CLASS_SHIFT", CLASS_SHIFT},
        {"AllocatorDescriptor.STATE_LIVE", STATE_LIVE},
        {"SizeClasses.COUNT", SIZE_CLASS_COUNT},
        {"SizeClasses.MAX_BLOCK", (long long) HDR_MAX_CAPACITY},
        {"BlockTypes.BLOB", T_BLOB}, {"BlockTypes.INTERNED", T_INTERNED}, {"BlockTypes.COLL", T_COLL},
        {"BlockTypes.MAP_NODE", T_MAP_NODE}, {"BlockTypes.MAP_COLLISION", T_MAP_COLLISION},
        {"BlockTypes.SET_NODE", T_SET_NODE}, {"BlockTypes.SET_COLLISION", T_SET_COLLISION},
        {"BlockTypes.VEC_BRANCH", T_VEC_BRANCH}, {"BlockTypes.VEC_LEAF", T_VEC_LEAF},
        {"BlockTypes.ROOT_TABLE", T_ROOT_TABLE}, {"BlockTypes.BOX", T_BOX}, {"BlockTypes.META_SYMBOL", T_META_SYMBOL},
        {"BlockTypes.VEC_PRIM_LEAF", T_VEC_PRIM_LEAF},
        {"Tags.NIL", TAG_NIL}, {"Tags.FALSE", TAG_FALSE}, {"Tags.TRUE", TAG_TRUE}, {"Tags.LONG", TAG_LONG},
        {"Tags.DOUBLE", TAG_DOUBLE}, {"Tags.FLOAT", TAG_FLOAT}, {"Tags.CHAR", TAG_CHAR},
        {"Tags.BIGINT_SMALL", TAG_BIGINT_SMALL}, {"Tags.BIGINTEGER_SMALL", TAG_BIGINTEGER_SMALL}, {"Tags.DATE", TAG_DATE},
        {"Tags.KEYWORD", TAG_KEYWORD}, {"Tags.SYMBOL", TAG_SYMBOL}, {"Tags.STR_INLINE", TAG_STR_INLINE},
        {"Tags.STR_INLINE_MAX", TAG_STR_INLINE_MAX}, {"Tags.STRING", TAG_STRING}, {"Tags.BIGINT", TAG_BIGINT},
        {"Tags.BIGINTEGER", TAG_BIGINTEGER}, {"Tags.BIGDECIMAL", TAG_BIGDECIMAL}, {"Tags.RATIO", TAG_RATIO},
        {"Tags.UUID", TAG_UUID}, {"Tags.INSTANT", TAG_INSTANT}, {"Tags.SYMBOL_META", TAG_SYMBOL_META},
        {"Tags.MAP", TAG_MAP}, {"Tags.SET", TAG_SET}, {"Tags.VECTOR", TAG_VECTOR}, {"Tags.LIST", TAG_LIST}, {"Tags.VECTOR_OF", TAG_VECTOR_OF},
        {"BlobDescriptor.HASH_OFFSET", BLOB_HASH_OFFSET}, {"BlobDescriptor.LENGTH_OFFSET", BLOB_LENGTH_OFFSET},
        {"BlobDescriptor.UTF16_FLAG", (long long) BLOB_UTF16_FLAG},
        {"BlobDescriptor.STRING_DATA_OFFSET", BLOB_STRING_DATA_OFFSET},
        {"BlobDescriptor.BIGINT_DATA_OFFSET", BLOB_BIGINT_DATA_OFFSET},
        {"BlobDescriptor.BIGDEC_SCALE_OFFSET", BLOB_BIGDEC_SCALE_OFFSET},
        {"BlobDescriptor.BIGDEC_DATA_OFFSET", BLOB_BIGDEC_DATA_OFFSET},
        {"BlobDescriptor.RATIO_DEN_LENGTH_OFFSET", BLOB_RATIO_DEN_LENGTH_OFFSET},
        {"BlobDescriptor.RATIO_DATA_OFFSET", BLOB_RATIO_DATA_OFFSET},
        {"BlobDescriptor.UUID_MSB_OFFSET", BLOB_UUID_MSB_OFFSET}, {"BlobDescriptor.UUID_LSB_OFFSET", BLOB_UUID_LSB_OFFSET},
        {"BlobDescriptor.UUID_LENGTH", BLOB_UUID_LENGTH},
        {"BlobDescriptor.INSTANT_NANOS_OFFSET", BLOB_INSTANT_NANOS_OFFSET},
        {"BlobDescriptor.INSTANT_SECONDS_OFFSET", BLOB_INSTANT_SECONDS_OFFSET},
        {"BlobDescriptor.INSTANT_LENGTH", BLOB_INSTANT_LENGTH},
        {"InternDescriptor.INTERN_HASH_OFFSET", INTERN_HASH_OFFSET},
        {"InternDescriptor.INTERN_KIND_OFFSET", INTERN_KIND_OFFSET},
        {"InternDescriptor.INTERN_ENCODING_OFFSET", INTERN_ENCODING_OFFSET},
        {"InternDescriptor.INTERN_NS_LENGTH_OFFSET", INTERN_NS_LENGTH_OFFSET},
        {"InternDescriptor.INTERN_NAME_LENGTH_OFFSET", INTERN_NAME_LENGTH_OFFSET},
        {"InternDescriptor.INTERN_DATA_OFFSET", INTERN_DATA_OFFSET},
        {"InternDescriptor.INTERN_KEYWORD", INTERN_KEYWORD}, {"InternDescriptor.INTERN_SYMBOL", INTERN_SYMBOL},
        {"InternDescriptor.INTERN_UTF16", INTERN_UTF16},
        {"MetaSymbolDescriptor.META_SYMBOL_HASH_OFFSET", META_SYMBOL_HASH_OFFSET},
        {"MetaSymbolDescriptor.META_SYMBOL_SYMBOL_OFFSET", META_SYMBOL_SYMBOL_OFFSET},
        {"MetaSymbolDescriptor.META_SYMBOL_LENGTH", META_SYMBOL_LENGTH},
        {"BoxDescriptor.BOX_TAG_OFFSET", BOX_TAG_OFFSET}, {"BoxDescriptor.BOX_PAYLOAD_OFFSET", BOX_PAYLOAD_OFFSET},
        {"LockDescriptor.FILE_LOCK_OFFSET", FILE_LOCK_OFFSET}, {"LockDescriptor.FILE_LOCK_LENGTH", (long long) FILE_LOCK_LENGTH},
        {"LockDescriptor.READ_ONLY_LOCK_OFFSET", (long long) READ_ONLY_LOCK_OFFSET},
        {"LockDescriptor.READ_ONLY_LOCK_LENGTH", READ_ONLY_LOCK_LENGTH},
        {"BoxDescriptor.BOX_LENGTH", BOX_LENGTH}, {"BoxDescriptor.BOX_SEAL_OFFSET", BOX_SEAL_OFFSET},
        {"CollDescriptor.COLL_SEAL_OFFSET", COLL_SEAL_OFFSET}, {"MapNodeDescriptor.EDIT_OFFSET", MAP_EDIT_OFFSET},
        {"VecNodeDescriptor.SEAL_SHIFT", VEC_SEAL_SHIFT},
        {"SealDescriptor.SEAL_FLAG", (long long) SEAL_FLAG}, {"SealDescriptor.SEED", (long long) SEAL_SEED},
        {"SealDescriptor.MUL", (long long) SEAL_MUL}, {"SealDescriptor.FIN", (long long) SEAL_FIN},
        {"SealDescriptor.SEAL_LENGTH", SEAL_LENGTH}, {"LineageDescriptor.END_OFFSET", NODE_SEAL_START},
        {"CollDescriptor.COLL_KIND_OFFSET", COLL_KIND_OFFSET}, {"CollDescriptor.COLL_SHIFT_OFFSET", COLL_SHIFT_OFFSET},
        {"CollDescriptor.COLL_ELEM_OFFSET", COLL_ELEM_OFFSET},
        {"CollDescriptor.COLL_HASH_OFFSET", COLL_HASH_OFFSET}, {"CollDescriptor.COLL_COUNT_OFFSET", COLL_COUNT_OFFSET},
        {"CollDescriptor.COLL_ROOT_OFFSET", COLL_ROOT_OFFSET}, {"CollDescriptor.COLL_TAIL_OFFSET", COLL_TAIL_OFFSET},
        {"CollDescriptor.COLL_LENGTH", COLL_LENGTH},
        {"MapNodeDescriptor.DATAMAP_OFFSET", MAP_DATAMAP_OFFSET}, {"MapNodeDescriptor.NODEMAP_OFFSET", MAP_NODEMAP_OFFSET},
        {"MapNodeDescriptor.COLLISION_HASH_OFFSET", MAP_COLLISION_HASH_OFFSET},
        {"MapNodeDescriptor.COLLISION_COUNT_OFFSET", MAP_COLLISION_COUNT_OFFSET},
        {"MapNodeDescriptor.ENTRIES_OFFSET", MAP_ENTRIES_OFFSET},
        {"MapNodeDescriptor.ENTRY_HASH_OFFSET", MAP_ENTRY_HASH_OFFSET},
        {"MapNodeDescriptor.ENTRY_KEY_TAG_OFFSET", MAP_ENTRY_KEY_TAG_OFFSET},
        {"MapNodeDescriptor.ENTRY_VALUE_TAG_OFFSET", MAP_ENTRY_VALUE_TAG_OFFSET},
        {"MapNodeDescriptor.ENTRY_KEY_OFFSET", MAP_ENTRY_KEY_OFFSET},
        {"MapNodeDescriptor.ENTRY_VALUE_OFFSET", MAP_ENTRY_VALUE_OFFSET},
        {"MapNodeDescriptor.MAP_ENTRY_LENGTH", MAP_ENTRY_LENGTH}, {"MapNodeDescriptor.SET_ENTRY_LENGTH", SET_ENTRY_LENGTH},
        {"VecNodeDescriptor.NODE_WORD_OFFSET", VEC_NODE_WORD_OFFSET}, {"VecNodeDescriptor.SLOTS_OFFSET", VEC_SLOTS_OFFSET},
        {"VecNodeDescriptor.CAPACITY_MASK", VEC_CAPACITY_MASK},
        {"SnapshotDescriptor.TRAILER_MAGIC", (long long) SNAP_TRAILER_MAGIC},
        {"SnapshotDescriptor.TRAILER_MAGIC_OFFSET", SNAP_TRAILER_MAGIC_OFFSET},
        {"SnapshotDescriptor.TRAILER_COVERED_OFFSET", SNAP_TRAILER_COVERED_OFFSET},
        {"SnapshotDescriptor.TRAILER_CHECKSUM_OFFSET", SNAP_TRAILER_CHECKSUM_OFFSET},
        {"SnapshotDescriptor.TRAILER_LENGTH", SNAP_TRAILER_LENGTH},
        {"VecNodeDescriptor.ELEM_SHIFT", VEC_ELEM_SHIFT}, {"VecNodeDescriptor.ELEM_MASK", VEC_ELEM_MASK},
        {"PrimLeafDescriptor.ELEMENTS_OFFSET", PRIM_ELEMENTS_OFFSET},
        {"PrimLeafDescriptor.ELEM_LONG", ELEM_LONG}, {"PrimLeafDescriptor.ELEM_DOUBLE", ELEM_DOUBLE},
        {"PrimLeafDescriptor.ELEM_INT", ELEM_INT}, {"PrimLeafDescriptor.ELEM_FLOAT", ELEM_FLOAT},
        {"PrimLeafDescriptor.ELEM_SHORT", ELEM_SHORT}, {"PrimLeafDescriptor.ELEM_CHAR", ELEM_CHAR},
        {"PrimLeafDescriptor.ELEM_BYTE", ELEM_BYTE}, {"PrimLeafDescriptor.ELEM_BOOLEAN", ELEM_BOOLEAN},
        {"PrimLeafDescriptor.ELEM_MAX", ELEM_MAX},
        {"SharingDescriptor.ROOTS_CAPACITY_OFFSET", ROOTS_CAPACITY_OFFSET},
        {"SharingDescriptor.ROOTS_ENTRIES_OFFSET", ROOTS_ENTRIES_OFFSET},
        {"SharingDescriptor.ROOTS_ENTRY_NAME_OFFSET", ROOTS_ENTRY_NAME_OFFSET},
        {"SharingDescriptor.ROOTS_ENTRY_CELL_OFFSET", ROOTS_ENTRY_CELL_OFFSET},
        {"SharingDescriptor.ROOTS_ENTRY_LENGTH", ROOTS_ENTRY_LENGTH},
        {"SharingDescriptor.STATE_FREE", STATE_FREE}, {"SharingDescriptor.STATE_CLAIMING", STATE_CLAIMING},
        {"SharingDescriptor.STATE_LIVE", STATE_LIVE_SLOT}, {"SharingDescriptor.STATE_RECOVERING", STATE_RECOVERING},
        {"SharingDescriptor.STATE_MASK", STATE_MASK},
        {"ReaderDescriptor.READERS", READERS}, {"ReaderDescriptor.READER_STATE_OFFSET", READER_STATE_OFFSET},
        {"ReaderDescriptor.READER_PID_OFFSET", READER_PID_OFFSET},
        {"ReaderDescriptor.READER_START_OFFSET", READER_START_OFFSET},
        {"ReaderDescriptor.READER_HAZARD_OFFSET", READER_HAZARD_OFFSET},
        {"ReaderDescriptor.READER_PINS_OFFSET", READER_PINS_OFFSET}, {"ReaderDescriptor.READER_PINS", READER_PINS},
        {"ReaderDescriptor.READER_SLOT_LENGTH", READER_SLOT_LENGTH}, {"ReaderDescriptor.READER_LEFT", READER_LEFT},
        {"ReaderDescriptor.PIN_RETURNED", PIN_RETURNED},
    };
    fputc('{', stdout);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) printf("%s\"%s\" %lld", i ? ", " : "", c[i].name, c[i].value);
    fputs("}\n", stdout);
}

/* --sum: the sum of a vector-of's elements as doubles, in order, read leaf by
 * leaf in place through the typed arrays slab_leaf_at hands out (the loop a
 * numeric kernel would run). */
static int sum_vector_of(slab_file *f, const slab_value *v, double *out) {
    double sum = 0;
    slab_leaf leaf = {0, NULL, 0, 0};
    if (v->kind != SLAB_VECTOR_OF) return slab_leaf_at(f, v, 0, &leaf);   // the error: not a vector-of
    for (uint64_t i = 0; i < v->as.coll.count; i += leaf.length) {
        int st = slab_leaf_at(f, v, i, &leaf);
        if (st) return st;
        uint32_t n = leaf.length;
        switch (leaf.elem) {
        case SLAB_ELEM_DOUBLE: { const double *x = slab_leaf_doubles(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_LONG: { const int64_t *x = slab_leaf_longs(&leaf); for (uint32_t j = 0; j < n; j++) sum += (double) x[j]; break; }
        case SLAB_ELEM_INT: { const int32_t *x = slab_leaf_ints(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_FLOAT: { const float *x = slab_leaf_floats(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_SHORT: { const int16_t *x = slab_leaf_shorts(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_CHAR: { const uint16_t *x = slab_leaf_chars(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_BYTE: { const int8_t *x = slab_leaf_bytes(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        case SLAB_ELEM_BOOLEAN: { const uint8_t *x = slab_leaf_booleans(&leaf); for (uint32_t j = 0; j < n; j++) sum += x[j]; break; }
        }
    }
    *out = sum;
    return SLAB_OK;
}

static int print_seal(const char *hex) {
    size_t n = strlen(hex) / 2;
    uint8_t *bytes = malloc(n + 1);
    if (!bytes || strlen(hex) % 2) { free(bytes); return usage(); }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) { free(bytes); return usage(); }
        bytes[i] = (uint8_t) v;
    }
    printf("0x%08x\n", slab_seal(bytes, n));
    free(bytes);
    return 0;
}

int main(int argc, char **argv) {
    long count = 1;
    unsigned long long budget = 0;
    int budget_given = 0, hold = 0, sum = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--constants")) { constants(); return 0; }
        if (!strcmp(argv[i], "--seal") && i + 1 < argc) return print_seal(argv[i + 1]);
        else if (!strcmp(argv[i], "--hold")) hold = 1;
        else if (!strcmp(argv[i], "--sum")) sum = 1;
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) count = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-b") && i + 1 < argc) { budget = strtoull(argv[++i], NULL, 10); budget_given = 1; }
        else return usage();
    }
    if (argc - i != 2 || count < 1) return usage();
    file_name = argv[i];
    const char *root = argv[i + 1];

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
    sa.sa_handler = on_stop;   // no SA_RESTART: a write blocked on a full pipe returns
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);

    slab_file *f;
    int st = slab_open(file_name, &f);
    if (st) return fail(NULL, st);
    if ((st = slab_attach(f))) return fail(f, st);
    slab_print_limits limits = {0, 1000, &stop};
    if (budget_given) limits.budget = budget;   // 0: no limit
    else {
        // Enough for any value the segment can hold without sharing; a damaged
        // file whose collections name each other over and over stops here.
        // (stat, not open: closing another descriptor of the file would drop our fcntl locks)
        struct stat st_buf;
        long long cap = stat(file_name, &st_buf) == 0 ? (long long) st_buf.st_size : 0;
        limits.budget = (unsigned long long) (cap / 4 > (1LL << 26) ? cap / 4 : (1LL << 26));
    }
    for (long n = 0; n < count; n++) {
        slab_pin pin;
        slab_value v;
        if ((st = slab_pin_root(f, root, &pin, &v))) return fail(f, st);
        if (sum) {
            slab_value total;
            memset(&total, 0, sizeof total);
            total.kind = SLAB_DOUBLE;
            st = sum_vector_of(f, &v, &total.as.d);
            if (!st) st = slab_print_edn(f, &total, stdout, &limits);
        } else {
            st = slab_print_edn(f, &v, stdout, &limits);
        }
        fputc('\n', stdout);
        if (st) {
            fflush(stdout);
            return fail(f, st);
        }
        if (hold) {
            fflush(stdout);
            while (!stop) pause();   // until told to stop, holding the pin
        }
        if (stop) {
            slab_unpin(f, &pin);
            fprintf(stderr, "slabread: %s: interrupted\n", file_name);
            slab_close(f);
            return 1;
        }
        if ((st = slab_unpin(f, &pin))) return fail(f, st);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "slabread: writing the output failed\n");
        slab_close(f);
        return 1;
    }
    if ((st = slab_detach(f))) return fail(f, st);
    slab_close(f);
    return 0;
}
