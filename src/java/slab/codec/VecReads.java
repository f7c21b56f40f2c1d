package slab.codec;

import static slab.codec.VecNodes.*;

import java.lang.ref.Reference;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.NoSuchElementException;

import clojure.lang.IDeref;
import clojure.lang.IFn;
import clojure.lang.IPersistentVector;
import clojure.lang.ISeq;
import clojure.lang.Murmur3;
import clojure.lang.RT;
import clojure.lang.Sequential;
import clojure.lang.Util;
import slab.mem.Segment;

/**
 * Whole-vector reads: decoded chunks for seqs and iterators, reduce and
 * kv-reduce (honoring {@code reduced}), hashes, equality with PersistentVector's
 * rules, and compareTo. Each public method checks its Root and fences it, so
 * the Cleaner cannot free nodes mid-walk.
 *
 * <p>Equality compares stored slots against on-heap values without decoding
 * scalars; two versions of one segment are compared slot against slot and
 * skip every subtree they share.
 */
public final class VecReads {
    private VecReads() {}

    /** The leaf holding index base (a multiple of W). */
    private static long leafAt(Root r, Segment s, int bits, int cnt, int base) {
        return base >= tailoff(cnt, bits) ? r.tail : leafFor(s, r.node, r.shift, bits, base);
    }

    /**
     * Copies a leaf's payloads and tags into heap arrays in two bulk copies,
     * so loops over the elements read plain arrays instead of making two
     * checked segment reads per element.
     */
    static void readLeaf(Segment s, long leaf, int cap, long[] payloads, byte[] tags) {
        java.lang.foreign.MemorySegment ms = s.memory();
        java.lang.foreign.MemorySegment.copy(ms, java.lang.foreign.ValueLayout.JAVA_LONG,
            leaf + VecNodeDescriptor.payloadOffset(0), payloads, 0, cap);
        java.lang.foreign.MemorySegment.copy(ms, java.lang.foreign.ValueLayout.JAVA_BYTE,
            leaf + VecNodeDescriptor.tagOffset(cap, 0), tags, 0, cap);
    }

    /** The value of a slot of r; longs, the common case, without the codec's switch; collections borrow r's counts. */
    private static Object value(Codec c, Root r, int tag, long payload) {
        return tag == Tags.LONG ? (Object) payload : c.decodeIn(r, tag, payload);
    }

    /** Slots in the leaf at base: W inside the trie, the tail's count for the tail. */
    private static int capAt(int bits, int cnt, int base) {
        int to = tailoff(cnt, bits);
        return base >= to ? cnt - to : 1 << bits;
    }

    // --- chunks ----------------------------------------------------------------------

    /** The decoded elements of the leaf holding index base (a multiple of W). */
    public static Object[] chunk(Root r, int base) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r);
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            Object[] a = new Object[cap];
            for (int j = 0; j < cap; j++) a[j] = slotValue(c, r, s, leaf, cap, j);
            return a;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static Object[] toArray(Root r) {
        int cnt = count(r), w = 1 << r.codec.segment().vecBits();
        Object[] out = new Object[cnt];
        for (int base = 0; base < cnt; base += w) {
            Object[] a = chunk(r, base);
            System.arraycopy(a, 0, out, base, a.length);
        }
        return out;
    }

    /** A seq from index start, or null when start is past the end. */
    public static ISeq seq(Root r, int start) { return VecSeq.create(r, start); }

    public static Iterator<Object> iterator(Root r) { return new Iter(r, 0, count(r)); }

    public static Iterator<Object> iterator(Root r, int start, int end) { return new Iter(r, start, end); }

    public static ListIterator<Object> listIterator(Root r, int index) { return new ListIter(r, index); }

    /** Walks decoded chunks; keeps the Root (and so the nodes) alive while it exists. */
    static final class Iter implements Iterator<Object> {
        private final Root r;
        private final int end, mask;
        private int i, base;
        private Object[] chunk;

        Iter(Root r, int start, int end) {
            this.r = r;
            this.i = start;
            this.end = end;
            this.mask = (1 << r.codec.segment().vecBits()) - 1;
        }

        @Override
        public boolean hasNext() { return i < end; }

        @Override
        public Object next() {
            if (i >= end) throw new NoSuchElementException();
            if (chunk == null || i - base >= chunk.length) {
                base = i & ~mask;
                chunk = chunk(r, base);
            }
            return chunk[i++ - base];
        }
    }

    /** java.util.List's list iterator, read-only, as APersistentVector's. */
    static final class ListIter implements ListIterator<Object> {
        private final Root r;
        private int next;

        ListIter(Root r, int index) {
            this.r = r;
            this.next = index;
        }

        private Object at(int i) {
            r.check();
            try {
                return nth(r, i);
            } finally {
                Reference.reachabilityFence(r);
            }
        }

        @Override public boolean hasNext() { return next < r.count; }
        @Override public Object next() { return at(next++); }
        @Override public boolean hasPrevious() { return next > 0; }
        @Override public Object previous() { return at(--next); }
        @Override public int nextIndex() { return next; }
        @Override public int previousIndex() { return next - 1; }
        @Override public void remove() { throw new UnsupportedOperationException(); }
        @Override public void set(Object o) { throw new UnsupportedOperationException(); }
        @Override public void add(Object o) { throw new UnsupportedOperationException(); }
    }

    // --- reduce ------------------------------------------------------------------------

    /** Reduces elements start.. with f from init; stops at a reduced value and returns what it wraps. */
    public static Object reduce(Root r, int start, IFn f, Object init) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), mask = (1 << bits) - 1, cnt = count(r);
            long[] payloads = new long[mask + 1];
            byte[] tags = new byte[mask + 1];
            for (int base = start & ~mask; base < cnt; base += mask + 1) {
                int cap = capAt(bits, cnt, base);
                readLeaf(s, leafAt(r, s, bits, cnt, base), cap, payloads, tags);
                for (int j = Math.max(0, start - base); j < cap; j++) {
                    init = f.invoke(init, value(c, r, tags[j], payloads[j]));
                    if (RT.isReduced(init)) return ((IDeref) init).deref();
                }
            }
            return init;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** Reduce without an initial value: (f) on an empty range, else starts from element start. */
    public static Object reduce(Root r, int start, IFn f) {
        if (start >= count(r)) return f.invoke();
        Object first;
        r.check();
        try {
            first = nth(r, start);
        } finally {
            Reference.reachabilityFence(r);
        }
        return reduce(r, start + 1, f, first);
    }

    /** kv-reduce: f receives the index as an Integer, as PersistentVector passes it. */
    public static Object kvreduce(Root r, IFn f, Object init) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r);
            long[] payloads = new long[1 << bits];
            byte[] tags = new byte[1 << bits];
            for (int base = 0; base < cnt; base += 1 << bits) {
                int cap = capAt(bits, cnt, base);
                readLeaf(s, leafAt(r, s, bits, cnt, base), cap, payloads, tags);
                for (int j = 0; j < cap; j++) {
                    init = f.invoke(init, Integer.valueOf(base + j), value(c, r, tags[j], payloads[j]));
                    if (RT.isReduced(init)) return ((IDeref) init).deref();
                }
            }
            return init;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- hashing ----------------------------------------------------------------------

    /** Clojure's ordered hash, (hash [..]), from the stored slots (Root caches it). */
    static int orderedHash(Root r) {
        Codec c = r.codec;
        Segment s = c.segment();
        int bits = s.vecBits(), cnt = count(r);
        int h = 1;
        for (int base = 0; base < cnt; base += 1 << bits) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = 0; j < cap; j++) h = 31 * h + c.hasheq(tag(s, leaf, cap, j), payload(s, leaf, j));
        }
        return Murmur3.mixCollHash(h, cnt);
    }

    /** java.util.List's hashCode (what PersistentVector.hashCode returns). */
    public static int javaHashCode(Root r) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r);
            int h = 1;
            for (int base = 0; base < cnt; base += 1 << bits) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = 0; j < cap; j++) {
                    int t = tag(s, leaf, cap, j);
                    long p = payload(s, leaf, j);
                    int eh;
                    if (t == Tags.LONG) eh = Long.hashCode(p);
                    else if (t == Tags.NIL) eh = 0;
                    else eh = c.decodeIn(r, t, p).hashCode();
                    h = 31 * h + eh;
                }
            }
            return h;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- equality ---------------------------------------------------------------------

    /** Root of o when o is a shared vector of r's segment, else null. */
    private static Root sameSegment(Root r, Object o) {
        if (o instanceof SharedColl sc && o instanceof IPersistentVector) {
            Root or = sc.slabRoot();
            if (or.codec == r.codec) return or;
        }
        return null;
    }

    /** Clojure's = (equiv) of version r against o, with APersistentVector.doEquiv's rules. */
    public static boolean equiv(Root r, Object o) {
        r.check();
        try {
            Root other = sameSegment(r, o);
            if (other != null) return equivShared(r, other);
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r);
            if (o instanceof IPersistentVector ov) {
                if (ov.count() != cnt) return false;
                for (int base = 0; base < cnt; base += 1 << bits) {
                    long leaf = leafAt(r, s, bits, cnt, base);
                    int cap = capAt(bits, cnt, base);
                    for (int j = 0; j < cap; j++)
                        if (!c.equalsValue(r, tag(s, leaf, cap, j), payload(s, leaf, j), ov.nth(base + j))) return false;
                }
                return true;
            }
            if (o instanceof List<?> ma) {
                if ((!(ma instanceof clojure.lang.IPersistentCollection) || ma instanceof clojure.lang.Counted)
                        && ma.size() != cnt) return false;
                Iterator<?> it = ma.iterator();
                for (int base = 0; base < cnt; base += 1 << bits) {
                    long leaf = leafAt(r, s, bits, cnt, base);
                    int cap = capAt(bits, cnt, base);
                    for (int j = 0; j < cap; j++)
                        if (!it.hasNext() || !c.equalsValue(r, tag(s, leaf, cap, j), payload(s, leaf, j), it.next())) return false;
                }
                return !it.hasNext();
            }
            if (!(o instanceof Sequential)) return false;
            ISeq ms = RT.seq(o);
            for (int base = 0; base < cnt; base += 1 << bits) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = 0; j < cap; j++, ms = ms.next())
                    if (ms == null || !c.equalsValue(r, tag(s, leaf, cap, j), payload(s, leaf, j), ms.first())) return false;
            }
            return ms == null;
        } finally {
            Reference.reachabilityFence(r);
            Reference.reachabilityFence(o);
        }
    }

    /** Two versions of one segment: slot against slot, skipping shared subtrees. */
    static boolean equivShared(Root a, Root b) {
        if (a == b) return true;
        b.check();
        if (a.count != b.count) return false;
        if (a.hashKnown() && b.hashKnown() && a.hasheq() != b.hasheq()) return false;
        return triesEqual(a.codec, a.node, a.tail, a.shift, b.node, b.tail, b.shift, count(a), false);
    }

    /**
     * Two tries of cnt elements in one segment, slot against slot, skipping
     * shared subtrees; strict compares encodings (Codec.sameEncoding), not =.
     */
    static boolean triesEqual(Codec c, long nodeA, long tailA, int shiftA, long nodeB, long tailB, int shiftB, int cnt,
                              boolean strict) {
        Segment s = c.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int to = tailoff(cnt, bits);
        if (tailA != tailB && !leavesEqual(c, s, tailA, tailB, cnt - to, strict)) return false;
        if (nodeA == nodeB) return true;
        if (shiftA == shiftB) return nodesEqual(c, s, bits, shiftA, nodeA, nodeB, strict);
        for (int base = 0; base < to; base += w) {   // differently shaped tries (not made by slab): leaf by leaf
            long la = leafFor(s, nodeA, shiftA, bits, base), lb = leafFor(s, nodeB, shiftB, bits, base);
            if (la != lb && !leavesEqual(c, s, la, lb, w, strict)) return false;
        }
        return true;
    }

    private static boolean nodesEqual(Codec c, Segment s, int bits, int level, long na, long nb, boolean strict) {
        if (na == nb) return true;
        int w = 1 << bits;
        if (na == 0 || nb == 0) return false;
        if (level == 0) return leavesEqual(c, s, na, nb, w, strict);
        for (int i = 0; i < w; i++)
            if (!nodesEqual(c, s, bits, level - bits, child(s, na, i), child(s, nb, i), strict)) return false;
        return true;
    }

    private static boolean leavesEqual(Codec c, Segment s, long la, long lb, int cap, boolean strict) {
        for (int j = 0; j < cap; j++) {
            int ta = tag(s, la, cap, j), tb = tag(s, lb, cap, j);
            long pa = payload(s, la, j), pb = payload(s, lb, j);
            if (ta == tb && pa == pb && ta != Tags.DOUBLE && ta != Tags.FLOAT) continue;
            if (!c.slotsMatch(ta, pa, tb, pb, strict)) return false;
        }
        return true;
    }

    /** Java's equals, with APersistentVector.doEquals's rules; self is the vector (for its hashCode). */
    public static boolean equals(Root r, List<?> self, Object o) {
        if (o == self) return true;
        r.check();
        try {
            int cnt = count(r);
            if (o instanceof IPersistentVector ov) {
                if (ov.count() != cnt) return false;
                Iterator<Object> it = iterator(r);
                for (int i = 0; i < cnt; i++) if (!Util.equals(it.next(), ov.nth(i))) return false;
                return true;
            }
            if (o instanceof List<?> ma) {
                if (ma.size() != cnt || ma.hashCode() != self.hashCode()) return false;
                Iterator<?> i2 = ma.iterator();
                for (Iterator<Object> i1 = iterator(r); i1.hasNext(); )
                    if (!Util.equals(i1.next(), i2.next())) return false;
                return true;
            }
            if (!(o instanceof Sequential)) return false;
            ISeq ms = RT.seq(o);
            for (Iterator<Object> i1 = iterator(r); i1.hasNext(); ms = ms.next())
                if (ms == null || !Util.equals(i1.next(), ms.first())) return false;
            return ms == null;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** APersistentVector.compareTo: shorter first, then element by element with Util.compare. */
    public static int compare(Root r, Object o) {
        IPersistentVector v = (IPersistentVector) o;
        int cnt = count(r), oc = v.count();
        if (cnt < oc) return -1;
        if (cnt > oc) return 1;
        Iterator<Object> it = iterator(r);
        for (int i = 0; i < cnt; i++) {
            int k = Util.compare(it.next(), v.nth(i));
            if (k != 0) return k;
        }
        return 0;
    }

    /** First index of an element = to o, or -1 (java.util.List.indexOf with Clojure's =). */
    public static int indexOf(Root r, Object o) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r);
            for (int base = 0; base < cnt; base += 1 << bits) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = 0; j < cap; j++)
                    if (c.equalsValue(tag(s, leaf, cap, j), payload(s, leaf, j), o)) return base + j;
            }
            return -1;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    public static int lastIndexOf(Root r, Object o) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), cnt = count(r), w = 1 << bits;
            for (int base = (cnt - 1) & ~(w - 1); base >= 0 && cnt > 0; base -= w) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = cap - 1; j >= 0; j--)
                    if (c.equalsValue(tag(s, leaf, cap, j), payload(s, leaf, j), o)) return base + j;
            }
            return -1;
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    // --- verification -----------------------------------------------------------------

    /**
     * Checks that version r has the canonical shape described in FORMAT.md
     * (Vector nodes) and that every block it reaches is live with a positive
     * count; throws IllegalStateException naming the first problem. For
     * tests and for users who suspect a damaged segment.
     */
    public static void verify(Root r) {
        r.check();
        try {
            Codec c = r.codec;
            Segment s = c.segment();
            int bits = s.vecBits(), w = 1 << bits, cnt = count(r), to = tailoff(cnt, bits);
            if (r.shift < bits || r.shift % bits != 0) fail("shift " + r.shift + " is not a positive multiple of " + bits);
            if (cnt == 0) {
                if (r.node != 0 || r.tail != 0) fail("an empty vector has nodes");
                return;
            }
            checkNode(c, r.tail, BlockTypes.VEC_LEAF, cnt - to, "tail");
            if (to == 0) {
                if (r.node != 0) fail("a vector whose elements all fit the tail has a root");
                if (r.shift != bits) fail("an empty trie has shift " + r.shift);
                return;
            }
            if (r.node == 0) fail("no root for " + to + " trie elements");
            long leaves = to >>> bits;
            if (r.shift > bits && leaves <= (1L << (r.shift - bits))) fail("shift " + r.shift + " is deeper than " + to + " elements need");
            if (r.shift + bits < 63 && leaves > (1L << r.shift)) fail("shift " + r.shift + " is too shallow for " + to + " elements");
            verifySubtree(c, s, bits, w, r.shift, r.node, 0, to);
        } finally {
            Reference.reachabilityFence(r);
        }
    }

    /** The branch at level covering elements from first; elements below end exist. */
    private static void verifySubtree(Codec c, Segment s, int bits, int w, int level, long node, long first, long end) {
        if (level == 0) {
            checkNode(c, node, BlockTypes.VEC_LEAF, w, "leaf at " + first);
            return;
        }
        checkNode(c, node, BlockTypes.VEC_BRANCH, w, "branch at " + first + " level " + level);
        long span = 1L << level;
        for (int i = 0; i < w; i++) {
            long from = first + i * span;
            long ch = child(s, node, i);
            if (from < end) {
                if (ch == 0) fail("missing child " + i + " of the branch at " + first + " level " + level);
                verifySubtree(c, s, bits, w, level - bits, ch, from, end);
            } else if (ch != 0) {
                fail("child " + i + " of the branch at " + first + " level " + level + " is past the end");
            }
        }
    }

    private static void checkNode(Codec c, long node, int type, int cap, String what) {
        Segment s = c.segment();
        if (node == 0) fail(what + " is missing");
        if (!c.allocator().isLive(node) || c.allocator().refcount(node) < 1) fail(what + " at " + node + " is not live");
        if (c.typeOf(node) != type) fail(what + " at " + node + " has block type " + c.typeOf(node));
        if (capacity(s, node) != cap) fail(what + " at " + node + " has capacity " + capacity(s, node) + ", not " + cap);
        if (type == BlockTypes.VEC_LEAF) {
            for (int j = 0; j < cap; j++) {
                int t = tag(s, node, cap, j);
                if (!Tags.isKnown(t)) fail(what + " slot " + j + " has unknown tag " + t);
                if (Tags.isCounted(t) && !c.allocator().isLive(payload(s, node, j)))
                    fail(what + " slot " + j + " names a block that is not live");
            }
        }
    }

    private static void fail(String why) {
        throw new IllegalStateException("slab: damaged vector: " + why);
    }
}
