package slab.mem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much more physical memory this process may fill: the kernel's
 * MemAvailable, and under a cgroup memory limit (v2 or v1) what is left of it. A
 * segment's capacity only reserves address space, so what it can commit is
 * bounded by this, not by the capacity; work that takes memory it could do
 * without (persistent!'s layout copies) asks first. Unknown (not Linux, no
 * /proc): Long.MAX_VALUE.
 */
public final class FreeMemory {
    private FreeMemory() {}

    public static long bytes() {
        long free = memAvailable();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                if (line.startsWith("0::/"))   // cgroup v2
                    free = Math.min(free, left(Path.of("/sys/fs/cgroup", line.substring(4)), "memory.max", "memory.current"));
                else if (line.matches("\\d+:memory:/.*"))   // cgroup v1's memory controller
                    free = Math.min(free, left(Path.of("/sys/fs/cgroup/memory", line.substring(line.indexOf(":/") + 2)),
                        "memory.limit_in_bytes", "memory.usage_in_bytes"));
            }
        } catch (IOException | RuntimeException e) {
            // no cgroups: MemAvailable alone
        }
        return free;
    }

    /** What a cgroup's limit leaves, Long.MAX_VALUE without one. */
    private static long left(Path group, String limitFile, String usedFile) {
        long limit = number(group.resolve(limitFile)), used = number(group.resolve(usedFile));
        return limit > 0 && used >= 0 ? Math.max(0, limit - used) : Long.MAX_VALUE;
    }

    private static long memAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (!line.startsWith("MemAvailable:")) continue;
                String[] f = line.trim().split("\\s+");
                return Long.parseLong(f[1]) * 1024;   // "MemAvailable:  123456 kB"
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: unknown
        }
        return Long.MAX_VALUE;
    }

    /** A file holding one number (cgroup's "max" means none): the number, else -1. */
    private static long number(Path p) {
        try {
            return Long.parseLong(Files.readString(p).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
