package slab.share;

import slab.mem.HeaderDescriptor;

/**
 * Layout of the foreign-reader table: fixed slots in the segment header
 * (from {@link HeaderDescriptor#READERS_OFFSET}) for processes that read a
 * segment without allocating (the C library in src/c, or any other
 * language). A reader needs no block of its own, so it can attach to a
 * segment it cannot allocate in. Offsets below are from the slot's start.
 *
 * <pre>
 *   slot i at READERS_OFFSET + i * READER_SLOT_LENGTH, i in 0 .. READERS-1
 *   +0   state word: low byte FREE, CLAIMING, LIVE, RECOVERING (as in the
 *        process table, with the claimer's or recoverer's identity above it)
 *        or READER_LEFT (detached, some pins still to give back)
 *   +8   pid            +16 start time, epoch ms (0 if unknown)
 *   +24  hazard word: the box being pinned, 0 = none
 *   +32  zero
 *   +64  pin words, READER_PINS of them: a box the reader holds one count
 *        on (bit 0 clear), or one whose count it has handed to the JVMs
 *        (bit 0, PIN_RETURNED, set); 0 = unused
 * </pre>
 *
 * The protocol (attach, pin, unpin, detach, recovery) is in FORMAT.md,
 * "Foreign readers"; {@link Readers} is the JVM's side of it.
 */
public final class ReaderDescriptor {
    private ReaderDescriptor() {}

    public static final int READERS = 16;
    public static final int READER_STATE_OFFSET = 0;
    public static final int READER_PID_OFFSET = 8;
    public static final int READER_START_OFFSET = 16;
    public static final int READER_HAZARD_OFFSET = 24;
    public static final int READER_PINS_OFFSET = 64;
    public static final int READER_PINS = 16;
    public static final int READER_SLOT_LENGTH = READER_PINS_OFFSET + 8 * READER_PINS;   // 192
    public static final int READER_TABLE_LENGTH = READERS * READER_SLOT_LENGTH;

    /** State of a slot whose reader detached with pins a JVM must still give back. */
    public static final long READER_LEFT = 4;
    /** Bit 0 of a pin word: the reader is done with the box; a JVM gives its count back. */
    public static final long PIN_RETURNED = 1;

    static {
        if (HeaderDescriptor.READERS_OFFSET + READER_TABLE_LENGTH > HeaderDescriptor.HEADER_LENGTH)
            throw new ExceptionInInitializerError("the reader table does not fit in the header");
    }
}
