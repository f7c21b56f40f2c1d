package slab.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * One execution of a few threads, run one shared access at a time: each
 * thread stops at every {@link #point} until the controller picks it. The
 * picks come from a prefix (the explorer's) and then a default: keep the
 * thread that ran last, else the lowest enabled one. A pick may also kill a
 * thread: it never runs again, holding whatever it held (the lock too, which
 * the next thread that wants it takes over, as a process takes over a dead
 * process's lock word).
 */
final class Schedule {
    /** Thrown inside a killed thread so it unwinds without touching the model again. */
    static final class Killed extends RuntimeException {
        Killed() { super(null, null, false, false); }
    }

    interface Body { void run(int thread); }

    /** One decision: the options there (threads to run, then ~t for "kill t") and the index picked. */
    record Decision(int[] options, int picked, int preemptions, int kills) { }

    private final int n;
    private final Semaphore[] go;
    private final Semaphore back = new Semaphore(0);
    private final boolean[] done, killed, wantsLock;
    private final Throwable[] failure;
    private final ThreadLocal<Integer> self = new ThreadLocal<>();
    private volatile boolean active;
    private int lockOwner = -1;
    final List<Decision> trace = new ArrayList<>();

    Schedule(int n) {
        this.n = n;
        go = new Semaphore[n];
        for (int i = 0; i < n; i++) go[i] = new Semaphore(0);
        done = new boolean[n];
        killed = new boolean[n];
        wantsLock = new boolean[n];
        failure = new Throwable[n];
    }

    /** The calling model thread's index, -1 outside the run (setup and checks). */
    int current() {
        Integer i = self.get();
        return i == null || !active ? -1 : i;
    }

    /** A shared access is next: wait for this thread's turn. */
    void point() {
        Integer i = self.get();
        if (i == null || !active) return;
        if (killed[i]) throw new Killed();
        back.release();
        go[i].acquireUninterruptibly();
        if (killed[i]) throw new Killed();
    }

    void lock() {
        int i = current();
        if (i < 0) return;
        wantsLock[i] = true;
        point();             // the controller resumes this thread only once the lock is free
        wantsLock[i] = false;
        lockOwner = i;
    }

    void unlock() {
        int i = current();
        if (i < 0) return;
        point();
        if (lockOwner != i) throw new AssertionError("unlock by a thread that does not hold the lock");
        lockOwner = -1;
    }

    boolean killed(int i) { return killed[i]; }

    boolean anyKilled() {
        for (boolean k : killed) if (k) return true;
        return false;
    }

    Throwable failure(int i) { return failure[i]; }

    /**
     * Runs body in n threads following prefix (option indices), then the
     * default, with at most maxPreemptions switches away from a thread that
     * could go on and maxKills kills. Returns normally; failures are kept per thread.
     */
    void run(Body body, int[] prefix, int maxPreemptions, int maxKills) {
        Thread[] threads = new Thread[n];
        for (int t = 0; t < n; t++) {
            final int me = t;
            threads[t] = Thread.ofVirtual().start(() -> {
                self.set(me);
                go[me].acquireUninterruptibly();
                try {
                    if (!killed[me]) body.run(me);
                } catch (Killed k) {
                    // a killed thread stops where it was
                } catch (Throwable e) {
                    failure[me] = e;
                } finally {
                    done[me] = true;
                    back.release();
                }
            });
        }
        active = true;
        int prev = -1, preemptions = 0, kills = 0;
        while (true) {
            int[] options = options(prev, kills < maxKills);
            if (options.length == 0) {
                for (int t = 0; t < n; t++)
                    if (!done[t] && !killed[t]) failure[t] = new AssertionError("deadlock: thread " + t + " waits for the lock forever");
                break;
            }
            int step = trace.size();
            int pick = step < prefix.length ? prefix[step] : 0;
            int o = options[pick];
            boolean preempt = o >= 0 && o != prev && prev >= 0 && enabled(prev);
            if (preempt) preemptions++;
            if (o < 0) kills++;
            trace.add(new Decision(options, pick, preemptions, kills));
            if (preemptions > maxPreemptions) throw new IllegalStateException("prefix exceeds the preemption bound");
            if (o < 0) {
                killed[~o] = true;
                continue;
            }
            prev = o;
            go[o].release();
            back.acquireUninterruptibly();
        }
        // Let killed threads unwind (they throw Killed at their next point).
        for (int t = 0; t < n; t++) {
            if (killed[t] && !done[t]) {
                go[t].release();
                back.acquireUninterruptibly();
            }
        }
        active = false;
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean enabled(int t) {
        if (done[t] || killed[t]) return false;
        return !wantsLock[t] || lockOwner < 0 || killed[lockOwner];
    }

    /** The thread that ran last first (no preemption), then the others, then kills. */
    private int[] options(int prev, boolean mayKill) {
        List<Integer> o = new ArrayList<>();
        if (prev >= 0 && enabled(prev)) o.add(prev);
        for (int t = 0; t < n; t++) if (t != prev && enabled(t)) o.add(t);
        int runnable = o.size();
        if (mayKill) for (int i = 0; i < runnable; i++) o.add(~o.get(i));
        return o.stream().mapToInt(Integer::intValue).toArray();
    }
}
