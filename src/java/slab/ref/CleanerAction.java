package slab.ref;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * What gives back the counts a dropped owner (a handle, a transient) held:
 * a phantom reference to the owner that is its own clean-up action, so
 * tracking one owner costs one small object and no lock shared by all
 * threads (java.lang.ref.Cleaner allocates a reference and an action per
 * registration, and links every one under one lock). Subclasses hold the
 * offsets, never the owner.
 *
 * <p>Registered actions sit on one of several doubly linked lists, picked
 * by thread, so that they stay reachable until they run; {@link #clean}
 * unlinks first, so each action runs once whether the owner was released
 * explicitly or collected. A failure is recorded on the owners (the
 * reaper thread has nobody to throw to), then rethrown to an explicit caller.
 */
public abstract class CleanerAction extends PhantomReference<Object> {
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
    private static final int LISTS = 16;
    /** Each list's head is a sentinel, which is also the lock of that list. */
    private static final CleanerAction[] HEADS = new CleanerAction[LISTS];
    static volatile Thread reaper;

    static {
        for (int i = 0; i < LISTS; i++) HEADS[i] = new Sentinel();
        Thread t = new Thread(CleanerAction::reap, "slab-cleaner");
        t.setDaemon(true);
        reaper = t;
        t.start();
    }

    protected final Ownership owners;
    private final CleanerAction head;
    private CleanerAction prev, next;
    private boolean ran;

    /**
     * Tracks owner: this action runs once owner is collected, unless
     * {@link #clean} ran it first. A null owner makes an untracked action,
     * which runs only when cleaned.
     */
    protected CleanerAction(Object owner, Ownership owners) {
        super(owner, owner == null ? null : QUEUE);
        this.owners = owners;
        if (owner == null) {
            this.head = null;
            return;
        }
        this.head = HEADS[(int) (Thread.currentThread().threadId() & (LISTS - 1))];
        synchronized (head) {
            prev = head;
            next = head.next;
            if (next != null) next.prev = this;
            head.next = this;
        }
    }

    private CleanerAction() {
        super(null, null);
        this.owners = null;
        this.head = null;
    }

    /** Gives the counts back. */
    protected abstract void giveBack();

    /** Runs the action now if it has not run yet (the owner need not be collected). */
    public final void clean() {
        synchronized (head != null ? head : this) {
            if (ran) return;
            ran = true;
            if (prev != null) {
                prev.next = next;
                if (next != null) next.prev = prev;
                prev = next = null;
            }
        }
        clear();
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

    private static void reap() {
        while (true) {
            try {
                ((CleanerAction) QUEUE.remove()).clean();
            } catch (InterruptedException | RuntimeException | Error e) {
                // recorded by clean (cleanupFailed); the reaper must outlive any one action
            }
        }
    }

    private static final class Sentinel extends CleanerAction {
        Sentinel() { super(); }

        @Override
        protected void giveBack() {}
    }
}
