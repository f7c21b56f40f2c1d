package slab.mem;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A lock shared by every process that maps a segment: a header word holding
 * the owner word ({@link Processes}) of the process that holds it, taken by
 * a compare-and-set from 0, with a JVM lock in front so one thread of this
 * process at a time competes for it. Reentrant within a thread. A word
 * naming a process that no longer runs, or this process itself (left by a
 * mapping of this file that was closed mid-operation: a close finishes
 * before the file is mapped again), is taken over, and the takeover action
 * runs first (to repair what the dead holder left half-changed).
 */
public final class SegmentLock {
    private final Segment s;
    private final long word;
    private final Runnable onTakeover;
    private final ReentrantLock local = new ReentrantLock();

    public SegmentLock(Segment s, long word, Runnable onTakeover) {
        this.s = s;
        this.word = word;
        this.onTakeover = onTakeover;
    }

    public void lock() {
        local.lock();
        // A read-only mapping has no writer to exclude (they are refused at open) and no word to write.
        if (local.getHoldCount() > 1 || s.isReadOnly()) return;
        try {
            acquire();
        } catch (RuntimeException | Error e) {
            local.unlock();
            throw e;
        }
    }

    public void unlock() {
        try {
            if (local.getHoldCount() == 1 && !s.isReadOnly()) s.putLongVolatile(word, 0);
        } finally {
            local.unlock();
        }
    }

    /** Runs body holding the lock. */
    public <T> T locked(Supplier<T> body) {
        lock();
        try {
            return body.get();
        } finally {
            unlock();
        }
    }

    /** Does this thread hold the lock? */
    public boolean held() { return local.isHeldByCurrentThread(); }

    private void acquire() {
        long me = Processes.me();
        for (int spins = 0; ; spins++) {
            long cur = s.getLongVolatile(word);
            if (cur == 0) {
                if (s.casLong(word, 0, me)) return;
                continue;
            }
            if (cur == me || ((spins & 1023) == 1023 && !Processes.alive(cur))) {
                if (s.casLong(word, cur, me)) {
                    onTakeover.run();
                    return;
                }
                continue;
            }
            if (spins < 64) Thread.onSpinWait();
            else if (spins < 128) Thread.yield();
            else java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
    }
}
