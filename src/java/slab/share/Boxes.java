package slab.share;

import static slab.share.BoxDescriptor.*;

import slab.mem.BlockTypes;
import slab.mem.Seals;
import slab.mem.Segment;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.ref.RefVisitor;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;

/**
 * Boxes and cells (layout in {@link BoxDescriptor}): making a box for a
 * value, and the walker of both block types, the one place that knows
 * which of their words hold counts.
 */
public final class Boxes {
    private Boxes() {}

    /** A new box holding v (validated first: an unsupported value writes nothing). */
    public static long box(Heap h, Object v) {
        return box(h, v, false);
    }

    /**
     * A new box holding v; trusted skips validation, for a value read out of
     * a segment (a snapshot's copy), which holds nothing slab cannot store.
     */
    static long box(Heap h, Object v, boolean trusted) {
        Slot slot = new Slot();
        if (trusted) Encoder.encodeTrusted(h, v, slot);
        else Encoder.encode(h, v, slot);
        return box(h, slot);
    }

    /** A new box holding slot, whose count (if counted) passes to the box. */
    static long box(Heap h, Slot slot) {
        long b;
        try {
            b = h.allocator().allocate(BOX_LENGTH - HEADER, BlockTypes.BOX);
        } catch (RuntimeException e) {
            RefCounts.releaseSlot(h, slot.tag, slot.payload);
            throw e;
        }
        Segment s = h.segment();
        s.putLong(b + BOX_TAG_OFFSET, slot.tag);
        s.putLong(b + BOX_PAYLOAD_OFFSET, slot.payload);
        s.putInt(b + BOX_SEAL_OFFSET, sealOf(s, b));
        return b;
    }

    /** Checks b before its slot is read: a live BOX block holding its whole layout. */
    static void check(Segment s, long b) {
        s.within(b, s.block(b, BlockTypes.BOX, "a box"), b, BOX_LENGTH, "a whole box");
        if (s.verifyOnRead) checkSealOf(s, b);
    }

    /** The seal of box b: bytes [8, 24), the seal's own bytes 12..16 read as 0. */
    private static int sealOf(Segment s, long b) {
        return Seals.of(s, b, HEADER, BOX_LENGTH, BOX_TAG_OFFSET, 0xFFFF_FFFFL);
    }

    /** Checks the seal of box b, a live box holding its whole layout. */
    public static void checkSeal(Segment s, long b) {
        s.within(b, s.block(b, BlockTypes.BOX, "a box"), b, BOX_LENGTH, "a whole box");
        checkSealOf(s, b);
    }

    private static void checkSealOf(Segment s, long b) {
        int stored = s.getInt(b + BOX_SEAL_OFFSET), computed = sealOf(s, b);
        if (stored != computed) throw Seals.mismatch(s, b, BlockTypes.BOX, stored, computed);
    }

    /** Calls v for the counted payload of a box, or the box a cell names (block types BOX, CELL). */
    public static void forEachRef(Segment s, long b, RefVisitor v) {
        long hd = s.liveHeader(b, "a box or cell");
        s.within(b, hd, b, slab.mem.AllocatorDescriptor.typeOf(hd) == BlockTypes.BOX ? BOX_LENGTH : CELL_LENGTH,
            "a whole box or cell");
        if (slab.mem.AllocatorDescriptor.typeOf(hd) == BlockTypes.BOX) {
            if (Tags.isCounted(s.getByte(b + BOX_TAG_OFFSET))) v.visit(s.getLong(b + BOX_PAYLOAD_OFFSET));
        } else {
            long box = s.getLongVolatile(b + CELL_WORD_OFFSET);
            if (box != 0) v.visit(box);
        }
    }
}
