package slab.ref;

import slab.mem.KillPoints;
import slab.mem.LongStack;

/**
 * Reference counting with lazily propagated counts (after Rodeh's shadowed
 * B-trees with clones). A path copy H of node X does not add a count to
 * every child it shares with X: it becomes X's <em>heir</em>, holds one count
 * on X (its <em>base</em>) and borrows X's children. Exactly:
 *
 * <ul>
 * <li>a node K with base B holds, for every block c among its counted
 *     slots, (k(c) - b(c))+ counts, where k(c) and b(c) are how often c
 *     appears in K's and B's slots, plus one count on B; a node without a
 *     base holds one count per slot;</li>
 * <li>a node has at most one heir (its heir word); the heir's count on it
 *     is the only count a node can be left with once every version that
 *     reached it is gone. Then it <em>passes on</em>: its heir takes its
 *     base and the counts it held on what the heir shares, the rest are
 *     released, and the node is freed. So a chain of versions dropped in any
 *     order costs O(depth) count updates per version, not O(depth x fanout).</li>
 * </ul>
 *
 * <p>Readers never look at base or heir words: every slot of a live node
 * names a live block (a borrowed one is held by the base, which the node
 * holds). Heir and base words change only under one lock per segment (a
 * death of a node with a base, a passing on); a copy claims a node with one
 * compare-and-set of its heir word from 0. Every step is ordered so that a
 * process killed anywhere leaves at worst a leak, which the sweep of
 * recovery reclaims (it also flattens every lineage: base and heir 0, every
 * node owning its slots). The argument, step by step, is in FORMAT.md
 * ("Lineage").
 *
 * <p>The protocol is written against {@link Memory} so that a model checker
 * can run this very code over a model memory, yielding to a scheduler at
 * every shared access.
 */
public final class Lineage {
    private Lineage() {}

    /** What the protocol reads and writes. Every method is one shared access. */
    public interface Memory {
        /** The reference count of block b, or -1 if b is not a live block. */
        long count(long b);

        boolean casCount(long b, long expect, long update);

        /** Adds one count to live block b (throws if it is not live). */
        void retain(long b);

        /** Does b carry base and heir words (a node that can be copied lazily)? */
        boolean isLineage(long b);

        long base(long b);

        void setBase(long b, long base);

        long heir(long b);

        void setHeir(long b, long heir);

        boolean casHeir(long b, long expect, long update);

        /** Calls v for each counted slot of b, with repeats (its contents never change once published). */
        void forEachSlot(long b, RefVisitor v);

        /** Puts b's counted slots into out, in the order forEachSlot visits them. */
        default void collectSlots(long b, SlotList out) { forEachSlot(b, out); }

        /**
         * Puts into xs and ys the counted slots of x and of its base y, less
         * the slots both hold at the same place, which add nothing to the
         * (x(c) - y(c))+ of any block (a copy differs from its base at a
         * few places). The whole lists are a valid answer too.
         */
        default void collectDiffering(long x, long y, SlotList xs, SlotList ys) {
            collectSlots(x, xs);
            collectSlots(y, ys);
        }

        /** Frees b, whose count is 0. */
        void free(long b);

        /** The lock over heir and base words (one per segment, across processes). */
        void lock();

        void unlock();
    }

    // --- copying ---------------------------------------------------------------------------

    /**
     * Makes h, a fresh copy of x that nobody else can see yet, x's heir if x
     * has none: h then holds a count on x and borrows its slots. The caller
     * holds x (through the version it copies). Returns false if x has an
     * heir already; h must then hold a count on every slot it shares with x.
     */
    public static boolean claim(Memory m, long x, long h) {
        if (m.heir(x) != 0) return false;
        m.setBase(h, x);
        m.retain(x);
        KillPoints.step("lineage");
        if (m.casHeir(x, 0, h)) return true;
        m.setBase(h, 0);
        release(m, x);   // never the last count: the caller holds x
        return false;
    }

    /**
     * After an heir h of x was edited: the edits stored the blocks in stored
     * (one count each, with repeats), but h owes only (h(c) - x(c))+ counts on
     * a block c (one stored twice, or stored where x has it too, is borrowed).
     * Gives back the excess (never a last count: x holds those).
     */
    public static void settle(Memory m, long x, long h, long[] stored, int n) {
        Scratch sc = Scratch.get();
        SlotList xs = slotsOf(m, x, sc.x), hs = slotsOf(m, h, sc.h);
        LongStack excess = new LongStack();   // released after the look: a release reuses the scratch lists
        for (int i = 0; i < n; i++) {
            long c = stored[i];
            boolean first = true;
            for (int j = 0; j < i; j++) if (stored[j] == c) first = false;
            if (!first) continue;
            long held = 0;
            for (int j = i; j < n; j++) if (stored[j] == c) held++;
            long need = pos(hs.count(c) - xs.count(c));
            for (long k = need; k < held; k++) excess.push(c);
        }
        while (!excess.isEmpty()) release(m, excess.pop());
    }

    /** {@link #settle} for one stored block (0 for none). */
    public static void settle(Memory m, long x, long h, long stored) {
        if (stored == 0) return;
        Scratch sc = Scratch.get();
        if (pos(slotsOf(m, h, sc.h).count(stored) - slotsOf(m, x, sc.x).count(stored)) == 0) release(m, stored);
    }

    // --- releasing -------------------------------------------------------------------------

    /** Drops one count on b; a block left with none is freed with what only it held, iteratively. */
    public static void release(Memory m, long b) {
        Scratch sc = Scratch.get();
        // The thread's work list, unless a release on this thread is using it already.
        LongStack work = sc.workInUse ? new LongStack() : sc.work;
        boolean mine = work == sc.work;
        sc.workInUse = true;
        work.push(b);
        boolean locked = false;
        try {
            while (!work.isEmpty()) {
                long x = work.pop();
                long left;
                while (true) {
                    long c = m.count(x);
                    if (c <= 0) throw notLive(x);
                    // Maybe down to the heir's count: decide under the lock, so the heir cannot die
                    // meanwhile. (Whether x has an heir is not asked first: a copy may claim x between
                    // that look and the decrement, and x would miss its passing on.)
                    if (c == 2 && !locked && m.isLineage(x)) {
                        m.lock();
                        locked = true;
                        continue;
                    }
                    if (m.casCount(x, c, c - 1)) {
                        left = c - 1;
                        break;
                    }
                }
                if (left == 0) {
                    if (!locked && m.isLineage(x)) {
                        m.lock();
                        locked = true;
                    }
                    die(m, x, work, sc);
                } else if (left == 1 && locked && m.isLineage(x)) {
                    passOn(m, x, work);
                }
            }
        } finally {
            if (locked) m.unlock();
            if (mine) {
                while (!work.isEmpty()) work.pop();   // left by an exception
                sc.workInUse = false;
            }
        }
    }

    /** x's count is 0 (the lock held if x is a lineage node): x goes, its counts go on the work list. */
    private static void die(Memory m, long x, LongStack work, Scratch sc) {
        long b = m.isLineage(x) ? m.base(x) : 0;
        if (b != 0 && m.heir(b) == x) m.setHeir(b, 0);
        KillPoints.step("lineage");
        pushOwned(m, x, b, work, sc);
        if (b != 0) work.push(b);
        m.free(x);
    }

    /**
     * x is left with one count (the lock held): if that is its heir's, x
     * passes on to the heir and is freed. Checks first, changes after, in
     * an order where a kill at any step leaves a leak at worst:
     * the base's heir word, then the heir's base word, then the counts.
     */
    private static void passOn(Memory m, long x, LongStack work) {
        long h = m.heir(x);
        if (h == 0) return;
        // The heir is dying (its death waits for the lock and will release x), or the word is stale.
        if (m.count(h) <= 0 || !m.isLineage(h) || m.base(h) != x) return;
        // Read after the heir word: a copy claims x by a count first, then the word, so a
        // claim made since x came down to one count shows here. One count left is then h's.
        if (m.count(x) != 1) return;
        long w = m.base(x);
        if (w != 0 && m.heir(w) != x) return;   // left by a process killed half-way: x stays until h dies
        Scratch sc = Scratch.get();
        SlotList xs = slotsOf(m, x, sc.x), hs = slotsOf(m, h, sc.h), ws = w == 0 ? sc.w.clear() : slotsOf(m, w, sc.w);
        if (w != 0) m.setHeir(w, h);
        KillPoints.step("lineage");
        m.setBase(h, w);
        KillPoints.step("lineage");
        if (!m.casCount(x, 1, 0)) throw new IllegalStateException("slab: count of node " + x + " changed while it passed on");
        // What x held and h will not: (x-w)+ + (h-x)+ - (h-w)+ counts of each block. Without
        // a base that is (x-h)+; with one, each block's three multiplicities are counted.
        if (w == 0) {
            pushExcess(xs, hs, sc, work);
            KillPoints.step("lineage");
            m.free(x);
            return;
        }
        if (xs.n == hs.n) {
            // r(c) = (x - max(h, w))+ + (min(h, w) - x)+ is 0 for every block whose x and h
            // counts agree, which holds for all but those at the few places h changed.
            SlotList d = sc.da.clear();
            for (int p = 0; p < xs.n; p++) {
                if (xs.s[p] == hs.s[p]) continue;
                d.visit(xs.s[p]);
                d.visit(hs.s[p]);
            }
            for (int p = 0; p < d.n; p++) {
                long c = d.s[p];
                boolean seen = false;
                for (int q = 0; q < p && !seen; q++) seen = d.s[q] == c;
                if (seen) continue;
                long xc = xs.count(c), hc = hs.count(c), wc = ws.count(c);
                push(work, c, pos(xc - wc) + pos(hc - xc) - pos(hc - wc));
            }
            KillPoints.step("lineage");
            m.free(x);
            return;
        }
        Counter k = sc.counter.clear();
        for (int p = 0; p < xs.n; p++) k.add(xs.s[p], 0);
        for (int p = 0; p < hs.n; p++) k.add(hs.s[p], 1);
        for (int p = 0; p < ws.n; p++) k.add(ws.s[p], 2);
        for (int e = 0; e < k.size; e++) {
            int at = k.used[e];
            long xc = k.x[at], hc = k.h[at], wc = k.w[at];
            push(work, k.keys[at], pos(xc - wc) + pos(hc - xc) - pos(hc - wc));
        }
        KillPoints.step("lineage");
        m.free(x);
    }

    /** b's counted slots, read into the thread's list into. */
    private static SlotList slotsOf(Memory m, long b, SlotList into) {
        m.collectSlots(b, into.clear());
        return into;
    }

    private static long pos(long v) { return Math.max(0, v); }

    private static void push(LongStack work, long c, long times) {
        if (times < 0) throw new IllegalStateException("slab: negative release count for block " + c);
        for (long i = 0; i < times; i++) work.push(c);
    }

    /** Pushes the counts x holds on its slots: all of them, or (x(c) - b(c))+ of each c with base b. */
    private static void pushOwned(Memory m, long x, long b, LongStack work, Scratch sc) {
        if (b == 0) {
            SlotList xs = slotsOf(m, x, sc.x);   // a method reference to work.push would allocate per call
            for (int i = 0; i < xs.n; i++) work.push(xs.s[i]);
            return;
        }
        SlotList xs = sc.x.clear(), bs = sc.w.clear();
        m.collectDiffering(x, b, xs, bs);
        pushExcess(xs, bs, sc, work);
    }

    /**
     * Pushes (a(c) - b(c))+ of each block c. A copy keeps its original's
     * slots in their places but for the one or two it changed, so when the
     * lists are as long, only the places that differ are compared (what is
     * equal at one place is in both lists, so leaving it out of both changes
     * no difference); else each block's counts are tallied in the thread's
     * Counter.
     */
    private static void pushExcess(SlotList a, SlotList b, Scratch sc, LongStack work) {
        if (a.n == b.n) {
            SlotList da = sc.da.clear(), db = sc.db.clear();
            for (int i = 0; i < a.n; i++) {
                if (a.s[i] == b.s[i]) continue;
                da.visit(a.s[i]);
                db.visit(b.s[i]);
            }
            for (int i = 0; i < da.n; i++) {
                long c = da.s[i];
                int at = -1;
                for (int j = 0; j < db.n && at < 0; j++) if (db.s[j] == c) at = j;
                if (at >= 0) db.s[at] = 0;   // matched: no slot names offset 0
                else work.push(c);
            }
            return;
        }
        Counter k = sc.counter.clear();
        for (int p = 0; p < a.n; p++) k.add(a.s[p], 0);
        for (int p = 0; p < b.n; p++) k.add(b.s[p], 1);
        for (int e = 0; e < k.size; e++) {
            int at = k.used[e];
            push(work, k.keys[at], pos(k.x[at] - k.h[at]));
        }
    }

    /**
     * Calls v once for every count block b holds: on its base, and on its
     * slots as {@link #pushOwned} counts them (what verify expects).
     */
    public static void forEachHeld(Memory m, long b, RefVisitor v) {
        long base = m.isLineage(b) ? m.base(b) : 0;
        LongStack s = new LongStack();
        pushOwned(m, b, base, s, Scratch.get());
        while (!s.isEmpty()) v.visit(s.pop());
        if (base != 0) v.visit(base);
    }

    private static IllegalStateException notLive(long b) {
        return new IllegalStateException("slab: release of a block that is not live at offset " + b
            + " (reference count would go below zero)");
    }

    /** How often each block appears in up to three slot lists: an open-addressing table (no slot is 0). */
    static final class Counter {
        long[] keys = new long[128];
        int[] x = new int[128], h = new int[128], w = new int[128];
        int[] used = new int[128];
        int size;

        Counter clear() {
            for (int e = 0; e < size; e++) {
                int at = used[e];
                keys[at] = 0;
                x[at] = h[at] = w[at] = 0;
            }
            size = 0;
            return this;
        }

        void add(long c, int list) {
            if (2 * (size + 1) > keys.length) grow();
            int at = place(c);
            if (list == 0) x[at]++;
            else if (list == 1) h[at]++;
            else w[at]++;
        }

        private int place(long c) {
            int mask = keys.length - 1;
            int at = (int) ((c >>> 4) * 0x9E3779B97F4A7C15L >>> 40) & mask;
            while (keys[at] != 0 && keys[at] != c) at = (at + 1) & mask;
            if (keys[at] == 0) {
                keys[at] = c;
                used[size++] = at;
            }
            return at;
        }

        private void grow() {
            long[] ok = keys;
            int[] ox = x, oh = h, ow = w, ou = used;
            int n = size;
            keys = new long[ok.length * 2];
            x = new int[ok.length * 2];
            h = new int[ok.length * 2];
            w = new int[ok.length * 2];
            used = new int[ok.length * 2];
            size = 0;
            for (int e = 0; e < n; e++) {
                int from = ou[e], at = place(ok[from]);
                x[at] = ox[from];
                h[at] = oh[from];
                w[at] = ow[from];
            }
        }
    }

    /** Per thread: the slot lists of the node passing on or dying, its heir and its base. */
    private static final class Scratch {
        final SlotList x = new SlotList(), h = new SlotList(), w = new SlotList(), da = new SlotList(), db = new SlotList();
        final Counter counter = new Counter();
        final LongStack work = new LongStack();
        boolean workInUse;
        private static final ThreadLocal<Scratch> TL = ThreadLocal.withInitial(Scratch::new);

        static Scratch get() { return TL.get(); }
    }
}
