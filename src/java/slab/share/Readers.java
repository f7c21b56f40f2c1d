package slab.share;

import static slab.share.ReaderDescriptor.*;
import static slab.share.SharingDescriptor.STATE_CLAIMING;
import static slab.share.SharingDescriptor.STATE_FREE;
import static slab.share.SharingDescriptor.STATE_LIVE;
import static slab.share.SharingDescriptor.STATE_RECOVERING;

import java.util.Set;
import java.util.function.LongConsumer;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.HeaderDescriptor;
import slab.mem.KillPoints;
import slab.mem.Segment;
import slab.ref.Heap;
import slab.ref.RefCounts;

/**
 * The JVM's side of the foreign-reader protocol (FORMAT.md, "Foreign
 * readers"). A foreign reader (src/c) attaches to a slot of the header's
 * reader table, pins a box by announcing it in its hazard word, taking one
 * count on it and recording it in a pin word, and unpins by giving the count
 * back itself when others still hold the box, or else by marking the pin
 * {@link ReaderDescriptor#PIN_RETURNED} for a JVM to give back, since only a
 * process that allocates can free a box and what it holds.
 *
 * <p>The JVMs therefore: count readers' hazard words when they retire boxes;
 * give back returned pins; treat a dead reader like a dead process (give
 * back every pin it recorded, then free its slot); keep its pins as roots
 * and references in the sweep and in verify; and never sweep while a live
 * reader is attached. Every pin word is erased by compare-and-set before its
 * count goes back, so two JVMs never give one back twice and a kill leaves
 * at worst a leak the sweep reclaims. Pin words are untrusted: one that does
 * not name a live box is erased without touching any count.
 */
final class Readers {
    private Readers() {}

    /** Bits of a pin word that are flags, not the box offset. */
    private static final long PIN_FLAGS = 0xF;

    static long slot(int i) { return HeaderDescriptor.READERS_OFFSET + (long) i * READER_SLOT_LENGTH; }

    private static long pin(long sl, int j) { return sl + READER_PINS_OFFSET + 8L * j; }

    static long boxOf(long pinWord) { return pinWord & ~PIN_FLAGS; }

    /** Is the reader of slot sl (state word st) gone, leaving what it recorded to a JVM? */
    static boolean isGone(Segment s, long sl, long st) {
        long state = Slots.stateOf(st);
        if (state == READER_LEFT) return true;
        if (state == STATE_LIVE)
            return !Slots.alive(s.getLongVolatile(sl + READER_PID_OFFSET), s.getLongVolatile(sl + READER_START_OFFSET));
        if (state == STATE_CLAIMING || state == STATE_RECOVERING) return !Slots.actorAlive(st);
        return state != STATE_FREE;   // a state no protocol writes: damage, recovered like a dead reader
    }

    /** Is a live reader attached (one whose process runs)? A sweep must not run then. */
    static boolean anyAttached(Segment s) {
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            long st = s.getLongVolatile(sl + READER_STATE_OFFSET);
            if (st != STATE_FREE && !isGone(s, sl, st)) return true;
        }
        return false;
    }

    /** Slots whose reader is gone and whose pins no JVM has given back yet (verify's stuck slots). */
    static int stuck(Segment s) {
        int n = 0;
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            long st = s.getLongVolatile(sl + READER_STATE_OFFSET);
            if (st != STATE_FREE && isGone(s, sl, st)) n++;
        }
        return n;
    }

    /** Adds every box a reader announces in its hazard word (a retired box stays counted while announced). */
    static void addAnnounced(Segment s, Set<Long> out) {
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            if (s.getLongVolatile(sl + READER_STATE_OFFSET) == STATE_FREE) continue;
            long b = s.getLongVolatile(sl + READER_HAZARD_OFFSET);
            if (b != 0) out.add(b);
        }
    }

    /** Calls f with the box of every pin of every slot in use (the sweep's roots and references). */
    static void forEachPin(Segment s, LongConsumer f) {
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            if (s.getLongVolatile(sl + READER_STATE_OFFSET) == STATE_FREE) continue;
            for (int j = 0; j < READER_PINS; j++) {
                long w = s.getLongVolatile(pin(sl, j));
                if (w != 0 && isBox(s, boxOf(w), false)) f.accept(boxOf(w));
            }
        }
    }

    /**
     * Gives back every pin a reader returned (its reader is done with the box
     * and could not give back the last count). The caller may release counts
     * (it is inside the write gate, or recovering). Returns how many.
     */
    static int giveBackReturned(Heap h) {
        Segment s = h.segment();
        int n = 0;
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            long st = s.getLongVolatile(sl + READER_STATE_OFFSET);
            if (st == STATE_FREE) continue;
            boolean empty = true;
            for (int j = 0; j < READER_PINS; j++) {
                long w = s.getLongVolatile(pin(sl, j));
                if ((w & PIN_RETURNED) != 0 && erase(h, pin(sl, j), w)) n++;
                else if (w != 0) empty = false;
            }
            // A reader that left with only returned pins: its slot is free again.
            if (st == READER_LEFT && empty) s.casLong(sl + READER_STATE_OFFSET, READER_LEFT, STATE_FREE);
        }
        return n;
    }

    /**
     * Frees the slots of readers that are gone (dead, or detached with pins
     * left): takes the slot by one compare-and-set of its state word to "being
     * recovered by me" (a recoverer that dies is taken over by the next), gives
     * back each pin (erased first), clears the hazard word and frees the slot.
     * Also gives back what live readers returned. Returns the slots freed.
     */
    static int releaseGone(Heap h) {
        Segment s = h.segment();
        long me = Slots.actorWord(STATE_RECOVERING);
        int freed = 0;
        for (int i = 0; i < READERS; i++) {
            long sl = slot(i);
            long st = s.getLongVolatile(sl + READER_STATE_OFFSET);
            if (st == STATE_FREE || !isGone(s, sl, st)) continue;
            if (!s.casLong(sl + READER_STATE_OFFSET, st, me)) continue;
            KillPoints.step("reader");
            for (int j = 0; j < READER_PINS; j++) {
                long w = s.getLongVolatile(pin(sl, j));
                if (w != 0) erase(h, pin(sl, j), w);
            }
            s.putLongVolatile(sl + READER_HAZARD_OFFSET, 0);
            s.putLongVolatile(sl + READER_STATE_OFFSET, STATE_FREE);
            KillPoints.step("reader");
            freed++;
        }
        giveBackReturned(h);
        return freed;
    }

    /**
     * Erases pin word pw (holding w) and gives its count back: the erase is a
     * compare-and-set, so of two JVMs (or a JVM and a recoverer) only one gives
     * the count back, and a kill between the two steps leaks it, never doubles it.
     */
    private static boolean erase(Heap h, long pw, long w) {
        Segment s = h.segment();
        if (!s.casLong(pw, w, 0)) return false;
        KillPoints.step("reader");
        long box = boxOf(w);
        if (isBox(s, box, true)) RefCounts.release(h, box);
        KillPoints.step("reader");
        return true;
    }

    /**
     * Does off name a live box (the only block a reader pins), with a count if
     * counted? (The sweep asks while it resets counts.) Pin words are untrusted.
     */
    private static boolean isBox(Segment s, long off, boolean counted) {
        long frontier = s.getLongVolatile(HeaderDescriptor.FRONTIER_OFFSET);
        if (off < HeaderDescriptor.heapBase(s.capacity()) || off > frontier - AllocatorDescriptor.BLOCK_HEADER_LENGTH
                || (off & (AllocatorDescriptor.ALIGNMENT - 1)) != 0) return false;
        long hd = s.getLongVolatile(off);
        return AllocatorDescriptor.stateOf(hd) == AllocatorDescriptor.STATE_LIVE
            && AllocatorDescriptor.typeOf(hd) == BlockTypes.BOX && (!counted || AllocatorDescriptor.refcountOf(hd) > 0);
    }
}
