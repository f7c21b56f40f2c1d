/*
 * Printing a value as EDN that clojure.edn/read-string reads back = to what
 * Clojure stored: strings keep every UTF-16 unit (unpaired surrogates as
 * \uXXXX escapes), doubles print the shortest text that reads back to the
 * same bits, big numbers in full, BigDecimals with their scale, dates as
 * #inst with three fraction digits and instants with nine (README, "The
 * native reader"). Collections print through slab_iter; the walk has a
 * budget of work (a unit per slot, and more for long text and big numbers,
 * which one slot can name many times over) and a nesting limit, so a
 * damaged file that loops back into itself ends in SLAB_ETOOBIG instead of
 * a hang.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct printer {
    slab_file *f;
    FILE *out;
    uint64_t budget;   /* work units left; UINT64_MAX: unlimited */
    int max_nesting;
    volatile sig_atomic_t *cancel;
} printer;

/* --- text ------------------------------------------------------------------------------- */

static void put_utf8(FILE *out, uint32_t c) {
    if (c < 0x80) fputc((int) c, out);
    else if (c < 0x800) { fputc(0xC0 | (int) (c >> 6), out); fputc(0x80 | (int) (c & 0x3F), out); }
    else if (c < 0x10000) {
        fputc(0xE0 | (int) (c >> 12), out);
        fputc(0x80 | (int) ((c >> 6) & 0x3F), out);
        fputc(0x80 | (int) (c & 0x3F), out);
    } else {
        fputc(0xF0 | (int) (c >> 18), out);
        fputc(0x80 | (int) ((c >> 12) & 0x3F), out);
        fputc(0x80 | (int) ((c >> 6) & 0x3F), out);
        fputc(0x80 | (int) (c & 0x3F), out);
    }
}

/* UTF-16 units as UTF-8; in a string literal (quoted) with EDN's escapes, and
 * unpaired surrogates (which UTF-8 cannot carry) as \uXXXX. */
static void put_text(FILE *out, const slab_text *t, int quoted) {
    for (uint32_t i = 0; i < t->length; i++) {
        uint32_t c = slab_text_unit(t, i);
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < t->length) {
            uint32_t d = slab_text_unit(t, i + 1);
            if (d >= 0xDC00 && d <= 0xDFFF) {
                put_utf8(out, 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00));
                i++;
                continue;
            }
        }
        if (quoted) {
            switch (c) {
            case '"': fputs("\\\"", out); continue;
            case '\\': fputs("\\\\", out); continue;
            case '\n': fputs("\\n", out); continue;
            case '\t': fputs("\\t", out); continue;
            case '\r': fputs("\\r", out); continue;
            case '\b': fputs("\\b", out); continue;
            case '\f': fputs("\\f", out); continue;
            default: break;
            }
            if (c < 0x20 || (c >= 0xD800 && c <= 0xDFFF)) {
                fprintf(out, "\\u%04x", c);
                continue;
            }
        }
        put_utf8(out, c);
    }
}

static void put_char(FILE *out, uint16_t c) {
    switch (c) {
    case '\n': fputs("\\newline", out); return;
    case ' ': fputs("\\space", out); return;
    case '\t': fputs("\\tab", out); return;
    case '\r': fputs("\\return", out); return;
    case '\b': fputs("\\backspace", out); return;
    case '\f': fputs("\\formfeed", out); return;
    default: break;
    }
    // Printable ASCII as itself; anything else as \uXXXX (EDN cannot read a
    // lone surrogate char at all: those print, but do not read back).
    if (c > 0x20 && c < 0x7F) fprintf(out, "\\%c", (char) c);
    else fprintf(out, "\\u%04x", c);
}

/* --- numbers -------------------------------------------------------------------------- */

static void put_double(FILE *out, double d) {
    if (isnan(d)) { fputs("##NaN", out); return; }
    if (isinf(d)) { fputs(d > 0 ? "##Inf" : "##-Inf", out); return; }
    char buf[40];
    // The shortest text that reads back to the same bits.
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &d, 8) == 0) break;
    }
    fputs(buf, out);
    // "1" or "-0" would read as a long: a double needs a point or an exponent.
    if (!strpbrk(buf, ".e")) fputs(".0", out);
}

/* Largest big number printed in decimal (longer ones take quadratic time). */
#define BIG_DECIMAL_MAX 65536

/* A two's complement big-endian number in decimal, with its sign; malloc'd. */
static char *big_decimal(const uint8_t *b, uint32_t n) {
    if (n > BIG_DECIMAL_MAX) return NULL;
    int neg = n > 0 && (b[0] & 0x80);
    size_t words = (n + 3) / 4 + 1;
    uint32_t *mag = calloc(words, sizeof *mag);   // little-endian 32-bit words
    char *digits = malloc((size_t) n * 3 + 16);
    if (!mag || !digits) { free(mag); free(digits); return NULL; }
    uint32_t carry = neg ? 1 : 0;
    for (uint32_t k = 0; k < n; k++) {   // from the least significant byte
        uint32_t byte = b[n - 1 - k];
        if (neg) {
            byte = (~byte & 0xFF) + carry;
            carry = byte >> 8;
            byte &= 0xFF;
        }
        mag[k / 4] |= byte << (8 * (k % 4));
    }
    size_t len = 0, top = words;
    while (top > 0 && mag[top - 1] == 0) top--;
    while (top > 0) {   // divide by 10^9, collecting nine digits a time
        uint64_t rem = 0;
        for (size_t w = top; w-- > 0;) {
            uint64_t cur = rem << 32 | mag[w];
            mag[w] = (uint32_t) (cur / 1000000000U);
            rem = cur % 1000000000U;
        }
        while (top > 0 && mag[top - 1] == 0) top--;
        for (int k = 0; k < 9; k++) {
            digits[len++] = (char) ('0' + rem % 10);
            rem /= 10;
            if (top == 0 && rem == 0) break;
        }
    }
    if (len == 0) digits[len++] = '0';
    if (neg) digits[len++] = '-';
    for (size_t i = 0; i < len / 2; i++) {
        char c = digits[i];
        digits[i] = digits[len - 1 - i];
        digits[len - 1 - i] = c;
    }
    digits[len] = 0;
    free(mag);
    return digits;
}

/* Takes `units` of work from the budget: printing a slot is one, 8 chars of
 * text one more, and an n-byte number in decimal n/8 + n^2/4096 (quadratic:
 * a 64 KiB number costs about a million slots). Slots are cheap to repeat,
 * so what one slot names must be paid for by size, or a vector naming one
 * long string or number thousands of times would print for hours. */
static int charge(printer *p, uint64_t units) {
    if (p->budget == UINT64_MAX) return SLAB_OK;
    if (p->budget < units) return slab_fail(p->f, SLAB_ETOOBIG, "the value is larger than the walk's budget");
    p->budget -= units;
    return SLAB_OK;
}

static uint64_t number_cost(uint64_t n) { return n / 8 + n * n / 4096; }

static int put_big(printer *p, const uint8_t *b, uint32_t n, const char *suffix) {
    if (n > BIG_DECIMAL_MAX) return slab_fail(p->f, SLAB_ETOOBIG, "a number of %u bytes is too long to print", n);
    int st = charge(p, number_cost(n));
    if (st) return st;
    char *s = big_decimal(b, n);
    if (!s) return slab_fail(p->f, SLAB_ETOOBIG, "a number of %u bytes is too long to print", n);
    fputs(s, p->out);
    fputs(suffix, p->out);
    free(s);
    return SLAB_OK;
}

/* unscaled x 10^-scale, with the scale kept: a point when 0 <= scale <= 1000, else an exponent. */
static int put_bigdec(printer *p, const slab_value *v) {
    if (v->as.dec.length > BIG_DECIMAL_MAX)
        return slab_fail(p->f, SLAB_ETOOBIG, "a BigDecimal of %u bytes is too long to print", v->as.dec.length);
    int st = charge(p, number_cost(v->as.dec.length));
    if (st) return st;
    char *s = big_decimal(v->as.dec.bytes, v->as.dec.length);
    if (!s) return slab_fail(p->f, SLAB_ETOOBIG, "a BigDecimal of %u bytes is too long to print", v->as.dec.length);
    int32_t scale = v->as.dec.scale;
    const char *digits = s[0] == '-' ? s + 1 : s;
    size_t len = strlen(digits);
    if (s[0] == '-') fputc('-', p->out);
    if (scale == 0) fputs(digits, p->out);
    else if (scale > 0 && scale <= 1000) {
        if (len > (size_t) scale) fprintf(p->out, "%.*s.%s", (int) (len - (size_t) scale), digits, digits + len - (size_t) scale);
        else {
            fputs("0.", p->out);
            for (size_t k = len; k < (size_t) scale; k++) fputc('0', p->out);
            fputs(digits, p->out);
        }
    } else fprintf(p->out, "%sE%" PRId64, digits, -(int64_t) scale);
    fputc('M', p->out);
    free(s);
    return SLAB_OK;
}

/* --- dates ----------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* #inst "YYYY-MM-DDTHH:MM:SS.<fraction>Z", years as java.time.Instant prints them. */
static void put_inst(FILE *out, int64_t secs, int64_t fraction, int digits) {
    int64_t days = floor_div(secs, 86400), sod = secs - days * 86400;
    // days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian)
    int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    fputs("#inst \"", out);
    if (y > 9999) fprintf(out, "+%" PRId64, y);
    else if (y < 0) fprintf(out, "-%04" PRId64, -y);
    else fprintf(out, "%04" PRId64, y);
    fprintf(out, "-%02d-%02dT%02d:%02d:%02d.%0*" PRId64 "Z\"", (int) m, (int) d, (int) (sod / 3600), (int) (sod / 60 % 60),
            (int) (sod % 60), digits, fraction);
}

/* --- values ------------------------------------------------------------------------------- */

static int print_value(printer *p, const slab_value *v, int depth);

static int print_coll(printer *p, const slab_value *v, int depth) {
    if (depth >= p->max_nesting)
        return slab_fail(p->f, SLAB_ETOOBIG, "collections nested more than %d deep (or a damaged file loops)", p->max_nesting);
    int vec = v->kind == SLAB_VECTOR || v->kind == SLAB_VECTOR_OF;   // EDN has no vector-of: a vector of its numbers
    const char *open = v->kind == SLAB_MAP ? "{" : v->kind == SLAB_SET ? "#{" : vec ? "[" : "(";
    const char *close = v->kind == SLAB_MAP || v->kind == SLAB_SET ? "}" : vec ? "]" : ")";
    slab_iter *it = malloc(sizeof *it);
    if (!it) return slab_fail(p->f, SLAB_ENOMEM, "out of memory");
    int st = slab_iter_begin(p->f, v, it);
    fputs(open, p->out);
    for (int first = 1; st == SLAB_OK; first = 0) {
        slab_value k, val;
        int r = slab_iter_next(it, &k, &val);
        if (r <= 0) { st = r; break; }
        if (!first) fputs(v->kind == SLAB_MAP ? ", " : " ", p->out);
        if ((st = print_value(p, &k, depth + 1))) break;
        if (v->kind == SLAB_MAP) {
            fputc(' ', p->out);
            st = print_value(p, &val, depth + 1);
        }
    }
    fputs(close, p->out);
    free(it);
    return st;
}

static int print_value(printer *p, const slab_value *v, int depth) {
    // A reader that cannot write (a closed pipe) or is told to stop ends its
    // walk, so that it still unpins and detaches instead of dying pinned.
    if (p->cancel && *p->cancel) return slab_fail(p->f, SLAB_EIO, "interrupted");
    if (ferror(p->out)) return slab_fail(p->f, SLAB_EIO, "writing the output failed");
    if (p->budget != UINT64_MAX) {
        if (p->budget == 0) return slab_fail(p->f, SLAB_ETOOBIG, "the value has more slots than the walk's budget");
        p->budget--;
    }
    int st = SLAB_OK;
    if (v->kind == SLAB_STRING) st = charge(p, v->as.str.length / 8);
    else if (v->kind == SLAB_KEYWORD || v->kind == SLAB_SYMBOL)
        st = charge(p, ((uint64_t) v->as.sym.ns.length + v->as.sym.name.length) / 8);
    if (st) return st;
    FILE *out = p->out;
    switch (v->kind) {
    case SLAB_NIL: fputs("nil", out); return SLAB_OK;
    case SLAB_FALSE: fputs("false", out); return SLAB_OK;
    case SLAB_TRUE: fputs("true", out); return SLAB_OK;
    case SLAB_LONG: fprintf(out, "%" PRId64, v->as.l); return SLAB_OK;
    case SLAB_DOUBLE: put_double(out, v->as.d); return SLAB_OK;
    case SLAB_FLOAT: put_double(out, (double) v->as.f); return SLAB_OK;   // EDN has no floats: the same value as a double
    case SLAB_CHAR: put_char(out, v->as.c); return SLAB_OK;
    case SLAB_BIGINT: case SLAB_BIGINTEGER:   // EDN has one big integer type: N
        if (!v->as.big.bytes) { fprintf(out, "%" PRId64 "N", v->as.big.small); return SLAB_OK; }
        return put_big(p, v->as.big.bytes, v->as.big.length, "N");
    case SLAB_DATE: {
        int64_t ms = v->as.l, secs = floor_div(ms, 1000);
        put_inst(out, secs, ms - secs * 1000, 3);
        return SLAB_OK;
    }
    case SLAB_KEYWORD: case SLAB_SYMBOL:
        if (v->kind == SLAB_KEYWORD) fputc(':', out);
        if (v->as.sym.has_ns) {
            put_text(out, &v->as.sym.ns, 0);
            fputc('/', out);
        }
        put_text(out, &v->as.sym.name, 0);
        return SLAB_OK;
    case SLAB_STRING:
        fputc('"', out);
        put_text(out, &v->as.str, 1);
        fputc('"', out);
        return SLAB_OK;
    case SLAB_BIGDECIMAL: return put_bigdec(p, v);
    case SLAB_RATIO:
        st = put_big(p, v->as.ratio.num, v->as.ratio.num_length, "/");
        return st ? st : put_big(p, v->as.ratio.den, v->as.ratio.den_length, "");
    case SLAB_UUID: {
        uint64_t a = v->as.uuid.msb, b = v->as.uuid.lsb;
        fprintf(out, "#uuid \"%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64 "\"", a >> 32,
                (a >> 16) & 0xFFFF, a & 0xFFFF, b >> 48, b & (uint64_t) 0xFFFFFFFFFFFFULL);
        return SLAB_OK;
    }
    case SLAB_INSTANT: put_inst(out, v->as.instant.seconds, v->as.instant.nanos, 9); return SLAB_OK;
    case SLAB_MAP: case SLAB_SET: case SLAB_VECTOR: case SLAB_LIST: case SLAB_VECTOR_OF: return print_coll(p, v, depth);
    }
    return slab_fail(p->f, SLAB_EDAMAGED, "a value of unknown kind");
}

int slab_print_edn(slab_file *f, const slab_value *v, FILE *out, const slab_print_limits *limits) {
    if (!f || !v || !out) return SLAB_EARG;
    printer p = {f, out, UINT64_MAX, 1000, NULL};
    if (limits) {
        if (limits->budget) p.budget = limits->budget;
        if (limits->max_nesting > 0) p.max_nesting = limits->max_nesting;
        p.cancel = limits->cancel;
    }
    int st = print_value(&p, v, 0);
    if (st == SLAB_OK && p.cancel && *p.cancel) st = slab_fail(f, SLAB_EIO, "interrupted");
    if (st == SLAB_OK && ferror(out)) st = slab_fail(f, SLAB_EIO, "writing the output failed");
    return st;
}
