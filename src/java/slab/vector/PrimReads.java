package slab.vector;

import static slab.vector.PrimLeafDescriptor.*;
import static slab.vector.VecNodes.count;
import static slab.vector.VecReads.capAt;
import static slab.vector.VecReads.leafAt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import clojure.lang.IDeref;
import clojure.lang.IFn;
import clojure.lang.RT;
import slab.mem.Segment;
import slab.ref.Handle;

/**
 * reduce and kv-reduce over a vector-of. Each leaf is copied in one bulk
 * copy into a heap array of its primitive type, and a function compiled
 * with primitive hints is called without boxing: {@code IFn.DDD} and
 * {@code IFn.ODO} over doubles and floats, {@code IFn.LLL} and
 * {@code IFn.OLO} over longs, ints, shorts and bytes (a float or an int
 * widened, as the function's own boxed entry point would cast it). Any
 * other function gets each element boxed as nth returns it. A function of
 * primitives cannot return a {@code reduced}, so those loops do not look
 * for one. The caller ({@link Vectors}) checks and fences the handle.
 */
final class PrimReads {
    private PrimReads() {}

    /** Reduces elements start.. with f from init; stops at a reduced value and returns what it wraps. */
    static Object reduce(Handle r, int start, IFn f, Object init) {
        int elem = r.elem;
        if (start >= r.count) return init;   // as clojure.core: init unchanged, not cast
        boolean floating = elem == ELEM_DOUBLE || elem == ELEM_FLOAT;
        boolean integral = elem == ELEM_LONG || elem == ELEM_INT || elem == ELEM_SHORT || elem == ELEM_BYTE;
        if (floating && f instanceof IFn.DDD d && (init instanceof Double || init instanceof Long))
            return reduceDDD(r, start, d, ((Number) init).doubleValue());
        if (floating && f instanceof IFn.ODO o) return reduceODO(r, start, o, init);
        if (integral && f instanceof IFn.LLL l && (init instanceof Long || init instanceof Integer))
            return reduceLLL(r, start, l, ((Number) init).longValue());
        if (integral && f instanceof IFn.OLO o) return reduceOLO(r, start, o, init);
        return reduceBoxed(r, start, f, init);
    }

    private static Object reduceDDD(Handle r, int start, IFn.DDD f, double acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
        double[] xs = new double[mask + 1];
        float[] fs = r.elem == ELEM_FLOAT ? new float[mask + 1] : null;
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readDoubles(s, r.elem, leafAt(r, s, bits, cnt, base), cap, xs, fs);
            for (int j = Math.max(0, start - base); j < cap; j++) acc = f.invokePrim(acc, xs[j]);
        }
        return acc;
    }

    private static Object reduceODO(Handle r, int start, IFn.ODO f, Object acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
        double[] xs = new double[mask + 1];
        float[] fs = r.elem == ELEM_FLOAT ? new float[mask + 1] : null;
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readDoubles(s, r.elem, leafAt(r, s, bits, cnt, base), cap, xs, fs);
            for (int j = Math.max(0, start - base); j < cap; j++) {
                acc = f.invokePrim(acc, xs[j]);
                if (RT.isReduced(acc)) return ((IDeref) acc).deref();
            }
        }
        return acc;
    }

    private static Object reduceLLL(Handle r, int start, IFn.LLL f, long acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
        long[] xs = new long[mask + 1];
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readBits(s, r.elem, leafAt(r, s, bits, cnt, base), cap, xs);
            for (int j = Math.max(0, start - base); j < cap; j++) acc = f.invokePrim(acc, xs[j]);
        }
        return acc;
    }

    private static Object reduceOLO(Handle r, int start, IFn.OLO f, Object acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
        long[] xs = new long[mask + 1];
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readBits(s, r.elem, leafAt(r, s, bits, cnt, base), cap, xs);
            for (int j = Math.max(0, start - base); j < cap; j++) {
                acc = f.invokePrim(acc, xs[j]);
                if (RT.isReduced(acc)) return ((IDeref) acc).deref();
            }
        }
        return acc;
    }

    private static Object reduceBoxed(Handle r, int start, IFn f, Object acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r), elem = r.elem;
        long[] xs = new long[mask + 1];
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readBits(s, elem, leafAt(r, s, bits, cnt, base), cap, xs);
            for (int j = Math.max(0, start - base); j < cap; j++) {
                acc = f.invoke(acc, PrimElems.box(elem, xs[j]));
                if (RT.isReduced(acc)) return ((IDeref) acc).deref();
            }
        }
        return acc;
    }

    /** kv-reduce: f receives the index as an Integer, as PersistentVector passes it. */
    static Object kvreduce(Handle r, IFn f, Object acc) {
        Segment s = r.heap.segment();
        int bits = s.vecBits(), w = 1 << bits, cnt = count(r), elem = r.elem;
        long[] xs = new long[w];
        for (int base = 0; base < cnt; base += w) {
            int cap = capAt(bits, cnt, base);
            readBits(s, elem, leafAt(r, s, bits, cnt, base), cap, xs);
            for (int j = 0; j < cap; j++) {
                acc = f.invoke(acc, Integer.valueOf(base + j), PrimElems.box(elem, xs[j]));
                if (RT.isReduced(acc)) return ((IDeref) acc).deref();
            }
        }
        return acc;
    }

    /**
     * Calls f with the accumulator and each leaf's elements in order, as a
     * read-only MemorySegment over the leaf's bytes (count x width, the
     * element at index k of the slice being the vector's next one): what a
     * native kernel reads in place. Stops at a reduced value.
     *
     * <p>The segments belong to an arena closed when this returns, so one
     * that f keeps throws IllegalStateException instead of reading a block
     * freed and reused since. With native access enabled (what a native
     * kernel needs anyway) they are views of the leaves; without it slab
     * may not narrow a segment's scope (a restricted method), and they are
     * copies.
     */
    @SuppressWarnings("restricted")   // reinterpret, called only when the module has native access
    static Object reduceLeaves(Handle r, IFn f, Object acc) {
        if (r.elem == 0)
            throw slab.Errors.info("bad-argument", "reduce-leaves needs a slab vector-of, not a vector of boxed values",
                "argument", clojure.lang.Keyword.intern("v"));
        Segment s = r.heap.segment();
        int bits = s.vecBits(), w = 1 << bits, cnt = count(r), width = width(r.elem);
        try (Arena scope = Arena.ofShared()) {
            for (int base = 0; base < cnt; base += w) {
                int cap = capAt(bits, cnt, base);
                MemorySegment leaf;
                try {
                    MemorySegment in = s.memory().asSlice(leafAt(r, s, bits, cnt, base) + ELEMENTS_OFFSET, (long) cap * width);
                    leaf = (NATIVE_ACCESS ? in.reinterpret(scope, null) : scope.allocate(in.byteSize(), 8).copyFrom(in)).asReadOnly();
                } catch (RuntimeException | InternalError e) {
                    throw s.fault(e);
                }
                acc = f.invoke(acc, leaf);
                if (RT.isReduced(acc)) return ((IDeref) acc).deref();
            }
            return acc;
        }
    }

    /** Whether slab's module may call restricted methods (MemorySegment.reinterpret) without a warning. */
    private static final boolean NATIVE_ACCESS = PrimReads.class.getModule().isNativeAccessEnabled();

    // --- bulk reads of a leaf ---------------------------------------------------------------

    /** The cap elements of a leaf of doubles or floats, as doubles (fs: scratch for floats). */
    private static void readDoubles(Segment s, int elem, long leaf, int cap, double[] out, float[] fs) {
        MemorySegment ms = s.memory();
        long at = leaf + ELEMENTS_OFFSET;
        try {
            if (elem == ELEM_DOUBLE) {
                MemorySegment.copy(ms, ValueLayout.JAVA_DOUBLE_UNALIGNED, at, out, 0, cap);
            } else {
                MemorySegment.copy(ms, ValueLayout.JAVA_FLOAT_UNALIGNED, at, fs, 0, cap);
                for (int j = 0; j < cap; j++) out[j] = fs[j];
            }
        } catch (RuntimeException | InternalError e) {
            throw s.fault(e);
        }
    }

    /** The cap elements of a leaf as element bits (see {@link PrimElems}). */
    static void readBits(Segment s, int elem, long leaf, int cap, long[] out) {
        MemorySegment ms = s.memory();
        long at = leaf + ELEMENTS_OFFSET;
        try {
            switch (elem) {
                case ELEM_LONG, ELEM_DOUBLE -> MemorySegment.copy(ms, ValueLayout.JAVA_LONG_UNALIGNED, at, out, 0, cap);
                case ELEM_INT -> { for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_INT_UNALIGNED, at + 4L * j); }
                case ELEM_FLOAT -> {
                    for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_INT_UNALIGNED, at + 4L * j) & 0xFFFF_FFFFL;
                }
                case ELEM_SHORT -> { for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2L * j); }
                case ELEM_CHAR -> { for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_CHAR_UNALIGNED, at + 2L * j); }
                case ELEM_BYTE -> { for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_BYTE, at + j); }
                default -> { for (int j = 0; j < cap; j++) out[j] = ms.get(ValueLayout.JAVA_BYTE, at + j) != 0 ? 1 : 0; }
            }
        } catch (RuntimeException | InternalError e) {
            throw s.fault(e);
        }
    }
}
