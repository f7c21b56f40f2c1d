package slab.vector;

import static slab.vector.VecNodes.*;
import static slab.vector.VecReads.capAt;
import static slab.vector.VecReads.leafAt;

import java.util.Iterator;
import java.util.List;

import clojure.lang.Counted;
import clojure.lang.IPersistentCollection;
import clojure.lang.IPersistentVector;
import clojure.lang.ISeq;
import clojure.lang.Murmur3;
import clojure.lang.RT;
import clojure.lang.Sequential;
import clojure.lang.Util;
import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.SharedColl;
import slab.value.Decoder;
import slab.value.Equality;
import slab.value.Hashing;
import slab.value.Tags;

/**
 * Equality, hashing and ordering of vector versions, with
 * PersistentVector's rules: Clojure's = compares stored slots against
 * on-heap values without decoding scalars; two versions of one segment are
 * compared slot against slot and skip every subtree they share. The caller
 * checks and fences r.
 */
public final class VecEquality {
    private VecEquality() {}

    // --- hashing ----------------------------------------------------------------------

    /** Clojure's ordered hash, (hash [..]), from the stored slots (the handle caches it). */
    public static int orderedHash(Handle r) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r);
        int hash = 1;
        for (int base = 0; base < cnt; base += 1 << bits) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = 0; j < cap; j++)
                hash = 31 * hash + Hashing.hasheq(h, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j));
        }
        return Murmur3.mixCollHash(hash, cnt);
    }

    /** java.util.List's hashCode (what PersistentVector.hashCode returns). */
    static int javaHashCode(Handle r) {
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r);
        int hash = 1;
        for (int base = 0; base < cnt; base += 1 << bits) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = 0; j < cap; j++) {
                int eh;
                if (r.elem != 0) {
                    eh = PrimElems.box(r.elem, PrimElems.read(s, r.elem, leaf, j)).hashCode();
                } else {
                    int t = tag(s, leaf, cap, j);
                    long p = payload(s, leaf, j);
                    if (t == Tags.LONG) eh = Long.hashCode(p);
                    else if (t == Tags.NIL) eh = 0;
                    else eh = Decoder.decodeIn(h, r, t, p).hashCode();
                }
                hash = 31 * hash + eh;
            }
        }
        return hash;
    }

    // --- equality ---------------------------------------------------------------------

    /** The handle of o when o is a shared vector of r's segment, else null. */
    private static Handle sameSegment(Handle r, Object o) {
        if (o instanceof SharedColl sc && o instanceof IPersistentVector) {
            Handle or = sc.slabHandle();
            if (or.heap == r.heap) return or;
        }
        return null;
    }

    /** Clojure's = (equiv) of version r against o, with APersistentVector.doEquiv's rules. */
    static boolean equiv(Handle r, Object o) {
        Handle other = sameSegment(r, o);
        if (other != null) return equivShared(r, other);
        Heap h = r.heap;
        Segment s = h.segment();
        int bits = s.vecBits(), cnt = count(r);
        if (o instanceof IPersistentVector ov) {
            if (ov.count() != cnt) return false;
            for (int base = 0; base < cnt; base += 1 << bits) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = 0; j < cap; j++)
                    if (!Equality.equalsValue(h, r, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j), ov.nth(base + j)))
                        return false;
            }
            return true;
        }
        if (o instanceof List<?> ma) {
            if ((!(ma instanceof IPersistentCollection) || ma instanceof Counted) && ma.size() != cnt) return false;
            Iterator<?> it = ma.iterator();
            for (int base = 0; base < cnt; base += 1 << bits) {
                long leaf = leafAt(r, s, bits, cnt, base);
                int cap = capAt(bits, cnt, base);
                for (int j = 0; j < cap; j++)
                    if (!it.hasNext()
                        || !Equality.equalsValue(h, r, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j), it.next()))
                        return false;
            }
            return !it.hasNext();
        }
        if (!(o instanceof Sequential)) return false;
        ISeq ms = RT.seq(o);
        for (int base = 0; base < cnt; base += 1 << bits) {
            long leaf = leafAt(r, s, bits, cnt, base);
            int cap = capAt(bits, cnt, base);
            for (int j = 0; j < cap; j++, ms = ms.next())
                if (ms == null
                    || !Equality.equalsValue(h, r, tagAt(s, r.elem, leaf, cap, j), payloadAt(s, r.elem, leaf, j), ms.first()))
                    return false;
        }
        return ms == null;
    }

    /** Two versions of one segment: slot against slot, skipping shared subtrees. */
    private static boolean equivShared(Handle a, Handle b) {
        if (a == b) return true;
        b.check();
        if (a.count != b.count) return false;
        if (a.hashKnown() && b.hashKnown() && a.hasheq() != b.hasheq()) return false;
        return triesEqual(a.heap, a.node, a.tail, a.shift, a.elem, b.node, b.tail, b.shift, b.elem, count(a), false);
    }

    /**
     * Two tries of cnt elements in one segment, slot against slot, skipping
     * shared subtrees; strict compares encodings (Equality.sameEncoding), not =.
     * elemA and elemB are the element types of vectors-of (0: slots); a
     * vector-of is compared as the slots of its values, so it is = to a
     * vector of the same numbers, and a vector-of of ints to one of longs.
     */
    public static boolean triesEqual(Heap h, long nodeA, long tailA, int shiftA, int elemA,
                                     long nodeB, long tailB, int shiftB, int elemB, int cnt, boolean strict) {
        Segment s = h.segment();
        int bits = s.vecBits(), w = 1 << bits;
        int to = tailoff(cnt, bits);
        if (tailA != tailB && !leavesEqual(h, s, tail(s, tailA, elemA, cnt, bits), elemA, tail(s, tailB, elemB, cnt, bits), elemB,
                                           cnt - to, strict))
            return false;
        if (nodeA == nodeB) return true;
        if (shiftA == shiftB) return nodesEqual(h, s, bits, shiftA, nodeA, elemA, nodeB, elemB, strict);
        for (int base = 0; base < to; base += w) {   // differently shaped tries (not made by slab): leaf by leaf
            long la = leafFor(s, nodeA, elemA, shiftA, bits, base), lb = leafFor(s, nodeB, elemB, shiftB, bits, base);
            if (la != lb && !leavesEqual(h, s, la, elemA, lb, elemB, w, strict)) return false;
        }
        return true;
    }

    private static boolean nodesEqual(Heap h, Segment s, int bits, int level, long na, int ea, long nb, int eb,
                                      boolean strict) {
        if (na == nb) return true;
        int w = 1 << bits;
        if (na == 0 || nb == 0) return false;
        if (level == 0)
            return leavesEqual(h, s, checkedLeaf(s, na, ea, w), ea, checkedLeaf(s, nb, eb, w), eb, w, strict);
        checked(s, na, BlockTypes.VEC_BRANCH, w);
        checked(s, nb, BlockTypes.VEC_BRANCH, w);
        for (int i = 0; i < w; i++)
            if (!nodesEqual(h, s, bits, level - bits, child(s, na, i), ea, child(s, nb, i), eb, strict)) return false;
        return true;
    }

    private static boolean leavesEqual(Heap h, Segment s, long la, int ea, long lb, int eb, int cap, boolean strict) {
        for (int j = 0; j < cap; j++) {
            int ta = tagAt(s, ea, la, cap, j), tb = tagAt(s, eb, lb, cap, j);
            long pa = payloadAt(s, ea, la, j), pb = payloadAt(s, eb, lb, j);
            if (ta == tb && pa == pb && ta != Tags.DOUBLE && ta != Tags.FLOAT) continue;
            if (!Equality.slotsMatch(h, ta, pa, tb, pb, strict)) return false;
        }
        return true;
    }

    /** Java's equals, with APersistentVector.doEquals's rules; self is the vector (for its hashCode). */
    static boolean equals(Handle r, List<?> self, Object o) {
        int cnt = count(r);
        if (o instanceof IPersistentVector ov) {
            if (ov.count() != cnt) return false;
            Iterator<Object> it = new VecIterator(r, 0, cnt);
            for (int i = 0; i < cnt; i++) if (!Util.equals(it.next(), ov.nth(i))) return false;
            return true;
        }
        if (o instanceof List<?> ma) {
            if (ma.size() != cnt || ma.hashCode() != self.hashCode()) return false;
            Iterator<?> i2 = ma.iterator();
            for (Iterator<Object> i1 = new VecIterator(r, 0, cnt); i1.hasNext(); )
                if (!Util.equals(i1.next(), i2.next())) return false;
            return true;
        }
        if (!(o instanceof Sequential)) return false;
        ISeq ms = RT.seq(o);
        for (Iterator<Object> i1 = new VecIterator(r, 0, cnt); i1.hasNext(); ms = ms.next())
            if (ms == null || !Util.equals(i1.next(), ms.first())) return false;
        return ms == null;
    }

    /** APersistentVector.compareTo: shorter first, then element by element with Util.compare. */
    static int compare(Handle r, Object o) {
        IPersistentVector v = (IPersistentVector) o;
        int cnt = count(r), oc = v.count();
        if (cnt < oc) return -1;
        if (cnt > oc) return 1;
        Iterator<Object> it = new VecIterator(r, 0, cnt);
        for (int i = 0; i < cnt; i++) {
            int k = Util.compare(it.next(), v.nth(i));
            if (k != 0) return k;
        }
        return 0;
    }
}
