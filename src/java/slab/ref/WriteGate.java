package slab.ref;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets recover!'s sweep run while other threads of this process use the
 * segment. An update holds blocks it has allocated and counts it has taken
 * but not yet recorded anywhere the sweep looks (a root, a ledger), so the
 * sweep would free them or reset their counts: every operation that
 * allocates, takes or gives back counts enters this gate, and the sweep runs
 * only once none is inside, while new ones wait at the door.
 *
 * <p>Entering costs one uncontended atomic add on a per-thread stripe (an
 * update costs dozens); reads that take no counts never enter. The protocol
 * is Dekker's: an entrant adds to its stripe, then reads the sweeper; the
 * sweeper names itself, then sums the stripes. Sequential consistency of the
 * two volatile accesses means at least one sees the other, so no entrant
 * proceeds unseen by a sweep that has begun.
 */
public final class WriteGate {
    /** Stripes, padded one per 128 bytes so that threads on different stripes share no cache line. */
    private static final int STRIPES = 32;
    private static final int PAD = 16;
    private static final int NESTED = -1;
    /** How deep this thread is in updates (an update runs user code, an equals say, that updates again). */
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);
    private final AtomicLongArray inside = new AtomicLongArray(STRIPES * PAD);
    private volatile Thread sweeper;

    /**
     * Enters; returns the ticket {@link #exit} takes. Waits while a sweep
     * runs, unless this thread is the sweeper or already inside (an update
     * nested in another, which must finish for the sweep to start at all).
     */
    public int enter() {
        if (depth.get()[0]++ > 0) return NESTED;
        int i = (int) (Thread.currentThread().threadId() & (STRIPES - 1)) * PAD;
        while (true) {
            inside.getAndIncrement(i);
            Thread sw = sweeper;
            if (sw == null || sw == Thread.currentThread()) return i;
            inside.getAndDecrement(i);
            while (sweeper == sw) LockSupport.parkNanos(this, 200_000);
        }
    }

    public void exit(int ticket) {
        depth.get()[0]--;
        if (ticket != NESTED) inside.getAndDecrement(ticket);
    }

    /**
     * Runs body once no other thread is inside, holding new entrants at the
     * door; returns false without running it if operations already inside
     * did not leave within maxNanos (an update whose user code blocks, say).
     */
    public synchronized boolean exclusive(long maxNanos, Runnable body) {
        // Shut (the segment is closing), or called from inside an update (user code
        // an update runs): waiting would only wait for ourselves.
        if (shut || depth.get()[0] > 0) return false;
        sweeper = Thread.currentThread();
        try {
            long deadline = System.nanoTime() + maxNanos;
            for (int spins = 0; insideCount() != 0; spins++) {
                if (System.nanoTime() - deadline > 0) return false;
                if (spins < 64) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
            body.run();
            return true;
        } finally {
            sweeper = null;
        }
    }

    private boolean shut;

    /**
     * No exclusive body runs from now on; returns once one that is running
     * has finished (a close must not unmap a segment a sweep is changing).
     */
    public synchronized void shut() { shut = true; }

    private long insideCount() {
        long n = 0;
        for (int i = 0; i < STRIPES; i++) n += inside.get(i * PAD);
        return n;
    }
}
