package slab.vector;

import static slab.vector.VecNodes.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import clojure.lang.IDeref;
import clojure.lang.IFn;
import clojure.lang.RT;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.value.Decoder;
import slab.value.Equality;
import slab.value.Slots;
import slab.value.Tags;

/**
 * Whole-vector reads: decoded chunks (one leaf each), reduce and
 * kv-reduce (honoring {@code reduced}), and searches. Loops read a leaf's
 * slots in bulk into heap arrays. A vector-of reduces in
 * {@link PrimReads}. The caller ({@link Vectors}) checks and fences the
 * handle.
 */
final class VecReads {
    private VecReads() {}

    /** The leaf holding index base (a multiple of W). */
    static long leafAt(Handle r, Segment s, int bits, int cnt, int base) {
        return base >= tailoff(cnt, bits) ? tail(s, r.tail, r.elem, cnt, bits) : leafFor(s, r.node, r.elem, r.shift, bits, base);
    }

    /** Slots in the leaf at base: W inside the trie, the tail's count for the tail. */
    static int capAt(int bits, int cnt, int base) {
        int to = tailoff(cnt, bits);
        return base >= to ? cnt - to : 1 << bits;
    }

    /**
     * Copies a leaf's payloads and tags into heap arrays in two bulk copies,
     * so loops over the elements read plain arrays instead of making two
     * checked segment reads per element.
     */
    static void readLeaf(Segment s, long leaf, int cap, long[] payloads, byte[] tags) {
        MemorySegment ms = s.memory();
        try {
            MemorySegment.copy(ms, ValueLayout.JAVA_LONG, leaf + VecNodeDescriptor.payloadOffset(0), payloads, 0, cap);
            MemorySegment.copy(ms, ValueLayout.JAVA_BYTE, leaf + VecNodeDescriptor.tagOffset(cap, 0), tags, 0, cap);
        } catch (RuntimeException | InternalError e) {
            throw s.fault(e);
        }
    }

    /** The value of a slot of r; longs, the common case, without the decoder's switch; collections borrow r's counts. */
    private static Object value(Heap h, Handle r, int tag, long payload) {
        return tag == Tags.LONG ? (Object) payload : Decoder.decodeIn(h, r, tag, payload);
    }

    // --- chunks ----------------------------------------------------------------------

    /**
     * The elements of the leaf holding index base (a multiple of W), read
     * in bulk (two copies, not two checked reads per element); longs stay
     * unboxed until asked for ({@link LeafChunk}).
     */
    static LeafChunk chunk(Handle r, int base) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r), elem = r.elem;
        long leaf = leafAt(r, s, bits, cnt, base);
        int cap = capAt(bits, cnt, base);
        if (elem != 0) {
            long[] xs = new long[cap];
            PrimReads.readBits(s, elem, leaf, cap, xs);
            return new LeafChunk(null, xs, elem, 0, cap);
        }
        Slots slots = new Slots(cap);
        byte[] tags = new byte[cap];
        readLeaf(s, leaf, cap, slots.payloads(), tags);
        for (int j = 0; j < cap; j++) slots.tag(h, r, j, tags[j]);
        return new LeafChunk(slots, null, 0, 0, cap);
    }

    static Object[] toArray(Handle r) {
        int cnt = count(r), w = 1 << r.heap.segment().vecBits();
        Object[] out = new Object[cnt];
        for (int base = 0; base < cnt; base += w) {
            LeafChunk c = chunk(r, base);
            for (int j = 0; j < c.end(); j++) out[base + j] = c.at(j);
        }
        return out;
    }

    // --- reduce ------------------------------------------------------------------------

    /** Reduces elements start.. with f from init; stops at a reduced value and returns what it wraps. */
    static Object reduce(Handle r, int start, IFn f, Object init) {
        if (r.elem != 0) return PrimReads.reduce(r, start, f, init);
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
        long[] payloads = new long[mask + 1];
        byte[] tags = new byte[mask + 1];
        IFn.OLO prim = f instanceof IFn.OLO p ? p : null;
        for (int base = start & ~mask; base < cnt; base += mask + 1) {
            int cap = capAt(bits, cnt, base);
            readLeaf(s, leafAt(r, s, bits, cnt, base), cap, payloads, tags);
            for (int j = Math.max(0, start - base); j < cap; j++) {
                // (fn [acc ^long x] ...) gets a stored long as it is: nothing boxed
                init = prim != null && tags[j] == Tags.LONG ? prim.invokePrim(init, payloads[j])
                    : f.invoke(init, value(h, r, tags[j], payloads[j]));
                if (RT.isReduced(init)) return ((IDeref) init).deref();
            }
        }
        return init;
    }

    /** kv-reduce: f receives the index as an Integer, as PersistentVector passes it. */
    static Object kvreduce(Handle r, IFn f, Object init) {
        if (r.elem != 0) return PrimReads.kvreduce(r, f, init);
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r);
        long[] payloads = new long[1 << bits];
        byte[] tags = new byte[1 << bits];
        for (int base = 0; base < cnt; base += 1 << bits) {
            int cap = capAt(bits, cnt, base);
            readLeaf(s, leafAt(r, s, bits, cnt, base), cap, payloads, tags);
            for (int j = 0; j < cap; j++) {
                init = f.invoke(init, Integer.valueOf(base + j), value(h, r, tags[j], payloads[j]));
                if (RT.isReduced(init)) return ((IDeref) init).deref();
            }
        }
        return init;
    }

    // --- searches ----------------------------------------------------------------------

    /** First index of an element = to o, or -1 (java.util.List.indexOf with Clojure's =). */
    static int indexOf(Handle r, Object o) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r);
        for (int base = 0; base < cnt; base += 1 << bits) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = 0; j < cap; j++)
                if (Equality.equalsValue(h, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j), o)) return base + j;
        }
        return -1;
    }

    static int lastIndexOf(Handle r, Object o) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r), w = 1 << bits;
        for (int base = (cnt - 1) & ~(w - 1); base >= 0 && cnt > 0; base -= w) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = cap - 1; j >= 0; j--)
                if (Equality.equalsValue(h, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j), o)) return base + j;
        }
        return -1;
    }
}
