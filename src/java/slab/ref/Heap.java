package slab.ref;

import slab.mem.Allocator;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;
import slab.value.Interner;

/**
 * One segment's shared values, as this process sees them: the segment, its
 * allocator, its keyword and symbol interner, and the ownership records of
 * this process's handles. Made once per segment on first use; it holds
 * state, not algorithms: encoding lives in slab.value, counts in
 * {@link RefCounts}, nodes in slab.map and slab.vector.
 */
public final class Heap {
    private final Segment s;
    private final Allocator alloc;
    private final Interner interner;
    private final Ownership ownership;
    private final WriteGate gate = new WriteGate();
    private final SegmentLineage lineage;
    /**
     * The segment is mapped read-only: nothing can free a block while it is
     * mapped, so handles take no counts and register no Cleaner action.
     */
    private final boolean readOnly;

    private Heap(Segment s) {
        this.s = s;
        this.readOnly = s.isReadOnly();
        this.alloc = s.allocator();
        this.interner = new Interner(s);
        this.ownership = new Ownership(this);
        this.lineage = new SegmentLineage(this);
        // dropped handles give counts back as the Cleaner runs; a full allocation waits for that
        alloc.onPressure(System::gc, ownership::releasesCompleted);
    }

    /** The heap of a segment, made on first use. */
    public static Heap of(Segment s) {
        return s.extension(Heap::new);
    }

    /** The heap of a segment new values are to be built in: a read-only one is refused. */
    public static Heap forWriting(Segment s) {
        s.checkWritable();
        return of(s);
    }

    public Segment segment() { return s; }
    public boolean readOnly() { return readOnly; }
    public Allocator allocator() { return alloc; }
    public Interner interner() { return interner; }
    public Ownership ownership() { return ownership; }
    /** What every update enters, so that recover!'s sweep can hold updates off. */
    public WriteGate gate() { return gate; }
    /** The lineage protocol's view of this segment (counts, base and heir words, its lock). */
    public SegmentLineage lineage() { return lineage; }

    /** A fresh transient edit id, unique in the segment across processes. */
    public long newEdit() {
        s.checkWritable();   // every transient starts here
        long id = s.getAndAddLong(HeaderDescriptor.NEXT_EDIT_OFFSET, 1);
        // Ids stay below 2^47 (a sealed word has bit 63 set, so it never equals one): any other is damage.
        if (id < 1 || id > slab.vector.VecNodeDescriptor.MAX_EDIT)
            throw slab.mem.Damage.at(s, HeaderDescriptor.NEXT_EDIT_OFFSET, "a next-edit word between 1 and "
                + slab.vector.VecNodeDescriptor.MAX_EDIT + ", found " + id);
        return id;
    }
}
