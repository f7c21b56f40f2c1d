package slab.codec;

/**
 * The Cleaner's action for a handle or a transient: it gives back the counts
 * the dropped owner held, and must never reach that owner. java.lang.ref.Cleaner
 * drops what an action throws, so a failure is recorded on the codec here
 * (then rethrown, for a caller that ran the action itself).
 */
abstract class CleanerAction implements Runnable {
    final Codec codec;

    CleanerAction(Codec codec) { this.codec = codec; }

    /** Gives the counts back. */
    abstract void giveBack();

    @Override
    public final void run() {
        try {
            giveBack();
        } catch (RuntimeException | Error e) {
            codec.cleanupFailed(e);
            throw e;
        } finally {
            codec.releasesCompleted.increment();
        }
    }
}
