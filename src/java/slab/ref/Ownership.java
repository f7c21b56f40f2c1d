package slab.ref;

import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Who owns the counts this process's on-heap owners (handles, transients,
 * atoms) hold: the Cleaner that gives them back when the JVM collects an
 * owner, the ledger that records them in named segments (so another process
 * can give them back if this one dies), and the statistics leak tests read.
 *
 * <p>An owner records a count after taking it and erases the record before
 * giving the count back, so after a crash a record may miss a count (a leak
 * the sweep reclaims) but never names one already given back.
 */
public final class Ownership {
    /** Cleaner failures printed so far in this process (only the first few are). */
    private static final AtomicInteger CLEANUP_FAILURES_PRINTED = new AtomicInteger();

    /** The ledger flag of a transient's record (offsets are 16-aligned, so bit 0 is free). */
    public static final long MUTABLE = 1;

    private final Heap heap;
    private volatile Ledger ledger;
    /** Handles made and given back in this process, for stats (LongAdder: no contended word). */
    final LongAdder handlesMade = new LongAdder();
    final LongAdder handlesGone = new LongAdder();
    /** Handle and transient releases finished; an allocation waiting for space watches it move. */
    private final LongAdder releasesCompleted = new LongAdder();
    private final LongAdder cleanupFailures = new LongAdder();
    private volatile Throwable lastCleanupFailure;
    /** While a sweep runs, releases from the Cleaner wait here instead of touching counts. */
    private ArrayList<Long> deferred;
    private volatile boolean releasesStopped;

    Ownership(Heap heap) { this.heap = heap; }

    // --- statistics ---------------------------------------------------------------------

    /** Versions (handles holding nodes) this process has made and not yet given back. */
    public long liveVersions() { return handlesMade.sum() - handlesGone.sum(); }

    /** Owning handles (each a count and a Cleaner registration) made on this segment, ever. */
    public long handlesMade() { return handlesMade.sum(); }

    public long releasesCompleted() { return releasesCompleted.sum(); }

    void releaseCompleted() { releasesCompleted.increment(); }

    /**
     * Records that a Cleaner action threw t: a dropped version's counts were
     * not all given back, which is a bug in slab. The Cleaner swallows what
     * its actions throw, so the first few failures on its thread are printed.
     */
    void cleanupFailed(Throwable t) {
        lastCleanupFailure = t;
        cleanupFailures.increment();
        if (Thread.currentThread() == CleanerAction.reaper && CLEANUP_FAILURES_PRINTED.getAndIncrement() < 3) {
            System.err.println("slab: internal error while giving back a dropped version's counts (please report):");
            t.printStackTrace();
        }
    }

    /** How many Cleaner actions have thrown; 0 unless slab has a bug. */
    public long cleanupFailures() { return cleanupFailures.sum(); }

    /** What the last Cleaner action that threw threw, or null. */
    public Throwable lastCleanupFailure() { return lastCleanupFailure; }

    // --- the ledger -----------------------------------------------------------------------

    /** Installs the ledger recording what this process's owners hold (named segments). */
    public void setLedger(Ledger l) { this.ledger = l; }

    public Ledger ledger() { return ledger; }

    /** Records that an on-heap owner now holds a count on block (after taking it). */
    public void own(long block) {
        Ledger l = ledger;
        if (l != null && block != 0) l.own(block);
    }

    /** Erases that record (before the count is given back). */
    public void disown(long block) {
        Ledger l = ledger;
        if (l != null && block != 0) l.disown(block);
    }

    /**
     * Records a count a transient holds on a node it may still change in
     * place, flagged {@link #MUTABLE}: a process killed mid-edit may leave the
     * node torn, so a recovering process leaves its counts to the sweep.
     */
    public void ownMutable(long block) {
        if (block != 0) own(block | MUTABLE);
    }

    public void disownMutable(long block) {
        if (block != 0) disown(block | MUTABLE);
    }

    // --- giving counts back -----------------------------------------------------------------

    /**
     * An owner's count going back: disowned, then released; held back during
     * a sweep; dropped once {@link #stopReleases} ran (the segment is being
     * closed and the ledger's counts were given back). With a ledger this
     * runs under this object's lock, so it never interleaves with a sweep or
     * a detach reading the ledger.
     */
    public void releaseOwned(long block) {
        if (block == 0 || releasesStopped) return;
        if (ledger == null && deferred == null) {
            RefCounts.release(heap, block & ~MUTABLE);
            return;
        }
        synchronized (this) {
            if (releasesStopped) return;
            if (deferred != null) {
                deferred.add(block);
                return;
            }
            disown(block);
            RefCounts.release(heap, block & ~MUTABLE);
        }
    }

    public void releaseOwnedMutable(long block) {
        if (block != 0) releaseOwned(block | MUTABLE);
    }

    /**
     * Runs body with Cleaner releases held back, so a sweep sees a stable set
     * of owners; the held-back releases run afterwards.
     */
    public void withReleasesPaused(Runnable body) {
        synchronized (this) {
            deferred = new ArrayList<>();
        }
        try {
            body.run();
        } finally {
            ArrayList<Long> held;
            synchronized (this) {
                held = deferred;
                deferred = null;
            }
            for (long b : held) {
                disown(b);
                RefCounts.release(heap, b & ~MUTABLE);
            }
        }
    }

    /**
     * Turns every later release into a no-op (the segment is closing: what
     * this process's owners hold goes back through the ledger, or dies with
     * an anonymous segment). Releases that hold this lock finish first.
     */
    public synchronized void stopReleases() {
        releasesStopped = true;
    }

    /** Has the segment been closed or its file truncated (so a release that fails is expected, not a bug)? */
    public boolean closing() { return releasesStopped || heap.segment().isClosed() || heap.segment().truncated(); }
}
