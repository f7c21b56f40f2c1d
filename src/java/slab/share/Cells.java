package slab.share;

import static slab.share.BoxDescriptor.*;

import clojure.lang.IFn;
import clojure.lang.IMeta;
import clojure.lang.Util;
import slab.Errors;
import slab.ref.Heap;
import slab.ref.Handle;
import slab.ref.SharedColl;
import slab.ref.WriteGate;
import slab.mem.BlockTypes;
import slab.mem.KillPoints;
import slab.mem.Segment;
import slab.ref.RefCounts;
import slab.value.Decoder;

/**
 * Cells: segment words that each publish one value, as the offset of a box
 * holding it. A named root's cell lives in the root table; an anonymous
 * atom's in a CELL block. Reading is lock-free (hazard-protected), and
 * publishing is one compare-and-set, so no reader ever sees a value that
 * some publish did not fully build.
 */
public final class Cells {
    private Cells() {}

    /** The value a cell publishes right now, as (box, value); value is nil for an empty cell. */
    public static final class Snapshot {
        public final long box;
        public final Object value;

        Snapshot(long box, Object value) {
            this.box = box;
            this.value = value;
        }
    }

    public static Snapshot read(Sharing sh, long cell) {
        if (sh.readOnly) return readStill(sh, cell);
        int g = sh.heap.gate().enter();   // a collection read out takes counts
        try {
            return readBody(sh, cell);
        } catch (InternalError e) {
            throw sh.s.fault(e);   // a file truncated under us (the JVM reports it late)
        } finally {
            sh.heap.gate().exit(g);
        }
    }

    /**
     * Reads the cell's value. Collections come back as handles owning their
     * own counts, so they stay valid after the cell moves on.
     */
    private static Snapshot readBody(Sharing sh, long cell) {
        sh.s.checkOpen();
        int h = sh.acquireHazard();
        try {
            return readAnnounced(sh, cell, sh.hazard(h));
        } finally {
            sh.releaseHazard(h);
        }
    }

    /**
     * Reads a cell of a read-only mapping: nothing can replace or free its
     * box, so there is nothing to announce, and the handle takes no counts.
     */
    private static Snapshot readStill(Sharing sh, long cell) {
        Segment s = sh.s;
        s.checkOpen();
        long box = s.getLongVolatile(cell);
        if (box == 0) return new Snapshot(0, null);
        Boxes.check(s, box);   // an untrusted offset, as in readAnnounced
        return new Snapshot(box, Decoder.decode(sh.heap, s.getByte(box + BOX_TAG_OFFSET), s.getLong(box + BOX_PAYLOAD_OFFSET)));
    }

    /**
     * Reads the cell with its box announced in hazard word hz. The box stays
     * announced until the caller clears hz, so it cannot be given back and
     * its offset reused meanwhile: a compare-and-set against it is free of ABA.
     */
    private static Snapshot readAnnounced(Sharing sh, long cell, long hz) {
        Segment s = sh.s;
        s.checkOpen();
        while (true) {
            long box = s.getLongVolatile(cell);
            if (box == 0) return new Snapshot(0, null);
            s.putLongVolatile(hz, box);
            if (s.getLongVolatile(cell) != box) continue;   // moved on before we announced: try again
            Boxes.check(s, box);
            return new Snapshot(box, Decoder.decode(sh.heap, s.getByte(box + BOX_TAG_OFFSET), s.getLong(box + BOX_PAYLOAD_OFFSET)));
        }
    }

    /**
     * Publishes newBox in the cell if it still holds expectBox. On success the
     * cell owns newBox's count and the count on the box it replaced goes back
     * (once no reader announces it); on failure the caller still owns newBox.
     */
    public static boolean publish(Sharing sh, long cell, long expectBox, long newBox) {
        KillPoints.step("publish");
        if (!sh.s.casLong(cell, expectBox, newBox)) return false;
        KillPoints.step("publish");
        if (expectBox != 0) sh.retire(expectBox);
        KillPoints.step("publish");
        return true;
    }

    public static Snapshot reset(Sharing sh, long cell, Object v, IFn validator) {
        sh.s.checkOpen();
        sh.s.checkWritable();
        validate(validator, v);   // user code: outside the gate
        int g = sh.heap.gate().enter();
        try {
            return resetBody(sh, cell, v);
        } catch (InternalError e) {
            throw sh.s.fault(e);   // a file truncated under us (the JVM reports it late)
        } finally {
            sh.heap.gate().exit(g);
        }
    }

    /** Publishes v unconditionally; returns the snapshot it replaced. */
    private static Snapshot resetBody(Sharing sh, long cell, Object v) {
        long nb = Boxes.box(sh.heap, v);
        while (true) {
            long old = sh.s.getLongVolatile(cell);
            if (publish(sh, cell, old, nb)) return new Snapshot(old, null);
        }
    }

    /** The outcome of a swap: the value replaced and the value now published. */
    public static final class Swapped {
        public final Object oldValue;
        public final Object newValue;
        /** False when f returned the same version: nothing was published. */
        public final boolean published;

        Swapped(Object oldValue, Object newValue, boolean published) {
            this.oldValue = oldValue;
            this.newValue = newValue;
            this.published = published;
        }
    }

    /**
     * Reads the cell and pins its box: the caller owns one count on it
     * (recorded in the ledger), so the box cannot be given back and its
     * offset reused until {@link #unpin}, and a later compare-and-set against
     * it is free of ABA without holding a hazard word. Hazard words are thus
     * held only while a box is read, never across user code.
     */
    private static Snapshot readPinned(Sharing sh, long cell) {
        int h = sh.acquireHazard();
        try {
            Snapshot cur = readAnnounced(sh, cell, sh.hazard(h));
            if (cur.box != 0) {
                RefCounts.retain(sh.heap, cur.box);   // safe: announced, so not yet given back
                KillPoints.step("publish");
                sh.heap.ownership().own(cur.box);
            }
            return cur;
        } finally {
            sh.releaseHazard(h);
        }
    }

    private static void unpin(Sharing sh, long box) {
        if (box == 0) return;
        KillPoints.step("publish");
        sh.heap.ownership().releaseOwned(box);
        KillPoints.step("publish");
    }

    public static Swapped swap(Sharing sh, long cell, IFn f, Object[] args, IFn validator) {
        try {
            return swapBody(sh, cell, f, args, validator);
        } catch (InternalError e) {
            throw sh.s.fault(e);   // a file truncated under us (the JVM reports it late)
        }
    }

    /**
     * Applies f to the current value (with args) and publishes the result by
     * compare-and-set, retrying on contention, as swap! does. If f returns
     * the value it was given (the same version), nothing is published. No
     * hazard word and no place in the write gate is held while f runs (the
     * pinned count is recorded), so any number of threads can swap and a
     * sweep can run meanwhile.
     */
    private static Swapped swapBody(Sharing sh, long cell, IFn f, Object[] args, IFn validator) {
        sh.s.checkOpen();
        sh.s.checkWritable();
        WriteGate gate = sh.heap.gate();
        while (true) {
            Snapshot cur;
            int g = gate.enter();
            try {
                cur = readPinned(sh, cell);
            } finally {
                gate.exit(g);
            }
            try {
                Object nv = args == null ? f.invoke(cur.value)
                    : f.applyTo(clojure.lang.RT.cons(cur.value, clojure.lang.ArraySeq.create(args)));
                if (sameVersion(cur.value, nv)) return new Swapped(cur.value, cur.value, false);
                validate(validator, nv);
                g = gate.enter();
                try {
                    long nb = Boxes.box(sh.heap, nv);
                    if (publish(sh, cell, cur.box, nb)) return new Swapped(cur.value, nv, true);
                    RefCounts.release(sh.heap, nb);
                } finally {
                    gate.exit(g);
                }
            } finally {
                unpin(sh, cur.box);   // through the owners, which a sweep holds back: no gate needed
            }
        }
    }

    public static boolean compareAndSet(Sharing sh, long cell, Object oldv, Object newv, IFn validator) {
        sh.s.checkOpen();
        sh.s.checkWritable();
        validate(validator, newv);   // user code: before any hazard word is held, outside the gate
        int g = sh.heap.gate().enter();
        try {
            return compareAndSetBody(sh, cell, oldv, newv);
        } catch (InternalError e) {
            throw sh.s.fault(e);   // a file truncated under us (the JVM reports it late)
        } finally {
            sh.heap.gate().exit(g);
        }
    }

    /** compare-and-set!: succeeds only if the cell still publishes the version oldv was read from. */
    private static boolean compareAndSetBody(Sharing sh, long cell, Object oldv, Object newv) {
        Snapshot cur = readPinned(sh, cell);
        try {
            if (!sameVersion(cur.value, oldv) && !(isScalar(oldv) && sameScalar(cur.value, oldv))) return false;
            if (sameVersion(cur.value, newv)) return true;
            long nb = Boxes.box(sh.heap, newv);
            if (publish(sh, cell, cur.box, nb)) return true;
            RefCounts.release(sh.heap, nb);
            return false;
        } finally {
            unpin(sh, cur.box);
        }
    }

    private static boolean isScalar(Object v) {
        return !(v instanceof clojure.lang.IPersistentCollection);
    }

    /** A published scalar equals the expected one: =, or both NaN (the NaN rule: a stored NaN is = to any NaN). */
    private static boolean sameScalar(Object cur, Object expected) {
        return Util.equiv(cur, expected) || (isNaN(cur) && isNaN(expected));
    }

    private static boolean isNaN(Object v) {
        return (v instanceof Double d && d.isNaN()) || (v instanceof Float f && f.isNaN());
    }

    /** Same version: the same object, or two handles on the same nodes with the same metadata. */
    static boolean sameVersion(Object a, Object b) {
        if (a == b) return true;
        if (a instanceof SharedColl x && b instanceof SharedColl y) {
            Handle ra = x.slabHandle(), rb = y.slabHandle();
            return ra.heap == rb.heap && ra.kind == rb.kind && ra.node == rb.node && ra.tail == rb.tail
                && ra.count == rb.count && Util.equiv(((IMeta) a).meta(), ((IMeta) b).meta());
        }
        return false;
    }

    private static void validate(IFn validator, Object v) {
        if (validator == null) return;
        Object ok = validator.invoke(v);
        if (ok == null || ok == Boolean.FALSE) throw new IllegalStateException("Invalid reference state");
    }

    // --- anonymous cells ---------------------------------------------------------------------

    /** A new CELL block (owned by the caller's atom object) publishing v. */
    public static long newCell(Sharing sh, Object v) {
        sh.s.checkWritable();
        int g = sh.heap.gate().enter();
        try {
            return newCellGated(sh, v);
        } finally {
            sh.heap.gate().exit(g);
        }
    }

    private static long newCellGated(Sharing sh, Object v) {
        long nb = Boxes.box(sh.heap, v);
        long cell;
        try {
            cell = sh.heap.allocator().allocate(CELL_LENGTH - HEADER, BlockTypes.CELL);
        } catch (RuntimeException e) {
            RefCounts.release(sh.heap, nb);
            throw e;
        }
        sh.s.putLongVolatile(cell + CELL_WORD_OFFSET, nb);
        sh.heap.ownership().own(cell);
        return cell;
    }

    /** The word of a CELL block. */
    public static long wordOf(long cellBlock) { return cellBlock + CELL_WORD_OFFSET; }

    /** Gives back an anonymous atom's cell (its Cleaner action). */
    public static void dropCell(Sharing sh, long cellBlock) {
        if (sh.s.isClosed()) return;
        int g = sh.heap.gate().enter();
        try {
            dropCellGated(sh, cellBlock);
        } finally {
            sh.heap.gate().exit(g);
        }
    }

    private static void dropCellGated(Sharing sh, long cellBlock) {
        sh.heap.ownership().disown(cellBlock);
        long box = sh.s.getLongVolatile(cellBlock + CELL_WORD_OFFSET);
        sh.s.putLongVolatile(cellBlock + CELL_WORD_OFFSET, 0);
        if (box != 0) sh.retire(box);
        RefCounts.release(sh.heap, cellBlock);
    }

    static RuntimeException notKeyword(Object name) {
        return Errors.info("bad-argument", "A named root's name must be a keyword, got " + name
            + ". Use e.g. :orders.", "name", name);
    }
}
