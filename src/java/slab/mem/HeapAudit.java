package slab.mem;

import static slab.mem.AllocatorDescriptor.*;
import static slab.mem.HeaderDescriptor.*;

import java.util.HashSet;

/**
 * Checks the allocator's structures against each other, for tests and
 * diagnostics of a still segment (no thread or process allocating): the
 * page table tiles the heap below the frontier into free runs, spans and
 * large blocks; the bins hold exactly the free pages, in maximal runs; every
 * span's local list and remote stack hold distinct free blocks of the span
 * and its used count is every other block below its bump. Throws the
 * damaged-segment error naming the first inconsistency.
 */
public final class HeapAudit {
    private HeapAudit() {}

    /** What a clean audit found. */
    public record Report(long freePages, long spans, long largeBlocks, long liveBlocks, long liveBytes,
                         long freeRuns, long largestFreeRun) { }

    public static Report check(Segment s) {
        PagePool pool = s.allocator().pool();
        long fp = pool.frontierPages();
        if (fp > pool.pages) fail("frontier beyond the heap: " + fp + " pages of " + pool.pages);
        long free = 0, spans = 0, large = 0, live = 0, liveBytes = 0;
        long p = 0;
        while (p < fp) {
            long w = pool.word(p);
            int k = pageKind(w);
            if (k == PAGE_FREE) {
                free++;
                p++;
                continue;
            }
            if (k != PAGE_SPAN && k != PAGE_LARGE) fail("page " + p + " below the frontier has kind " + k);
            long n = pageCount(w);
            if (n < 1 || p + n > fp) fail("run at page " + p + " has " + n + " pages");
            if (!PagePool.wellFormed(k, pageClass(w), n))
                fail("run at page " + p + " has " + n + " pages for class " + pageClass(w));
            for (long i = 1; i < n; i++) {
                long iw = pool.word(p + i);
                if (pageKind(iw) != PAGE_INNER || pageCount(iw) != i)
                    fail("page " + (p + i) + " inside the run at page " + p + " is not its inner page");
            }
            int cls = pageClass(w);
            long off = pool.addr(p);
            if (k == PAGE_LARGE) {
                large++;
                long h = s.getLongVolatile(off);
                if (stateOf(h) != STATE_LIVE || classOf(h) != cls) fail("large block at " + off + " is not live");
                if (n != largePages(cls)) fail("large block at " + off + " has " + n + " pages for class " + cls);
                live++;
                liveBytes += SizeClasses.sizeOf(cls);
            } else {
                spans++;
                if (!isSmall(cls) || n != spanPages(cls)) fail("span at " + off + " has " + n + " pages for class " + cls);
                long[] counts = span(s, off, cls);
                live += counts[0];
                liveBytes += counts[0] * SizeClasses.sizeOf(cls);
            }
            p += n;
        }
        long[] runs = bins(s, pool, fp);
        if (runs[0] != free) fail("the bins hold " + runs[0] + " pages but " + free + " pages are free");
        return new Report(free, spans, large, live, liveBytes, runs[1], runs[2]);
    }

    /** {live blocks} of a span, after checking its lists and count. */
    private static long[] span(Segment s, long span, int cls) {
        long size = SizeClasses.sizeOf(cls);
        long first = Spans.first(span), end = Spans.end(span, cls);
        long bump = s.getLongVolatile(span + SPAN_BUMP_OFFSET);
        if (bump < first || bump > end || (bump - first) % size != 0) fail("span at " + span + " has bump " + bump);
        HashSet<Long> local = walk(s, span, s.getLongVolatile(span + SPAN_LOCAL_OFFSET), first, bump, size,
            STATE_FREE, "local list");
        HashSet<Long> remote = walk(s, span, s.getLongVolatile(span + SPAN_REMOTE_OFFSET), first, bump, size,
            STATE_REMOTE, "remote stack");
        for (long b : remote) if (local.contains(b)) fail("block " + b + " is on both lists of span " + span);
        long blocks = (bump - first) / size, liveCount = 0;
        for (long b = first; b < bump; b += size) {
            long h = s.getLongVolatile(b);
            int st = stateOf(h);
            if (st == STATE_LIVE) {
                if (classOf(h) != cls) fail("live block " + b + " has class " + classOf(h) + " in a span of " + cls);
                liveCount++;
            } else if (!local.contains(b) && !remote.contains(b)) {
                fail("block " + b + " of span " + span + " is neither live nor on a list (state " + st + ")");
            }
        }
        long used = s.getLongVolatile(span + SPAN_USED_OFFSET);
        if (used != blocks - local.size()) fail("span " + span + " counts " + used + " blocks used, "
            + (blocks - local.size()) + " are off its local list");
        return new long[] {liveCount};
    }

    private static HashSet<Long> walk(Segment s, long span, long head, long first, long bump, long size,
                                      int state, String what) {
        HashSet<Long> seen = new HashSet<>();
        for (long b = head; b != 0; b = s.getLongVolatile(b + NEXT_FREE_OFFSET)) {
            if (b < first || b >= bump || (b - first) % size != 0) fail(what + " of span " + span + " names " + b);
            if (!seen.add(b)) fail(what + " of span " + span + " has a cycle at " + b);
            if (stateOf(s.getLongVolatile(b)) != state) fail(what + " of span " + span + " holds " + b
                + " in state " + stateOf(s.getLongVolatile(b)));
        }
        return seen;
    }

    /** {pages in bins, runs, largest run}, after checking each run is free, maximal and in the right bin. */
    private static long[] bins(Segment s, PagePool pool, long fp) {
        long total = 0, runs = 0, largest = 0;
        HashSet<Long> starts = new HashSet<>();
        for (int b = 0; b < BINS; b++) {
            long prev = -1;
            for (long r = s.getLongVolatile(POOL_BINS_OFFSET + 8L * b) - 1; r >= 0;
                 r = s.getLong(pool.addr(r) + RUN_NEXT_OFFSET) - 1) {
                if (r >= fp || !starts.add(r)) fail("bin " + b + " names page " + r + " twice or beyond the frontier");
                if (s.getLong(pool.addr(r) + RUN_PREV_OFFSET) - 1 != prev) fail("run at page " + r + " has a wrong back link");
                long len = s.getLong(pool.addr(r) + RUN_PAGES_OFFSET);
                if (len < 1 || r + len > fp || 63 - Long.numberOfLeadingZeros(len) != b)
                    fail("run at page " + r + " of " + len + " pages is in bin " + b);
                for (long i = 0; i < len; i++)
                    if (pageKind(pool.word(r + i)) != PAGE_FREE) fail("run at page " + r + " holds a page in use");
                if (r > 0 && pageKind(pool.word(r - 1)) == PAGE_FREE) fail("free run at page " + r + " was not merged with the one before");
                if (r + len < fp && pageKind(pool.word(r + len)) == PAGE_FREE) fail("free run at page " + r + " was not merged with the one after");
                total += len;
                runs++;
                largest = Math.max(largest, len);
                prev = r;
            }
        }
        return new long[] {total, runs, largest};
    }

    /**
     * The audit's finding, as the damaged-segment error (its checks bound
     * every loop: sizes come from validated classes, lists are walked with a
     * visited set, so a damaged heap ends the audit here rather than hanging).
     */
    private static void fail(String why) {
        throw slab.Errors.info("damaged-segment", "slab heap audit: " + why, "expected", why);
    }
}
