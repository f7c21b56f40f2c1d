package slab.mem;

import static slab.mem.AllocatorDescriptor.*;
import static slab.mem.HeaderDescriptor.*;

import java.util.function.LongPredicate;

/**
 * The segment's pages: which are free, which hold a span of small blocks,
 * which a large block. Shared by every process, changed only under one lock
 * word in the header (page operations are rare: one per span of many blocks,
 * or per large block). The page table is the truth; the bins of free runs
 * and the run records in free pages are an index over it that
 * {@link #repair} rebuilds, so a process killed holding the lock costs the
 * next holder one pass over the page table, never a page lost or given out
 * twice.
 *
 * <p>Ordering, so that the page table alone is always right: pages are
 * handed out by writing their inner words first and the first page's word
 * last, after the caller has made the span header or block header valid;
 * they come back by writing the first page's word first. A first-page word
 * without all its inner words, or a large block whose header is not live,
 * is free.
 */
final class PagePool {
    private final Segment s;
    final long base;
    final long pages;
    private final LongPredicate commit;

    PagePool(Segment s, LongPredicate commit) {
        this.s = s;
        this.base = heapBase(s.capacity());
        this.pages = HeaderDescriptor.pages(s.capacity());
        this.commit = commit;
        this.lock = new SegmentLock(s, POOL_LOCK_OFFSET, this::repair);
    }

    long addr(long page) { return base + (page << PAGE_SHIFT); }
    long pageOf(long off) { return (off - base) >>> PAGE_SHIFT; }
    long word(long page) { return s.getLongVolatile(PAGE_TABLE_OFFSET + page * PAGE_WORD_LENGTH); }
    private void setWord(long page, long w) { s.putLongVolatile(PAGE_TABLE_OFFSET + page * PAGE_WORD_LENGTH, w); }
    long frontierPages() { return pageOf(s.getLongVolatile(FRONTIER_OFFSET)); }

    /** The first page of the span or large block that holds offset off; -1 if off is in no such run. */
    long headOf(long off) {
        if (off < base) return -1;
        long p = pageOf(off);
        if (p >= frontierPages()) return -1;
        long w = word(p);
        int k = pageKind(w);
        if (k == PAGE_INNER) {
            p -= pageCount(w);
            if (p < 0) return -1;
            w = word(p);
            k = pageKind(w);
        }
        return wellFormed(k, pageClass(w), pageCount(w)) ? p : -1;
    }

    /**
     * Can a first-page word of this kind, class and count be right? A span
     * of a small class has exactly spanPages(cls) pages, a large block of a
     * large class largePages(cls); anything else (a damaged class or count)
     * is no run at all, so no walk takes a size from it.
     */
    static boolean wellFormed(int kind, int cls, long n) {
        if (cls >= SizeClasses.COUNT) return false;
        if (kind == PAGE_SPAN) return isSmall(cls) && n == spanPages(cls);
        if (kind == PAGE_LARGE) return !isSmall(cls) && n == largePages(cls);
        return false;
    }

    // --- the lock ---------------------------------------------------------------------------------

    /** The pool's lock word; a holder that died half-way through a change is repaired after. */
    private final SegmentLock lock;

    /**
     * Runs body holding the pool: one thread of this process, and one
     * process, at a time. Reentrant: a body may call locked again.
     */
    <T> T locked(java.util.function.Supplier<T> body) { return lock.locked(body); }

    /** Does this thread hold the pool? (Page words change only under it, so a scan must.) */
    boolean held() { return lock.held(); }

    // --- taking and giving runs (the caller holds the lock) -----------------------------------------

    /** Runs looked at in a bin after the first that fits, looking for a closer fit. */
    private static final int FIT_LOOKS = 64;

    /**
     * Takes n contiguous free pages; -1 if there are none. Their words stay
     * free until the caller {@link #publish}es them. Nearly best fit (an
     * exact fit, else the smallest of the first runs that hold n in the
     * smallest bin that has one), so a small request does not split a run a
     * larger one will need, and a bin of many runs costs a bounded look.
     */
    long take(long n) {
        for (int b = bin(n); b < BINS; b++) {
            long best = -1, bestLen = Long.MAX_VALUE;
            int looks = 0;
            long walked = 0;
            for (long r = binHead(b); r >= 0 && bestLen != n && looks < FIT_LOOKS; r = link(r, RUN_NEXT_OFFSET)) {
                if (++walked > pages || r >= pages) throw damaged("bin " + b + " of free runs has a cycle or names page " + r);
                long len = runPages(r);
                if (best >= 0) looks++;
                if (len < n || len >= bestLen) continue;
                best = r;
                bestLen = len;
            }
            if (best < 0) continue;
            unlink(best);
            KillPoints.step("pool");
            if (bestLen > n) addRun(best + n, bestLen - n);
            return best;
        }
        // Grow at the frontier, together with a free run that ends there.
        long fp = frontierPages();
        long start = fp;
        long tail = 0;
        if (fp > 0 && pageKind(word(fp - 1)) == PAGE_FREE) {
            tail = s.getLong(addr(fp - 1) + RUN_PAGES_OFFSET);
            start = fp - tail;
            if (tail < 1 || start < 0 || pageKind(word(start)) != PAGE_FREE)
                throw new IllegalStateException("slab: the free run below the frontier has a bad record: " + tail
                    + " pages at page " + (fp - 1));
        }
        if (start + n > pages || !commit.test(addr(start + n))) return -1;
        if (tail > 0) unlink(start);
        KillPoints.step("pool");
        s.putLongVolatile(FRONTIER_OFFSET, addr(start + n));
        for (long p = fp; p < start + n; p++) setWord(p, pageWord(PAGE_FREE, 0, 0));
        return start;
    }

    /** Hands pages [p, p+n) out as a span or large block: inner words first, the first page's last. */
    void publish(long p, long n, int kind, int cls) {
        for (long i = 1; i < n; i++) setWord(p + i, pageWord(PAGE_INNER, cls, i));
        KillPoints.step("pool");
        setWord(p, pageWord(kind, cls, n));
    }

    /** Returns the span or large block starting at page p, merging it with free neighbours. */
    void give(long p) {
        long n = pageCount(word(p));
        setWord(p, pageWord(PAGE_FREE, 0, 0));
        KillPoints.step("pool");
        for (long i = 1; i < n; i++) setWord(p + i, pageWord(PAGE_FREE, 0, 0));
        long start = p, len = n;
        if (p > 0 && pageKind(word(p - 1)) == PAGE_FREE) {
            long left = s.getLong(addr(p - 1) + RUN_PAGES_OFFSET);
            if (left < 1 || left > p) throw damaged("the free run before page " + p + " records " + left + " pages");
            start = p - left;
            unlink(start);
            len += left;
        }
        long right = p + n;
        if (right < frontierPages() && pageKind(word(right)) == PAGE_FREE) {
            long rl = runPages(right);
            if (rl < 1 || right + rl > frontierPages()) throw damaged("the free run at page " + right + " records " + rl + " pages");
            unlink(right);
            len += rl;
        }
        KillPoints.step("pool");
        addRun(start, len);
    }

    // --- bins -----------------------------------------------------------------------------------------

    private static int bin(long n) { return 63 - Long.numberOfLeadingZeros(n); }

    private long runPages(long r) { return s.getLong(addr(r) + RUN_PAGES_OFFSET); }

    /** A link field of run r's record, as a page index (-1 for none; stored as page + 1). */
    private long link(long r, int field) { return s.getLong(addr(r) + field) - 1; }

    private void setLink(long r, int field, long to) { s.putLong(addr(r) + field, to + 1); }

    private long binHead(int b) { return s.getLongVolatile(POOL_BINS_OFFSET + 8L * b) - 1; }

    private void setBinHead(int b, long r) { s.putLongVolatile(POOL_BINS_OFFSET + 8L * b, r + 1); }

    /** Records a free run [r, r+len) (its page words are already free) and files it in its bin. */
    private void addRun(long r, long len) {
        s.putLong(addr(r) + RUN_PAGES_OFFSET, len);
        if (len > 1) s.putLong(addr(r + len - 1) + RUN_PAGES_OFFSET, len);
        int b = bin(len);
        long head = binHead(b);
        setLink(r, RUN_PREV_OFFSET, -1);
        setLink(r, RUN_NEXT_OFFSET, head);
        if (head >= 0) setLink(head, RUN_PREV_OFFSET, r);
        setBinHead(b, r);
    }

    private void unlink(long r) {
        long prev = link(r, RUN_PREV_OFFSET), next = link(r, RUN_NEXT_OFFSET);
        if (prev >= 0) setLink(prev, RUN_NEXT_OFFSET, next);
        else setBinHead(bin(runPages(r)), next);
        if (next >= 0) setLink(next, RUN_PREV_OFFSET, prev);
    }

    // --- rebuilding the index from the page table -------------------------------------------------------

    /** Is page p the first page of a whole span or large block (so the pages it names are not free)? */
    private boolean inUse(long p, long fp) {
        long w = word(p);
        int k = pageKind(w);
        long n = pageCount(w);
        if (!wellFormed(k, pageClass(w), n) || p + n > fp) return false;
        for (long i = 1; i < n; i++) {
            long iw = word(p + i);
            if (pageKind(iw) != PAGE_INNER || pageCount(iw) != i) return false;
        }
        return k == PAGE_SPAN || stateOf(s.getLongVolatile(addr(p))) == STATE_LIVE;
    }

    /**
     * Rebuilds the bins from the page table: every page below the frontier
     * that is not part of a whole span or live large block is free, and
     * neighbouring free pages form one run. The caller holds the lock (or
     * the segment is still).
     */
    void repair() {
        for (int b = 0; b < BINS; b++) setBinHead(b, -1);
        long fp = frontierPages();
        long p = 0;
        while (p < fp) {
            if (inUse(p, fp)) {
                p += pageCount(word(p));
                continue;
            }
            long q = p;
            while (q < fp && !inUse(q, fp)) {
                setWord(q, pageWord(PAGE_FREE, 0, 0));
                q++;
            }
            addRun(p, q - p);
            p = q;
        }
    }

    /**
     * Calls f with (first page, page word) for every span and large block
     * below the frontier, holding the pool (a page word read without it may
     * name a run that is gone and whose pages now hold anything).
     */
    void forEachRun(RunVisitor f) {
        locked(() -> {
            scan(f);
            return null;
        });
    }

    private void scan(RunVisitor f) {
        scanRange(0, frontierPages(), (p, w) -> {
            f.visit(p, w);
            return false;
        });
    }

    interface RunVisitor { void visit(long page, long word); }

    interface RunFinder { boolean found(long page, long word); }

    /**
     * The first span or large block, from page from to the frontier and then
     * from the start round to from, for which f says found; -1 if none.
     * Holds the pool, as forEachRun. A caller that resumes after the page it
     * was last given walks the table once over many calls, not once per call.
     */
    long findRun(long from, RunFinder f) {
        return locked(() -> {
            long fp = frontierPages();
            long start = Math.min(Math.max(0, from), fp);
            long hit = scanRange(start, fp, f);
            return hit >= 0 ? hit : scanRange(0, start, f);
        });
    }

    private long scanRange(long from, long to, RunFinder f) {
        long fp = frontierPages();
        long p = from;
        while (p < to) {
            long w = word(p);
            int k = pageKind(w);
            long n = pageCount(w);
            if (wellFormed(k, pageClass(w), n) && p + n <= fp) {
                if (f.found(p, w)) return p;
                p += n;
            } else {
                p++;
            }
        }
        return -1;
    }

    /** Free pages below the frontier (walking the bins), for audits. */
    long freePagesInBins() {
        long total = 0, walked = 0;
        for (int b = 0; b < BINS; b++)
            for (long r = binHead(b); r >= 0; r = link(r, RUN_NEXT_OFFSET)) {
                if (++walked > pages || r >= pages) throw damaged("bin " + b + " of free runs has a cycle or names page " + r);
                total += runPages(r);
            }
        return total;
    }

    private RuntimeException damaged(String what) {
        return slab.Errors.info("damaged-segment", "Segment " + s.describe() + " is damaged: its page pool is "
            + "inconsistent (" + what + "). Run slab/verify on it; slab/recover! rebuilds the pool when no other "
            + "process is attached.", "path", s.describe());
    }
}
