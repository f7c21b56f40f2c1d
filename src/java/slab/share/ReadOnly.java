package slab.share;

import static slab.share.SharingDescriptor.*;

import java.nio.file.Path;

import slab.Errors;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;

/**
 * Opening a segment read-only (open-segment :read-only). The file is mapped
 * READ_ONLY and this process writes nothing to it: no slot in the process
 * table, no ledger, no hazard words, no recovery or sweep. That is safe
 * only while no process changes the file, since a reader's handles then
 * hold no counts (nothing it can do frees a block, and counts are words it
 * cannot write). So a file with a live process attached is refused, and
 * a writer that comes while it is open is refused too: the opening holds
 * a shared read-only lock on the file until it is closed (Segment).
 */
public final class ReadOnly {
    private ReadOnly() {}

    /**
     * Maps the file at p read-only, refusing it while a live process is
     * attached; with verifyFull, also walks the heap (see {@link #requireSound}).
     */
    public static Segment open(Path p, boolean verifyFull) {
        return open(p, verifyFull, false);
    }

    /** As {@link #open(Path, boolean)}; with verifyOnRead every read checks the seals of the blocks it follows. */
    public static Segment open(Path p, boolean verifyFull, boolean verifyOnRead) {
        Segment s = Segment.openReadOnly(p, ReadOnly::refuseLiveWriters, verifyOnRead);
        boolean fresh = !Sharing.isAttached(s);   // else another caller in this process opened it: theirs to close
        Sharing sh = Sharing.of(s);
        if (verifyFull) {
            try {
                requireSound(sh);
            } catch (RuntimeException e) {
                if (fresh) Closing.close(s);
                throw e;
            }
        }
        return s;
    }

    /** The process table's offset, checked to lie inside the mapping; a file no process ever attached is refused. */
    static long processTable(Segment s) {
        long t = s.getLongVolatile(HeaderDescriptor.PROCESS_TABLE_OFFSET);
        if (t == 0)
            throw Errors.info("bad-segment-file", "Refusing to open " + s.describe() + " read-only: no process ever "
                + "attached to it (it has no process table), so it holds no roots.", "path", s.describe());
        if (t < HeaderDescriptor.heapBase(s.capacity()) || t > s.memory().byteSize() - PROCESS_TABLE_LENGTH)
            throw Errors.info("damaged-segment", "Segment " + s.describe() + " is damaged: its process table offset "
                + t + " lies outside the heap.", "path", s.describe(), "offset", t);
        return t;
    }

    /** Refuses s if a process that still runs is attached to it (or claiming or recovering a slot). */
    static void refuseLiveWriters(Segment s) {
        long t = processTable(s);
        for (int i = 0; i < MAX_PROCESSES; i++) {
            long sl = t + SLOTS_OFFSET + (long) i * SLOT_LENGTH;
            long st = s.getLongVolatile(sl + SLOT_STATE_OFFSET);
            Slots.checkState(s, sl, st);
            if (st == STATE_FREE || Slots.isDead(s, sl, st)) continue;
            long pid = Slots.stateOf(st) == STATE_LIVE ? s.getLong(sl + SLOT_PID_OFFSET) : st >>> 32;
            throw Errors.info("segment-in-use", "Cannot open " + s.describe() + " read-only: process " + pid
                + " is attached to it and may be changing it. Read-only opening is for files no process writes "
                + "(a snapshot from slab/snapshot!, or a segment every writer has closed): take a snapshot there, "
                + "or close the segment in that process first.", "path", s.describe(), "pid", pid);
        }
    }

    /**
     * Walks the heap (verify) and refuses what a reader cannot trust: counts
     * given back twice (below zero), and in a snapshot, which was written
     * whole and closed, any count that does not add up or block nothing
     * reaches. A segment left by killed processes may hold leaked counts
     * and blocks; those are not damage to a reader.
     */
    public static void requireSound(Sharing sh) {
        Recovery.Report r = Recovery.verify(sh);
        boolean snapshot = sh.s.isSnapshot();
        if (r.countSurplus() >= 0 && (!snapshot || (r.countsAddUp() && r.unreachable() == 0))) return;
        throw Errors.info("damaged-segment", "Segment " + sh.s.describe() + " is damaged: verify found "
            + (r.countSurplus() < 0 ? "counts given back twice (surplus " + r.countSurplus() + ")"
                                    : "counts that do not add up or blocks nothing reaches, in a snapshot")
            + ". Restore it from a good copy.", "path", sh.s.describe(), "count-surplus", r.countSurplus(),
            "unreachable", r.unreachable());
    }
}
