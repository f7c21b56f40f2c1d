package slab.share;

import slab.mem.AllocatorDescriptor;

/**
 * Layouts of the blocks that let processes share a segment: the process
 * table, each process's ledger, and the named-root table. Offsets are from
 * the block's start (every block begins with the 8-byte allocator header).
 *
 * <pre>
 * Process table (one block, offset in the header's process-table word):
 *   64 + i * SLOT_LENGTH: slot i, for i in 0 .. MAX_PROCESSES-1
 *   slot +0  state word: low byte 0 free, 1 being claimed, 2 live, 3 being
 *            recovered; when 1 or 3, bits 8-31 the claimer's or recoverer's
 *            start time (s mod 2^24) and bits 32-63 its pid
 *        +8  pid
 *        +16 process start time, epoch ms (0 if the OS does not say)
 *        +24 ledger block offset
 *        +64 hazard words, HAZARDS of them: box offsets being read
 *
 * Ledger (one per process, written only by that process):
 *   +8  capacity (entries)   +16 entries in use
 *   +64 entries: (block offset +0, count +8) pairs of longs; offset 0 = empty
 *
 * Named-root table (one block, offset in the header's root-table word):
 *   +8  capacity (entries)
 *   +64 entries: (name +0, cell +8) pairs of longs: name is the offset of an
 *       interned keyword (0 = empty entry), cell the offset of the box the
 *       root currently publishes (0 = never set). Entries are never removed.
 * </pre>
 */
public final class SharingDescriptor {
    private SharingDescriptor() {}

    public static final int HEADER = AllocatorDescriptor.BLOCK_HEADER_LENGTH;

    public static final int MAX_PROCESSES = 64;
    public static final int HAZARDS = 120;
    public static final int SLOTS_OFFSET = 64;
    public static final int SLOT_STATE_OFFSET = 0;
    public static final int SLOT_PID_OFFSET = 8;
    public static final int SLOT_START_OFFSET = 16;
    public static final int SLOT_LEDGER_OFFSET = 24;
    public static final int SLOT_HAZARDS_OFFSET = 64;
    public static final int SLOT_LENGTH = SLOT_HAZARDS_OFFSET + 8 * HAZARDS;   // 1024
    public static final int PROCESS_TABLE_LENGTH = SLOTS_OFFSET + MAX_PROCESSES * SLOT_LENGTH;

    public static final long STATE_FREE = 0, STATE_CLAIMING = 1, STATE_LIVE = 2, STATE_RECOVERING = 3;
    /** The state's bits in the state word; claiming and recovering words name their process above them. */
    public static final long STATE_MASK = 0xFF;

    public static final int LEDGER_CAPACITY_OFFSET = 8;
    public static final int LEDGER_USED_OFFSET = 16;
    public static final int LEDGER_ENTRIES_OFFSET = 64;
    public static final int LEDGER_ENTRY_BLOCK_OFFSET = 0;
    public static final int LEDGER_ENTRY_COUNT_OFFSET = 8;
    public static final int LEDGER_ENTRY_LENGTH = 16;
    public static final int LEDGER_INITIAL_CAPACITY = 1024;

    public static final int ROOTS_CAPACITY_OFFSET = 8;
    public static final int ROOTS_ENTRIES_OFFSET = 64;
    public static final int ROOTS_ENTRY_NAME_OFFSET = 0;
    public static final int ROOTS_ENTRY_CELL_OFFSET = 8;
    public static final int ROOTS_ENTRY_LENGTH = 16;
    /** Distinct root names a segment can ever hold; a clear error beyond it. */
    public static final int ROOTS_CAPACITY = 65536;
}
