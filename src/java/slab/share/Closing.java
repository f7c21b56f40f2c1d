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
 *     exactly once), the boxes it retired, then leave the process table.</li>
 * </ol>
 *
 * An anonymous segment's memory dies with its mapping, so it stops at step 2.
 */
public final class Closing {
    private Closing() {}

    public static void close(Segment s) {
        if (s.isClosed()) return;
        // Releases stop before anything else: one that erased its ledger record
        // must also give its count back (it holds the lock while it does).
        Heap.of(s).ownership().stopReleases();
        if (!s.markClosed()) return;
        Sharing sh = Sharing.remove(s);
        s.unmap();
        if (sh == null || s.path() == null) return;
        KillPoints.step("close");
        Segment priv = s.mapPrivately();
        // A file that was truncated or deleted cannot be written: its counts stay
        // recorded, and the next opener gives them back once this process is gone.
        if (priv == null) return;
        try {
            Heap via = Heap.of(priv);
            sh.giveBackRetired(via);
            KillPoints.step("close");
            Recovery.emptySlot(via, sh.slot, false, "close");
        } finally {
            priv.close();
        }
    }
}
