package slab.model;

import java.util.ArrayList;
import java.util.List;

import slab.ref.Lineage;
import slab.ref.RefVisitor;

/**
 * A model memory for {@link Lineage}: blocks are small numbers that are
 * never reused, each with a count, a live flag, its slots (fixed when it is
 * made) and, for lineage nodes, base and heir words. Every access is a
 * scheduling point. Reading what the protocol must never read (a freed
 * block's slots, a count going below zero, freeing a block twice or with a
 * count) is recorded as the model's failure.
 */
final class Model implements Lineage.Memory {
    final Schedule schedule;
    private final List<long[]> slots = new ArrayList<>();
    private final List<Boolean> lineage = new ArrayList<>();
    private long[] count = new long[64], base = new long[64], heir = new long[64];
    private boolean[] live = new boolean[64];
    volatile String failure;
    /** What each thread did, for the report of a failed schedule. */
    final StringBuilder log = new StringBuilder();

    private void note(String what) {
        int t = schedule.current();
        if (t >= 0) log.append("\n  T").append(t).append(' ').append(what);
    }

    Model(int threads) {
        schedule = new Schedule(threads);
        slots.add(new long[0]);
        lineage.add(false);      // block 0 is null
    }

    private void fail(String what) {
        if (failure == null) failure = what;
        throw new AssertionError(what);
    }

    /** A new block with one count (made privately: no scheduling point). */
    synchronized long alloc(boolean isLineage, long... contents) {
        long b = slots.size();
        slots.add(contents.clone());
        lineage.add(isLineage);
        if (b >= count.length) {
            int n = count.length * 2;
            count = java.util.Arrays.copyOf(count, n);
            base = java.util.Arrays.copyOf(base, n);
            heir = java.util.Arrays.copyOf(heir, n);
            live = java.util.Arrays.copyOf(live, n);
        }
        count[(int) b] = 1;
        live[(int) b] = true;
        note("alloc " + b + (isLineage ? " node " : " value ") + java.util.Arrays.toString(contents));
        return b;
    }

    long blocks() { return slots.size(); }

    boolean live(long b) { return live[(int) b]; }

    long countOf(long b) { return count[(int) b]; }

    long[] slotsOf(long b) { return slots.get((int) b); }

    long baseOf(long b) { return base[(int) b]; }

    long heirOf(long b) { return heir[(int) b]; }

    void setCount(long b, long c) { count[(int) b] = c; }

    void kill(long b) { live[(int) b] = false; }

    // --- Lineage.Memory: one scheduling point each ---------------------------------------------

    @Override public long count(long b) {
        schedule.point();
        return live[(int) b] ? count[(int) b] : -1;
    }

    @Override public boolean casCount(long b, long expect, long update) {
        schedule.point();
        if (!live[(int) b] || count[(int) b] != expect) return false;
        if (update < 0) fail("count of " + b + " below zero");
        note("count " + b + ": " + expect + " -> " + update);
        count[(int) b] = update;
        return true;
    }

    @Override public void retain(long b) {
        schedule.point();
        if (!live[(int) b] || count[(int) b] <= 0) fail("retain of block " + b + " that is not live");
        note("retain " + b + ": " + count[(int) b] + " -> " + (count[(int) b] + 1));
        count[(int) b]++;
    }

    @Override public boolean isLineage(long b) {
        return lineage.get((int) b);   // fixed by the block's type: no shared word changes
    }

    @Override public long base(long b) {
        schedule.point();
        stale(b, "base");
        return base[(int) b];
    }

    @Override public void setBase(long b, long v) {
        schedule.point();
        if (!live[(int) b]) fail("base written in freed block " + b);
        note("base " + b + " := " + v);
        base[(int) b] = v;
    }

    @Override public long heir(long b) {
        schedule.point();
        stale(b, "heir");
        return heir[(int) b];
    }

    @Override public void setHeir(long b, long v) {
        schedule.point();
        if (!live[(int) b]) fail("heir written in freed block " + b);
        note("heir " + b + " := " + v);
        heir[(int) b] = v;
    }

    @Override public boolean casHeir(long b, long expect, long update) {
        schedule.point();
        if (!live[(int) b]) fail("heir CAS in freed block " + b);
        if (heir[(int) b] != expect) {
            note("heir " + b + " CAS " + expect + " -> " + update + " failed");
            return false;
        }
        note("heir " + b + " CAS " + expect + " -> " + update);
        heir[(int) b] = update;
        return true;
    }

    @Override public void forEachSlot(long b, RefVisitor v) {
        schedule.point();
        if (!live[(int) b]) fail("slots of freed block " + b + " read");
        for (long c : slots.get((int) b)) v.visit(c);
    }

    @Override public void free(long b) {
        schedule.point();
        if (!live[(int) b]) fail("block " + b + " freed twice");
        if (count[(int) b] != 0) fail("block " + b + " freed with count " + count[(int) b]);
        note("free " + b);
        live[(int) b] = false;
    }

    @Override public void lock() {
        schedule.lock();
        note("lock");
    }

    @Override public void unlock() {
        schedule.unlock();
        note("unlock");
    }

    /** Base and heir words of a freed block may be read only after a kill left a stale word. */
    private void stale(long b, String word) {
        if (!live[(int) b] && !schedule.anyKilled()) fail(word + " of freed block " + b + " read");
    }
}
