package slab.share;

import static slab.ref.CollDescriptor.*;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;

import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import slab.map.MapVerify;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.Heap;
import slab.value.SlotHasher;
import slab.value.Tags;
import slab.value.ValueCheck;
import slab.vector.VecVerify;

/**
 * verify's walk of every value the named roots publish: each collection
 * version once (a work list and a visited set, so nesting costs no stack
 * and a collection block that names itself ends the walk), every node
 * checked as a reader checks it, and every hash the segment keeps
 * recomputed from the values (MapVerify, VecVerify, ValueCheck). A root
 * whose walk meets damage is reported, with the damage, and the walk goes
 * on with the next root.
 */
final class ReachableCheck {
    private ReachableCheck() {}

    private static final Keyword CELL = Keyword.intern("cell");

    /** Adds to damaged the ex-data of the first damage found under each root. */
    static void check(Sharing sh, List<Object> damaged) {
        Heap h = sh.heap;
        Segment s = sh.s;
        HashSet<Long> seen = new HashSet<>();
        ArrayDeque<long[]> work = new ArrayDeque<>();
        ValueCheck.Nested nested = (tag, coll) -> {
            if (seen.add(coll)) work.add(new long[] {tag, coll});
        };
        SlotHasher hasher = (tag, p) -> ValueCheck.hash(h, tag, p, nested);
        // A root's name must be found by its hash, as every lookup of the root finds it: a damaged
        // bucket chain would make the root read as absent, and a writer add a second one of that name.
        RootTable.forEachEntry(s, (name, cell) -> {
            try {
                ValueCheck.hash(h, Tags.KEYWORD, name, nested);
            } catch (RuntimeException e) {
                IPersistentMap d = Damage.data(e);
                if (d == null) throw e;
                damaged.add(d.assoc(CELL, cell));
            }
        });
        RootTable.forEachCell(s, cell -> {
            long box = s.getLongVolatile(cell);
            if (box == 0) return;
            try {
                Boxes.checkSeal(s, box);
                hasher.hash(s.getByte(box + BoxDescriptor.BOX_TAG_OFFSET), s.getLong(box + BoxDescriptor.BOX_PAYLOAD_OFFSET));
                while (!work.isEmpty()) {
                    long[] next = work.poll();
                    collection(h, s, (int) next[0], next[1], hasher);
                }
            } catch (RuntimeException e) {
                IPersistentMap d = Damage.data(e);
                if (d == null) throw e;
                damaged.add(d.assoc(CELL, cell));
                work.clear();
            }
        });
    }

    /** One collection version (its block already checked), and its metadata. */
    private static void collection(Heap h, Segment s, int tag, long coll, SlotHasher hasher) {
        int metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL) hasher.hash(metaTag, s.getLong(coll + COLL_META_OFFSET));
        long root = s.getLong(coll + COLL_ROOT_OFFSET), count = s.getInt(coll + COLL_COUNT_OFFSET);
        int hash = s.getInt(coll + COLL_HASH_OFFSET);
        if (tag == Tags.MAP || tag == Tags.SET) MapVerify.verify(s, root, count, hash, tag == Tags.SET, hasher);
        else VecVerify.verify(h, root, s.getLong(coll + COLL_TAIL_OFFSET), count, s.getByte(coll + COLL_SHIFT_OFFSET),
            tag == Tags.VECTOR_OF ? s.getByte(coll + COLL_ELEM_OFFSET) : 0, hash, hasher);
    }
}
