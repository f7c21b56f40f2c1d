package slab.share;

import static slab.share.SharingDescriptor.*;

import slab.mem.Segment;

/**
 * Who a process-table slot belongs to, and whether that process still runs.
 * A live slot names its process in its pid and start-time words; a slot
 * being claimed or recovered names the process doing it in the state word
 * itself (state in the low byte, start time in seconds mod 2^24 in the next
 * three, pid in the high four), so the compare-and-set that takes a slot
 * also says who took it, and a slot whose claimer or recoverer died can be
 * told apart and taken over.
 */
final class Slots {
    private Slots() {}

    static long stateOf(long word) { return word & STATE_MASK; }

    /** The state word "state, by this process". */
    static long actorWord(long state) {
        ProcessHandle me = ProcessHandle.current();
        return state | ((startMillis(me) / 1000) & 0xFFFFFFL) << 8 | me.pid() << 32;
    }

    /**
     * Throws damaged-segment unless st is a state word some protocol writes:
     * 0 (free), or claiming, live or recovering. Any other word would read as
     * a live process forever (so the file would look in use) or as a dead one.
     */
    static void checkState(Segment s, long sl, long st) {
        long state = stateOf(st);
        if (state > STATE_RECOVERING || (state == STATE_FREE && st != 0))
            throw slab.mem.Damage.at(s, sl, "a process slot whose state word is free, claiming, live or recovering, found 0x"
                + Long.toHexString(st));
    }

    /** Is the slot at sl (state word st) held by a process that no longer runs? */
    static boolean isDead(Segment s, long sl, long st) {
        long state = stateOf(st);
        if (state == STATE_LIVE) return !isAlive(s, sl);
        if (state == STATE_CLAIMING || state == STATE_RECOVERING) return !actorAlive(st);
        return false;
    }

    /** Is the process named by a claiming or recovering state word still running? */
    static boolean actorAlive(long st) {
        long pid = st >>> 32;
        if (pid == 0) return false;              // written by a slab that did not name the actor
        var ph = ProcessHandle.of(pid);
        if (ph.isEmpty() || !ph.get().isAlive()) return false;
        long start = (st >>> 8) & 0xFFFFFFL;
        long now = (startMillis(ph.get()) / 1000) & 0xFFFFFFL;
        long diff = Math.abs(now - start);
        return now == 0 || diff <= 1 || diff >= 0xFFFFFFL;   // the same start, give or take a second
    }

    static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
    }

    /** Is the process registered in live slot sl still the one running? (pid alive and same start time) */
    static boolean isAlive(Segment s, long sl) {
        return alive(s.getLongVolatile(sl + SLOT_PID_OFFSET), s.getLong(sl + SLOT_START_OFFSET));
    }

    /** Is the process with this pid and start time (epoch ms, 0 if unknown) still running? */
    static boolean alive(long pid, long start) {
        if (pid <= 0) return false;
        var ph = ProcessHandle.of(pid);
        if (ph.isEmpty() || !ph.get().isAlive()) return false;
        if (start == 0) return true;
        long now = startMillis(ph.get());
        return now == 0 || Math.abs(now - start) < 1000;
    }
}
