package slab.share;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentVector;
import slab.mem.AllocatorDescriptor;
import slab.mem.Damage;
import slab.mem.LongStack;
import slab.mem.Segment;
import slab.ref.RefWalker;

/**
 * Completes verify's list of damage: one entry per damaged block (the
 * mark's finding and the published-version walk's merged by offset), each
 * with its block type and :roots, the names of the named roots that reach
 * it. Naming roots walks every root again, so it runs only when something
 * is damaged.
 */
final class DamageReport {
    private DamageReport() {}

    private static final Keyword OFFSET = Keyword.intern("offset"), TYPE = Keyword.intern("type"),
        ROOTS = Keyword.intern("roots"), CELL = Keyword.intern("cell");

    /** Rewrites damaged in place (verify's Report holds the list). */
    static void complete(Sharing sh, List<Object> damaged) {
        if (damaged.isEmpty()) return;
        Segment s = sh.s;
        Map<Long, IPersistentMap> byOffset = new LinkedHashMap<>();
        List<IPersistentMap> unplaced = new ArrayList<>();
        for (Object o : damaged) {
            IPersistentMap d = (IPersistentMap) o;
            long off = d.valAt(OFFSET) instanceof Number n ? n.longValue() : 0;
            if (off == 0) unplaced.add(d);
            else byOffset.merge(off, d, DamageReport::union);
        }
        Map<Long, Object> nameOfCell = new HashMap<>();
        Map<Long, List<Object>> roots = new HashMap<>();
        try {
            RootTable.forEachEntry(s, (name, cell) -> {
                Object n = nameOf(sh, name);
                nameOfCell.put(cell, n);
                long box = s.getLongVolatile(cell);
                if (box != 0) forEachReached(sh, box, b -> {
                    if (byOffset.containsKey(b)) roots.computeIfAbsent(b, k -> new ArrayList<>()).add(n);
                });
            });
        } catch (RuntimeException e) {
            if (!Damage.is(e)) throw e;   // a damaged root table (reported by the mark): no root names
        }
        damaged.clear();
        for (Map.Entry<Long, IPersistentMap> e : byOffset.entrySet()) {
            IPersistentMap d = e.getValue();
            if (d.valAt(TYPE) == null) {
                try {
                    d = d.assoc(TYPE, AllocatorDescriptor.typeOf(s.header(e.getKey(), "a block")));
                } catch (RuntimeException ex) {
                    if (!Damage.is(ex)) throw ex;
                }
            }
            List<Object> names = roots.getOrDefault(e.getKey(), new ArrayList<>());
            Object cellName = nameOfCell.get(d.valAt(CELL) instanceof Number c ? c.longValue() : -1L);
            if (cellName != null && !names.contains(cellName)) names.add(cellName);
            damaged.add(d.assoc(ROOTS, PersistentVector.create(names)));
        }
        damaged.addAll(unplaced);
    }

    /** a with b's keys that a lacks (two findings about one block). */
    private static IPersistentMap union(IPersistentMap a, IPersistentMap b) {
        for (clojure.lang.ISeq q = b.seq(); q != null; q = q.next()) {
            Map.Entry<?, ?> e = (Map.Entry<?, ?>) q.first();
            if (!a.containsKey(e.getKey())) a = a.assoc(e.getKey(), e.getValue());
        }
        return a;
    }

    /** The root's name, or its entry's name offset when the name's block is damaged itself. */
    private static Object nameOf(Sharing sh, long name) {
        try {
            return sh.heap.interner().decode(name, slab.value.Tags.KEYWORD);
        } catch (RuntimeException e) {
            if (!Damage.is(e)) throw e;
            return name;
        }
    }

    /** Calls f for every block reachable from box (each once), stepping over what cannot be followed. */
    private static void forEachReached(Sharing sh, long box, java.util.function.LongConsumer f) {
        HashSet<Long> seen = new HashSet<>();
        LongStack work = new LongStack();
        work.push(box);
        while (!work.isEmpty()) {
            long b = work.pop();
            if (!seen.add(b)) continue;
            f.accept(b);
            try {
                RefWalker.pushRefs(sh.heap, b, work);
            } catch (RuntimeException e) {
                if (!Damage.is(e)) throw e;
            }
        }
    }
}
