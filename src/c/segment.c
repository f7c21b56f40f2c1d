/*
 * Opening a segment file: map it, and validate the header in the order
 * FORMAT.md gives ("Validating a segment on open") before any offset in it
 * is trusted; and the one check every block goes through before it is read.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static _Thread_local char open_message[512];

const char *slab_open_error(void) { return open_message; }

const char *slab_error_message(const slab_file *f) { return f ? f->message : open_message; }

int slab_fail(slab_file *f, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *buf = f ? f->message : open_message;
    size_t len = f ? sizeof f->message : sizeof open_message;
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return status;
}

const char *slab_strerror(int status) {
    switch (status) {
    case SLAB_OK: return "ok";
    case SLAB_EIO: return "i/o error";
    case SLAB_ENOTSLAB: return "not a slab segment";
    case SLAB_EVERSION: return "wrong format version";
    case SLAB_EDAMAGED: return "damaged segment";
    case SLAB_ENOROOT: return "no such root";
    case SLAB_EFULL: return "no free reader slot or pin";
    case SLAB_EBUSY: return "segment needs recovery by slab first";
    case SLAB_ESTATE: return "call out of order";
    case SLAB_ETOOBIG: return "value too large or too deep";
    case SLAB_EARG: return "bad argument";
    case SLAB_ENOMEM: return "out of memory";
    default: return "unknown error";
    }
}

/* FORMAT.md, Size classes. */
uint64_t slab_size_of_class(uint32_t cls) {
    if (cls < 32) return 16ULL * (cls + 1);
    uint32_t k = cls - 32, lg = 9 + k / 4;
    return (1ULL << lg) + (uint64_t) (k % 4 + 1) * (1ULL << (lg - 2));
}

static uint64_t heap_base_of(uint64_t capacity) {
    uint64_t max_pages = (capacity - HDR_HEADER_LENGTH) >> PAGE_SHIFT;
    uint64_t end = HDR_HEADER_LENGTH + max_pages * PAGE_WORD_LENGTH;
    return (end + HDR_PAGE_SIZE - 1) / HDR_PAGE_SIZE * HDR_PAGE_SIZE;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/*
 * Whether a file shorter than its capacity is a snapshot (FORMAT.md,
 * Snapshots): it ends at its frontier followed by the trailer. Then it is
 * mapped up to the trailer, and nothing above the frontier is read. The
 * trailer's CRC32C is the JVM's to check (open-segment); here a damaged
 * snapshot meets the same checks as any damaged file.
 */
static int snapshot_length(int fd, uint64_t size, uint64_t capacity, uint64_t *mapped) {
    uint8_t t[SNAP_TRAILER_LENGTH];
    if (size < HDR_HEADER_LENGTH + SNAP_TRAILER_LENGTH || size > capacity) return 0;
    if (pread(fd, t, sizeof t, (off_t) (size - SNAP_TRAILER_LENGTH)) != (ssize_t) sizeof t) return 0;
    if (le64(t + SNAP_TRAILER_MAGIC_OFFSET) != SNAP_TRAILER_MAGIC
        || le64(t + SNAP_TRAILER_COVERED_OFFSET) != size - SNAP_TRAILER_LENGTH) return 0;
    *mapped = size - SNAP_TRAILER_LENGTH;
    return 1;
}
static uint32_t le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int slab_open(const char *path, slab_file **out) {
    if (out) *out = NULL;
    if (!path || !out) return slab_fail(NULL, SLAB_EARG, "slab_open: NULL argument");
    const uint16_t probe = 1;
    if (*(const uint8_t *) &probe != 1) return slab_fail(NULL, SLAB_ENOTSLAB, "slab segments are little-endian; this CPU is not");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return slab_fail(NULL, SLAB_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return slab_fail(NULL, SLAB_EIO, "cannot stat %s: %s", path, strerror(e));
    }
    uint8_t hdr[HDR_FIXED_LENGTH + 8];
    if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size < sizeof hdr) {
        close(fd);
        return slab_fail(NULL, SLAB_ENOTSLAB, "%s is not a slab segment (too small)", path);
    }
    ssize_t got = pread(fd, hdr, sizeof hdr, 0);
    if (got != (ssize_t) sizeof hdr) {
        close(fd);
        return slab_fail(NULL, SLAB_EIO, "cannot read the header of %s", path);
    }
    int status = SLAB_OK;
    uint64_t capacity = le64(hdr + HDR_CAPACITY_OFFSET), mapped = capacity;
    uint32_t version = le32(hdr + HDR_VERSION_OFFSET);
    uint32_t mb = le32(hdr + HDR_MAP_BITS_OFFSET), vb = le32(hdr + HDR_VEC_BITS_OFFSET);
    if (le64(hdr + HDR_MAGIC_OFFSET) != HDR_MAGIC)
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s is not a slab segment (wrong magic number)", path);
    else if (version != HDR_FORMAT_VERSION)
        status = slab_fail(NULL, SLAB_EVERSION, "%s has format version %u; this reader reads version %d", path,
                           version, HDR_FORMAT_VERSION);
    else if (fnv1a(hdr, HDR_FIXED_LENGTH) != le64(hdr + HDR_CHECKSUM_OFFSET))
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s: the header checksum does not match (damaged header)", path);
    else if (capacity < HDR_MIN_CAPACITY || capacity > HDR_MAX_CAPACITY || capacity % HDR_PAGE_SIZE != 0)
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s: %llu is not a valid segment capacity", path,
                           (unsigned long long) capacity);
    else if (le32(hdr + HDR_HEADER_LENGTH_OFFSET) != HDR_HEADER_LENGTH || le32(hdr + HDR_PAGE_SIZE_OFFSET) != HDR_PAGE_SIZE
             || le32(hdr + HDR_CLASS_COUNT_OFFSET) != SIZE_CLASS_COUNT)
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s: its layout differs from this reader's", path);
    else if (capacity != (uint64_t) st.st_size && !snapshot_length(fd, (uint64_t) st.st_size, capacity, &mapped))
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s: the header says %llu bytes but the file has %llu (truncated or extended)",
                           path, (unsigned long long) capacity, (unsigned long long) st.st_size);
    else if (mb < 1 || mb > 5 || vb < 1 || vb > 5)
        status = slab_fail(NULL, SLAB_ENOTSLAB, "%s: its branching settings are out of range", path);
    if (status != SLAB_OK) {
        close(fd);
        return status;
    }
    void *m = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        return slab_fail(NULL, SLAB_EIO, "cannot map %s: %s", path, strerror(e));
    }
    slab_file *f = calloc(1, sizeof *f);
    if (!f) {
        munmap(m, mapped);
        close(fd);
        return slab_fail(NULL, SLAB_ENOMEM, "out of memory");
    }
    f->fd = fd;
    f->base = m;
    f->capacity = capacity;
    f->mapped = mapped;
    f->heap_base = heap_base_of(capacity);
    f->map_bits = mb;
    f->vec_bits = vb;
    f->slot = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    uint64_t frontier = load_acquire(f, HDR_FRONTIER_OFFSET), committed = load_acquire(f, HDR_COMMITTED_OFFSET);
    if (frontier < f->heap_base || frontier > committed || committed > capacity || frontier > mapped
        || (frontier - f->heap_base) % PAGE_LENGTH != 0) {
        slab_close(f);
        return slab_fail(NULL, SLAB_ENOTSLAB, "%s: its allocator state is inconsistent", path);
    }
    *out = f;
    return SLAB_OK;
}

void slab_close(slab_file *f) {
    if (!f) return;
    if (f->slot >= 0) slab_detach(f);
    munmap(f->base, f->mapped);
    close(f->fd);
    free(f);
}

int slab_check_block(slab_file *f, uint64_t off, int type, uint64_t need, uint64_t *size) {
    // The frontier only grows, and nothing lives above it; it is untrusted too.
    uint64_t frontier = load_acquire(f, HDR_FRONTIER_OFFSET);
    if (frontier > f->mapped) frontier = f->mapped;
    if (off < f->heap_base || off % BLOCK_ALIGNMENT != 0 || off >= frontier || frontier - off < BLOCK_ALIGNMENT)
        return slab_fail(f, SLAB_EDAMAGED, "offset %llu is not a block in the heap", (unsigned long long) off);
    uint64_t h = load_acquire(f, off);
    uint32_t cls = (uint32_t) (h >> CLASS_SHIFT);
    unsigned state = (unsigned) (h >> STATE_SHIFT) & 0xFF, t = (unsigned) (h >> TYPE_SHIFT) & 0xFF;
    if (state != STATE_LIVE || (h & REFCOUNT_MASK) == 0)
        return slab_fail(f, SLAB_EDAMAGED, "block %llu is not live (freed while read, or damaged)", (unsigned long long) off);
    if ((int) t != type)
        return slab_fail(f, SLAB_EDAMAGED, "block %llu has type %u where type %d was expected", (unsigned long long) off,
                         t, type);
    if (cls >= SIZE_CLASS_COUNT)
        return slab_fail(f, SLAB_EDAMAGED, "block %llu has size class %u", (unsigned long long) off, cls);
    uint64_t sz = slab_size_of_class(cls);
    if (sz > frontier - off || need > sz)
        return slab_fail(f, SLAB_EDAMAGED, "block %llu (%llu bytes) is too small or runs past the heap",
                         (unsigned long long) off, (unsigned long long) sz);
    if (size) *size = sz;
    return SLAB_OK;
}
