package slab.mem;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Names for processes that survive their death: an owner word holds a pid
 * and the process's start time (seconds mod 2^24), so a word left in the
 * segment by a process that died can be told apart from a live process,
 * including a later one that reuses the pid. The low byte is free for a
 * state (the process table's slot words use it) and is 1 in a plain owner
 * word, so no owner word is 0.
 */
public final class Processes {
    private Processes() {}

    private static final long ME = word(ProcessHandle.current());

    /** This process's owner word. */
    public static long me() { return ME; }

    /** The owner word of p with low byte 1. */
    public static long word(ProcessHandle p) {
        return 1 | ((startMillis(p) / 1000) & 0xFFFFFFL) << 8 | p.pid() << 32;
    }

    /** The owner word of a process known by pid and start time in milliseconds. */
    public static long word(long pid, long startMillis) {
        return 1 | ((startMillis / 1000) & 0xFFFFFFL) << 8 | pid << 32;
    }

    /** Is the process an owner (or slot) word names still running? The low byte is ignored. */
    public static boolean alive(long word) {
        long pid = word >>> 32;
        if (pid == 0) return false;
        if (pid == ProcessHandle.current().pid()) return sameStart(word, ME);
        var ph = ProcessHandle.of(pid);
        if (ph.isEmpty() || !ph.get().isAlive()) return false;
        return sameStart(word, word(ph.get()));
    }

    private static boolean sameStart(long a, long b) {
        long start = (a >>> 8) & 0xFFFFFFL;
        long now = (b >>> 8) & 0xFFFFFFL;
        long diff = Math.abs(now - start);
        return now == 0 || diff <= 1 || diff >= 0xFFFFFFL;   // the same start, give or take a second
    }

    public static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
    }

    /** Liveness answers for the length of one scan, so a scan over many spans asks the OS once per owner. */
    public static final class Cache {
        private final ConcurrentHashMap<Long, Boolean> seen = new ConcurrentHashMap<>();

        public boolean alive(long word) {
            return seen.computeIfAbsent(word & ~0xFFL, w -> Processes.alive(w | 1));
        }
    }
}
