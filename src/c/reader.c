/*
 * The foreign-reader protocol (FORMAT.md, "Foreign readers"): a slot in the
 * header's reader table, pins recorded where a JVM's recovery finds them,
 * and the order of every step, so that a reader killed at any instant
 * leaves at worst a leak the sweep reclaims, never a count given back twice.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* --- processes -------------------------------------------------------------------- */

/* Boot time in seconds (/proc/stat btime), as the JVM reads it. */
static int64_t boot_seconds(void) {
    FILE *in = fopen("/proc/stat", "r");
    if (!in) return -1;
    char line[256];
    long long bt = -1;
    while (fgets(line, sizeof line, in))
        if (sscanf(line, "btime %lld", &bt) == 1) break;
    fclose(in);
    return bt;
}

/* A process's start, epoch milliseconds, computed as the JVM's ProcessHandle
 * does on Linux: boot time plus field 22 of /proc/<pid>/stat (clock ticks
 * since boot). 0 if unknown. */
int64_t slab_process_start_ms(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *in = fopen(path, "r");
    if (!in) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = 0;
    char *p = strrchr(buf, ')');   // the command name may hold spaces and parentheses
    if (!p) return 0;
    unsigned long long ticks = 0;
    // after ") ": state (field 3) ... starttime is field 22
    int field = 2;
    for (char *q = p + 1; *q && field < 22; q++)
        if (*q == ' ') {
            field++;
            if (field == 22) ticks = strtoull(q + 1, NULL, 10);
        }
    long hz = sysconf(_SC_CLK_TCK);
    int64_t boot = boot_seconds();
    if (field != 22 || hz <= 0 || boot < 0) return 0;
    return boot * 1000 + (int64_t) (ticks * 1000 / (unsigned long long) hz);
}

/* Whether the process with this pid and start time (0: unknown) runs, by the JVM's rule. */
int slab_process_alive(int64_t pid, int64_t start_ms) {
    if (pid <= 0 || pid > 0x7FFFFFFF) return 0;
    if (kill((pid_t) pid, 0) != 0 && errno != EPERM) return 0;
    if (start_ms == 0) return 1;
    int64_t now = slab_process_start_ms((pid_t) pid);
    return now == 0 || llabs(now - start_ms) < 1000;
}

/* The identity word "state, by this process" (FORMAT.md, Identity words). */
static uint64_t identity_word(uint64_t state) {
    int64_t start = slab_process_start_ms(getpid());
    return state | (((uint64_t) (start / 1000) & 0xFFFFFF) << 8) | ((uint64_t) getpid() << 32);
}

/* --- the file lock ------------------------------------------------------------------- */

/* The file lock every process takes to attach: fcntl F_WRLCK over bytes
 * [0, FILE_LOCK_LENGTH) (flock() would not see it). A JVM that has the file
 * open read-only holds a shared lock on the byte after that range for as long
 * as it has it open; a reader does not conflict with it (a reader frees
 * nothing), so it never touches that byte. */
_Static_assert(sizeof(off_t) == 8, "the lock ranges need a 64-bit off_t");

static int lock_file(slab_file *f, int type) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = (short) type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t) FILE_LOCK_OFFSET;
    fl.l_len = (off_t) FILE_LOCK_LENGTH;
    while (fcntl(f->fd, F_SETLKW, &fl) != 0)
        if (errno != EINTR) return slab_fail(f, SLAB_EIO, "cannot lock %s: %s", f->path, strerror(errno));
    return SLAB_OK;
}

/* --- slots ----------------------------------------------------------------------------- */

static uint64_t slot_at(int i) { return HDR_READERS_OFFSET + (uint64_t) i * READER_SLOT_LENGTH; }

static uint64_t pin_at(int slot, int j) { return slot_at(slot) + READER_PINS_OFFSET + 8ULL * (uint64_t) j; }

static int no_pins(slab_file *f, int i) {
    for (int j = 0; j < READER_PINS; j++)
        if (load_acquire(f, pin_at(i, j)) != 0) return 0;
    return 1;
}

/* Claims a free slot, or one whose reader died holding nothing (nothing to give back). */
static int claim(slab_file *f) {
    uint64_t me = identity_word(STATE_CLAIMING);
    for (int i = 0; i < READERS; i++) {
        uint64_t sl = slot_at(i), st = load_seq(f, sl + READER_STATE_OFFSET);
        int take = st == STATE_FREE;
        if (!take && (st & STATE_MASK) == STATE_LIVE_SLOT && no_pins(f, i))
            take = !slab_process_alive((int64_t) load_acquire(f, sl + READER_PID_OFFSET),
                                       (int64_t) load_acquire(f, sl + READER_START_OFFSET));
        if (!take || !cas_seq(f, sl + READER_STATE_OFFSET, st, me)) continue;
        store_release(f, sl + READER_PID_OFFSET, (uint64_t) getpid());
        store_release(f, sl + READER_START_OFFSET, (uint64_t) slab_process_start_ms(getpid()));
        store_seq(f, sl + READER_HAZARD_OFFSET, 0);
        store_seq(f, sl + READER_STATE_OFFSET, STATE_LIVE_SLOT);
        return i;
    }
    return -1;
}

static int give_back(slab_file *f, int slot, int j, uint64_t box);

/* Frees the slots of readers that died (kill -9) holding pins, as a JVM's
 * recovery would, except that a last count is handed to the JVMs
 * (PIN_RETURNED, the slot READER_LEFT) instead of being released: the slot
 * is taken by one compare-and-set of its state word to "recovering, by this
 * process" (racing a JVM's recovery, one of the two wins; a reader killed
 * here leaves a dead recoverer, which a JVM takes over), every pin is given
 * back as unpin does (erased first), and the slot freed. Without this, a
 * JVM that only kept swapping never freed them: readers killed while pinned
 * kept their versions, and 16 of them left no slot to attach to. */
static void reap(slab_file *f) {
    uint64_t me = identity_word(STATE_RECOVERING);
    for (int i = 0; i < READERS; i++) {
        uint64_t sl = slot_at(i), st = load_seq(f, sl + READER_STATE_OFFSET);
        if ((st & STATE_MASK) != STATE_LIVE_SLOT || no_pins(f, i)
            || slab_process_alive((int64_t) load_acquire(f, sl + READER_PID_OFFSET),
                                  (int64_t) load_acquire(f, sl + READER_START_OFFSET))
            || !cas_seq(f, sl + READER_STATE_OFFSET, st, me))
            continue;
        for (int j = 0; j < READER_PINS; j++) {
            uint64_t w = load_acquire(f, pin_at(i, j));
            // Pin words are untrusted: one that is not a live box is left to the JVMs.
            if (w != 0 && !(w & PIN_RETURNED) && slab_check_block(f, w, T_BOX, BOX_LENGTH, NULL) == SLAB_OK)
                give_back(f, i, j, w);
        }
        store_seq(f, sl + READER_HAZARD_OFFSET, 0);
        store_seq(f, sl + READER_STATE_OFFSET, no_pins(f, i) ? STATE_FREE : READER_LEFT);
    }
}

int slab_attach(slab_file *f) {
    if (!f) return SLAB_EARG;
    if (f->slot >= 0) return slab_fail(f, SLAB_ESTATE, "already attached");
    int st = lock_file(f, F_WRLCK);
    if (st) return st;
    // Under the lock no sweep runs; a sweep word left set names a sweeper that
    // died, so counts cannot be trusted until a JVM sweeps again.
    if (load_seq(f, HDR_SWEEP_OFFSET) != 0) {
        lock_file(f, F_UNLCK);
        return slab_fail(f, SLAB_EBUSY, "%s: a sweep was cut short; open it with slab once to finish it", f->path);
    }
    reap(f);
    int i = claim(f);
    lock_file(f, F_UNLCK);
    if (i < 0) return slab_fail(f, SLAB_EFULL, "%s: all %d reader slots are in use", f->path, READERS);
    f->slot = i;
    return SLAB_OK;
}

int slab_detach(slab_file *f) {
    if (!f) return SLAB_EARG;
    if (f->slot < 0) return slab_fail(f, SLAB_ESTATE, "not attached");
    int i = f->slot, status = SLAB_OK;
    for (int j = 0; j < READER_PINS; j++) {
        uint64_t w = load_acquire(f, pin_at(i, j));
        if (w != 0 && !(w & PIN_RETURNED)) {
            slab_pin p = {w, j};
            int st = slab_unpin(f, &p);
            if (st && !status) status = st;
        }
    }
    uint64_t sl = slot_at(i);
    store_seq(f, sl + READER_HAZARD_OFFSET, 0);
    // Pins returned to the JVMs keep the slot until a JVM gives them back.
    store_seq(f, sl + READER_STATE_OFFSET, no_pins(f, i) ? STATE_FREE : READER_LEFT);
    f->slot = -1;
    return status;
}

/* --- pinning ------------------------------------------------------------------------------ */

/* UTF-8 to UTF-16; -1 if it is not valid UTF-8 or does not fit. */
static long utf16_of(const char *s, uint16_t *out, size_t cap) {
    size_t n = 0;
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t c;
        int more;
        if (*p < 0x80) { c = *p; more = 0; }
        else if ((*p & 0xE0) == 0xC0) { c = *p & 0x1F; more = 1; }
        else if ((*p & 0xF0) == 0xE0) { c = *p & 0x0F; more = 2; }
        else if ((*p & 0xF8) == 0xF0) { c = *p & 0x07; more = 3; }
        else return -1;
        p++;
        for (int k = 0; k < more; k++, p++) {
            if ((*p & 0xC0) != 0x80) return -1;
            c = c << 6 | (*p & 0x3F);
        }
        if (c >= 0x10000) {
            if (c > 0x10FFFF || n + 2 > cap) return -1;
            out[n++] = (uint16_t) (0xD800 + ((c - 0x10000) >> 10));
            out[n++] = (uint16_t) (0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            if (n + 1 > cap) return -1;
            out[n++] = (uint16_t) c;
        }
    }
    return (long) n;
}

static int text_equals(const slab_text *t, const uint16_t *u, size_t n) {
    if (t->length != n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (slab_text_unit(t, i) != u[i]) return 0;
    return 1;
}

/* The cell word of the root named `name`: probes the root table as FORMAT.md says. */
static int find_cell(slab_file *f, const char *name, uint64_t *cell) {
    uint16_t units[4096];
    long n = utf16_of(name, units, sizeof units / sizeof units[0]);
    if (n <= 0) return slab_fail(f, SLAB_EARG, "a root name must be non-empty UTF-8 (at most 4096 chars)");
    // As clojure.lang.Symbol/intern splits it: at the first '/', unless the name is "/".
    long slash = -1;
    for (long k = 0; k < n; k++)
        if (units[k] == '/') { slash = k; break; }
    if (n == 1) slash = -1;
    const uint16_t *ns = slash >= 0 ? units : NULL, *nm = slash >= 0 ? units + slash + 1 : units;
    size_t ns_len = slash >= 0 ? (size_t) slash : 0, nm_len = slash >= 0 ? (size_t) (n - slash - 1) : (size_t) n;
    uint32_t h = (uint32_t) slab_keyword_hash(ns, ns_len, nm, nm_len);

    uint64_t t = load_acquire(f, HDR_ROOT_TABLE_OFFSET), size;
    if (t == 0) return slab_fail(f, SLAB_ENOROOT, "no root :%s (the segment has no roots)", name);
    int st = slab_check_block(f, t, T_ROOT_TABLE, ROOTS_ENTRIES_OFFSET, &size);
    if (st) return st;
    uint64_t cap = ld64(f, t + ROOTS_CAPACITY_OFFSET);
    if (cap == 0 || (cap & (cap - 1)) || cap > (size - ROOTS_ENTRIES_OFFSET) / ROOTS_ENTRY_LENGTH)
        return slab_fail(f, SLAB_EDAMAGED, "the root table's capacity %llu is damaged", (unsigned long long) cap);
    uint64_t i = h & (cap - 1);
    for (uint64_t probes = 0; probes < cap; probes++, i = (i + 1) & (cap - 1)) {
        uint64_t e = t + ROOTS_ENTRIES_OFFSET + i * ROOTS_ENTRY_LENGTH;
        uint64_t kw = load_acquire(f, e + ROOTS_ENTRY_NAME_OFFSET);
        if (kw == 0) break;
        slab_value k;
        if ((st = slab_decode(f, TAG_KEYWORD, kw, &k))) return st;
        if ((uint32_t) k.hash == h && k.as.sym.has_ns == (ns != NULL) && text_equals(&k.as.sym.name, nm, nm_len)
            && (!ns || text_equals(&k.as.sym.ns, ns, ns_len))) {
            *cell = e + ROOTS_ENTRY_CELL_OFFSET;
            return SLAB_OK;
        }
    }
    return slab_fail(f, SLAB_ENOROOT, "no root :%s", name);
}

/* Adds one count to a live box, by compare-and-set on its header (never on a block that is not live). */
static int retain_box(slab_file *f, uint64_t box) {
    int st = slab_check_block(f, box, T_BOX, BOX_LENGTH, NULL);
    if (st) return st;
    for (;;) {
        uint64_t h = load_seq(f, box);
        if (((h >> STATE_SHIFT) & 0xFF) != STATE_LIVE || ((h >> TYPE_SHIFT) & 0xFF) != T_BOX || (h & REFCOUNT_MASK) == 0
            || (h & REFCOUNT_MASK) == REFCOUNT_MASK)
            return slab_fail(f, SLAB_EDAMAGED, "box %llu is not live", (unsigned long long) box);
        if (cas_seq(f, box, h, h + 1)) return SLAB_OK;
    }
}

int slab_pin_root(slab_file *f, const char *name, slab_pin *pin, slab_value *out) {
    if (!f || !name || !pin || !out) return SLAB_EARG;
    pin->box = 0;
    pin->word = -1;
    if (f->slot < 0) return slab_fail(f, SLAB_ESTATE, "attach before pinning a root");
    uint64_t cell;
    int st = find_cell(f, name, &cell);
    if (st) return st;
    int j;
    for (j = 0; j < READER_PINS; j++)
        if (load_acquire(f, pin_at(f->slot, j)) == 0) break;
    if (j == READER_PINS)
        return slab_fail(f, SLAB_EFULL, "all %d pin words of this reader are in use (unpin, or wait for a JVM to take returned pins)",
                         READER_PINS);
    uint64_t hazard = slot_at(f->slot) + READER_HAZARD_OFFSET, box;
    // Announce, then check the cell still names the box: a JVM that retires it
    // afterwards sees the announcement and keeps its count (sequentially
    // consistent on both sides, as FORMAT.md's Publishing and reading says).
    for (long tries = 0;; tries++) {
        box = load_seq(f, cell);
        if (box == 0) return slab_fail(f, SLAB_ENOROOT, "root :%s holds no value", name);
        store_seq(f, hazard, box);
        if (load_seq(f, cell) == box) break;
        if (tries > 1000000) {
            store_seq(f, hazard, 0);
            return slab_fail(f, SLAB_EBUSY, "root :%s changes too fast to pin", name);
        }
    }
    st = retain_box(f, box);
    if (st) {
        store_seq(f, hazard, 0);
        return st;
    }
    // Counted first, recorded after: a kill between leaks the count (the sweep
    // reclaims it); the other order could give back a count never taken.
    store_seq(f, pin_at(f->slot, j), box);
    store_seq(f, hazard, 0);
    pin->box = box;
    pin->word = j;
    if ((st = slab_check_field_seal(f, box, BOX_LENGTH, BOX_SEAL_OFFSET))
        || (st = slab_decode(f, ld8(f, box + BOX_TAG_OFFSET), ld64(f, box + BOX_PAYLOAD_OFFSET), out))) {
        slab_unpin(f, pin);
        // keep the decode's message
        return st;
    }
    return SLAB_OK;
}

/* Gives back the count pin word j of slot `slot` records on box (erased
 * first; the last count is handed to the JVMs with PIN_RETURNED). */
static int give_back(slab_file *f, int slot, int j, uint64_t box) {
    uint64_t pw = pin_at(slot, j);
    int erased = 0, status = SLAB_OK;
    for (;;) {
        uint64_t h = load_seq(f, box), n = h & REFCOUNT_MASK;
        if (((h >> STATE_SHIFT) & 0xFF) != STATE_LIVE || ((h >> TYPE_SHIFT) & 0xFF) != T_BOX || n == 0) {
            // Not ours to judge: the JVM that takes the pin back checks the box again.
            store_seq(f, pw, box | PIN_RETURNED);
            status = slab_fail(f, SLAB_EDAMAGED, "pinned box %llu is no longer live", (unsigned long long) box);
            break;
        }
        if (n >= 2) {
            // Others hold the box too: erase the record, then give the count back
            // (a kill between leaks it; the other order could give it back twice).
            if (!erased) {
                store_seq(f, pw, 0);
                erased = 1;
            }
            if (cas_seq(f, box, h, h - 1)) break;
        } else {
            // The last count: freeing the box and what it holds needs an allocator,
            // so a JVM gives it back (on its next retire, recovery or open).
            store_seq(f, pw, box | PIN_RETURNED);
            break;
        }
    }
    return status;
}

int slab_unpin(slab_file *f, slab_pin *pin) {
    if (!f || !pin) return SLAB_EARG;
    if (f->slot < 0 || pin->word < 0 || pin->word >= READER_PINS || pin->box == 0
        || load_acquire(f, pin_at(f->slot, pin->word)) != pin->box)
        return slab_fail(f, SLAB_ESTATE, "unpin of a pin this reader does not hold");
    int status = give_back(f, f->slot, pin->word, pin->box);
    pin->box = 0;
    pin->word = -1;
    return status;
}
