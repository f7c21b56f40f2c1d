package slab.ref;

/**
 * The Cleaner's action for a handle or a transient: it gives back the counts
 * the dropped owner held, and must never reach that owner. java.lang.ref.Cleaner
 * drops what an action throws, so a failure is recorded here (then rethrown,
 * for a caller that ran the action itself).
 */
public abstract class CleanerAction implements Runnable {
    protected final Ownership owners;

    protected CleanerAction(Ownership owners) { this.owners = owners; }

    /** Gives the counts back. */
    protected abstract void giveBack();

    @Override
    public final void run() {
        try {
            giveBack();
        } catch (RuntimeException | Error e) {
            if (owners.closing()) return;   // the segment closed under the action: its counts went back with it
            owners.cleanupFailed(e);
            throw e;
        } finally {
            owners.releaseCompleted();
        }
    }
}
