package slab.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import slab.ref.Lineage;

/**
 * A small workload over the model: a setup (run alone), one body per thread,
 * and the checks after every execution. Versions are roots of two-level
 * trees; each thread owns the counts of the versions it holds (as each
 * handle owns one count), and a thread that is killed leaves them to
 * recovery, which the checks model as a sweep.
 */
public abstract class Scenario {
    /** Versions each thread still holds (a count each); killed threads' handles go to recovery. */
    final List<List<Long>> held = new ArrayList<>();

    public abstract String name();

    public abstract int threads();

    abstract void setup(Model m);

    abstract void thread(Model m, int t);

    void holds(int t, long v) {
        while (held.size() <= t) held.add(new ArrayList<>());
        held.get(t).add(v);
    }

    void drops(Model m, int t, long v) {
        held.get(t).remove(v);
        Lineage.release(m, v);
    }

    // --- operations, as the map and vector code performs them ------------------------------------

    /** A fresh counted value (a blob: no slots). */
    static long value(Model m) { return m.alloc(false); }

    /** A new node with these slots, each already holding one count for it. */
    static long node(Model m, long... slots) { return m.alloc(true, slots); }

    /**
     * A path copy step: node h made from x with the given slots, of which
     * stored were put there by the edit (one count each, with repeats); the
     * rest are copied from x. h becomes x's heir if it can, else takes a
     * count on everything it copied.
     */
    static long copy(Model m, long x, long[] slots, long... stored) {
        long h = m.alloc(true, slots);
        if (Lineage.claim(m, x, h)) {
            Lineage.settle(m, x, h, stored, stored.length);
        } else {
            Map<Long, Integer> left = new HashMap<>();
            for (long c : stored) left.merge(c, 1, Integer::sum);
            for (long c : slots) {
                Integer k = left.get(c);
                if (k != null && k > 0) left.put(c, k - 1);
                else m.retain(c);
            }
        }
        return h;
    }

    /** Replaces slot i of child j of root r with a fresh value: returns the new root (one count). */
    static long assocPath(Model m, long r, int j, int i) {
        long[] rs = m.slotsOf(r);
        m.forEachSlot(r, c -> { });                    // the reader's view of r (a scheduling point)
        long child = rs[j];
        long[] cs = m.slotsOf(child).clone();
        m.forEachSlot(child, c -> { });
        long v = value(m);
        cs[i] = v;
        long child2 = copy(m, child, cs, v);
        long[] rs2 = rs.clone();
        rs2[j] = child2;
        return copy(m, r, rs2, child2);
    }

    /** Walks every block reachable from root r through slots, as a reader does: each must be live. */
    static void read(Model m, long r) {
        java.util.ArrayDeque<Long> work = new java.util.ArrayDeque<>();
        work.push(r);
        while (!work.isEmpty()) {
            long b = work.pop();
            if (m.count(b) <= 0) throw new AssertionError("reader found block " + b + " freed");
            m.forEachSlot(b, work::push);
        }
    }

    // --- checks -------------------------------------------------------------------------------------------

    void check(Model m, Schedule s) {
        List<Long> roots = new ArrayList<>(), all = new ArrayList<>();
        for (int t = 0; t < held.size(); t++) {
            all.addAll(held.get(t));
            if (t >= threads() || !s.killed(t)) roots.addAll(held.get(t));
        }
        if (s.anyKilled()) {
            atLeast(m, all);     // a kill leaks at worst: no count is below what its holders hold
            sweep(m, roots);
        }
        verify(m, roots);
    }

    /** Every block the held versions reach is live, with at least the counts its holders hold. */
    static void atLeast(Model m, List<Long> roots) {
        long[] expect = expected(m, roots, new boolean[(int) m.blocks()]);
        for (long b = 1; b < m.blocks(); b++)
            if (expect[(int) b] > 0 && (!m.live(b) || m.countOf(b) < expect[(int) b]))
                throw new AssertionError("block " + b + " has count " + m.countOf(b) + " (live " + m.live(b)
                    + ") below what its holders hold, " + expect[(int) b]);
    }

    /**
     * The counts the held versions and the blocks they reach hold on each
     * block; reach marks the blocks reached (through slots or base words).
     */
    private static long[] expected(Model m, List<Long> roots, boolean[] reach) {
        long[] expect = new long[(int) m.blocks()];
        java.util.ArrayDeque<Long> work = new java.util.ArrayDeque<>();
        for (long r : roots) {
            expect[(int) r]++;
            work.push(r);
        }
        while (!work.isEmpty()) {
            long b = work.pop();
            if (reach[(int) b]) continue;
            reach[(int) b] = true;
            if (!m.live(b)) throw new AssertionError("block " + b + " is reachable but freed");
            Lineage.forEachHeld(m, b, c -> {
                expect[(int) c]++;
                work.push(c);
            });
            for (long c : m.slotsOf(b)) work.push(c);
        }
        return expect;
    }

    /**
     * Every live block is reachable from a held version (through slots or
     * base words), its count is what the holders hold, and heir and base
     * words agree.
     */
    static void verify(Model m, List<Long> roots) {
        long n = m.blocks();
        boolean[] reach = new boolean[(int) n];
        long[] expect = expected(m, roots, reach);
        for (long b = 1; b < n; b++) {
            if (m.live(b) && !reach[(int) b]) throw new AssertionError("block " + b + " leaked (count " + m.countOf(b) + ")");
            if (!m.live(b)) continue;
            if (m.countOf(b) != expect[(int) b])
                throw new AssertionError("block " + b + " has count " + m.countOf(b) + ", its holders hold " + expect[(int) b]);
            long base = m.baseOf(b);
            if (base != 0 && m.heirOf(base) != b)
                throw new AssertionError("block " + b + " has base " + base + " whose heir is " + m.heirOf(base));
            long heir = m.heirOf(b);
            if (heir != 0 && (!m.live(heir) || m.baseOf(heir) != b))
                throw new AssertionError("block " + b + " names heir " + heir + " that does not borrow from it");
            if (heir != 0 && m.countOf(b) == 1)
                throw new AssertionError("block " + b + " is held only by its heir " + heir + " but did not pass on");
        }
    }

    /** Recovery's sweep: frees what no held version reaches, every node owns its slots, counts set afresh. */
    static void sweep(Model m, List<Long> roots) {
        long n = m.blocks();
        long[] refs = new long[(int) n];
        boolean[] mark = new boolean[(int) n];
        java.util.ArrayDeque<Long> work = new java.util.ArrayDeque<>();
        for (long r : roots) {
            refs[(int) r]++;
            work.push(r);
        }
        while (!work.isEmpty()) {
            long b = work.pop();
            if (mark[(int) b]) continue;
            mark[(int) b] = true;
            if (!m.live(b)) throw new AssertionError("block " + b + " is reachable but freed");
            for (long c : m.slotsOf(b)) {
                refs[(int) c]++;
                work.push(c);
            }
        }
        for (long b = 1; b < n; b++) {
            if (!m.live(b)) continue;
            if (!mark[(int) b]) {
                m.kill(b);
                continue;
            }
            m.setCount(b, refs[(int) b]);
            if (m.isLineage(b)) {
                m.setBase(b, 0);
                m.setHeir(b, 0);
            }
        }
    }
}
