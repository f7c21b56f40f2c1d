package slab.share;

import slab.mem.KillPoints;
import slab.mem.Segment;
import slab.ref.Heap;

/**
 * Closing a segment in this process, in an order that keeps every promise
 * to threads still reading it and to other processes:
 *
 * <ol>
 * <li>stop giving counts back (the Cleaner's releases become no-ops, so
 *     every count is either given back and erased, or still recorded), then
 *     mark it closed: every operation that starts from now on throws the
 *     clear closed error;</li>
 * <li>unmap it: FFM's shared arena makes every access in flight in another
 *     thread throw too, so no reader can see a block freed by step 3;</li>
 * <li>named segments only, through a private second mapping: give back
 *     what this process's ledger records (erasing each count as it goes, so
 *     a kill at any instant leaves the rest for the next opener to give back
 *     exactly once), the boxes it retired and the pins foreign readers
 *     returned, then leave the process table.</li>
 * </ol>
 *
 * An anonymous segment's memory dies with its mapping, so it stops at step 2.
 */
public final class Closing {
    private Closing() {}

    /** How long a close waits for operations that began before it. */
    private static final long DRAIN_NANOS = 5_000_000_000L;

    public static void close(Segment s) {
        if (s.isClosed()) return;
        // A sweep that recover! is running finishes first (it changes counts
        // throughout), and none starts after this.
        Heap.of(s).gate().shut();
        // Releases stop before anything else: one that erased its ledger record
        // must also give its count back (it holds the lock while it does).
        Heap.of(s).ownership().stopReleases();
        if (!s.markClosed()) return;
        try {
            finishClose(s);
        } finally {
            s.closeFinished();   // only now may this process map the file again
        }
    }

    private static void finishClose(Segment s) {
        Sharing sh = Sharing.remove(s);
        awaitOperationsInFlight();
        s.unmap();
        // A read-only reader wrote nothing, so it has nothing to give back.
        if (sh == null || s.path() == null || s.isReadOnly()) return;
        KillPoints.step("close");
        Segment priv = s.mapPrivately();
        // A file that was truncated or deleted cannot be written: its counts stay
        // recorded, and the next opener gives them back once this process is gone.
        if (priv == null) return;
        try {
            Heap via = Heap.of(priv);
            sh.giveBackRetired(via);
            Readers.giveBackReturned(via);   // foreign readers' last counts on boxes retired meanwhile
            KillPoints.step("close");
            // A transient's records (bit 0) are left to the sweep: one in use by
            // another thread while the close began may have moved a count into its
            // tree without erasing the record yet.
            Recovery.emptySlot(via, sh.slot, true, "close");
            priv.allocator().abandonOwn();   // threads cut short may have left our spans half-changed
        } finally {
            priv.close();
        }
    }

    /**
     * Waits, at most DRAIN_NANOS, until no other platform thread is inside
     * slab's core (a frame of a slab.* Java class): an operation that began
     * before the segment was marked closed then has finished, and every later
     * one throws at its start. Unmapping under an access in flight is safe by
     * FFM's rules, but the JIT may keep a compiled read in flight across the
     * arena's handshake (the JVM has crashed there), so it is avoided when it
     * can be. Virtual threads are not in the snapshot; for them, and for a
     * thread that stays inside (a reduce whose function blocks), FFM's
     * handshake is what remains.
     */
    private static void awaitOperationsInFlight() {
        long deadline = System.nanoTime() + DRAIN_NANOS;
        Thread me = Thread.currentThread();
        long pause = 1;
        while (System.nanoTime() < deadline) {
            if (!anyInsideCore(me)) return;
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            pause = Math.min(pause * 2, 20);
        }
    }

    private static boolean anyInsideCore(Thread me) {
        for (var e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey() == me) continue;
            for (StackTraceElement f : e.getValue()) {
                String file = f.getFileName();
                if (file != null && file.endsWith(".java") && f.getClassName().startsWith("slab.")) {
                    // The innermost slab frame decides: the cleaner thread waiting for the next
                    // collected handle (in the queue, below its loop) is in no operation.
                    if (isIdleReaper(f)) break;
                    return true;
                }
            }
        }
        return false;
    }

    /** Is f the cleaner thread's loop itself (so the thread waits for work, and reads nothing)? */
    private static boolean isIdleReaper(StackTraceElement f) {
        return f.getClassName().equals("slab.ref.CleanerAction") && f.getMethodName().equals("reap");
    }
}
