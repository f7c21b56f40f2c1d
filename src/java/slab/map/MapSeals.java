package slab.map;

import static slab.map.MapNodeDescriptor.*;
import static slab.map.MapNodes.*;

import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.HeaderDescriptor;
import slab.mem.SealDescriptor;
import slab.mem.Seals;
import slab.mem.Segment;

/**
 * Seals of map and set nodes (doc/FORMAT.md, *Seals*): kept in the edit
 * word as SEAL_FLAG | seal, covering [24, end of the last entry or child)
 * with the edit word read as 0. A persistent update seals each node it
 * makes once its last byte is written, before anyone can reach it; a
 * transient's nodes carry its edit id until persistent! seals them.
 */
public final class MapSeals {
    private MapSeals() {}

    /** Offset (from n) past the last byte node n's seal covers; n's bitmaps or count already checked to fit. */
    static long end(Segment s, long n, int es) {
        if (isCollision(s, n)) return bitmapBytes(es, collisionCount(s, n), 0);
        return bitmapBytes(es, Integer.bitCount(datamap(s, n)), Integer.bitCount(nodemap(s, n)));
    }

    static int compute(Segment s, long n, int es) {
        return Seals.of(s, n, DATAMAP_OFFSET, end(s, n, es), EDIT_OFFSET, 0);
    }

    /** Seals node n (entries of es bytes), whose every byte is written. */
    public static void seal(Segment s, long n, int es) {
        s.putLong(n + EDIT_OFFSET, SealDescriptor.SEAL_FLAG | (compute(s, n, es) & 0xFFFF_FFFFL));
    }

    /** Seals n if op is a persistent update (a transient's nodes are sealed by persistent!). Returns n. */
    static long sealed(MapOp op, long n) {
        if (op.edit == 0) seal(op.s, n, op.es);
        return n;
    }

    /**
     * Seals every node under root that carries edit (a transient's, at its
     * persistent!). Only such nodes are descended into: a node the transient
     * did not make is sealed already, and so is all below it. The trie is at
     * most 32 / bits + 1 levels deep, so the recursion is shallow.
     */
    static void sealTransient(Segment s, long root, int es, long edit) {
        if (root == 0 || edit(s, root) != edit) return;
        if (!isCollision(s, root)) {
            int entries = Integer.bitCount(datamap(s, root)), children = Integer.bitCount(nodemap(s, root));
            for (int j = 0; j < children; j++) sealTransient(s, s.getLong(childSlot(root, es, entries, j)), es, edit);
        }
        seal(s, root, es);
    }

    // --- checks -----------------------------------------------------------------------

    /**
     * Checks the seal of map or set node n. strict (verify's walk of
     * published versions): a node without a seal is damage. Otherwise (a
     * read, the mark of the sweep or verify, which also meet transients) an
     * unsealed node is accepted when its word is an edit id already handed
     * out (a live transient's), and damage when it is 0 or a later id.
     */
    public static void check(Segment s, long n, boolean strict) { check(s, n, strict, false); }

    /** check for a read under {:verify :on-read}: an unsealed node must be a transient's of this mapping. */
    public static void checkRead(Segment s, long n) { check(s, n, false, true); }

    private static void check(Segment s, long n, boolean strict, boolean read) {
        long hd = s.liveHeader(n, "a map or set node");
        int t = AllocatorDescriptor.typeOf(hd);
        int es = entryLength(t == BlockTypes.SET_NODE || t == BlockTypes.SET_COLLISION);
        s.within(n, hd, n, ENTRIES_OFFSET, "a map or set node");
        s.within(n, hd, n, end(s, n, es), "a map or set node whose entries and children fit its block");
        long word = edit(s, n);
        if ((word & SealDescriptor.SEAL_FLAG) == 0) {
            if (strict || word <= 0 || word >= s.getLongVolatile(HeaderDescriptor.NEXT_EDIT_OFFSET)
                    || (read && !s.ownTransientEdit(word)))
                throw Seals.unsealed(s, n, t, word);
            return;
        }
        int computed = compute(s, n, es);
        if ((int) word != computed || (word & ~SealDescriptor.SEAL_FLAG) >>> 32 != 0)
            throw Seals.mismatch(s, n, t, (int) word, computed);
    }
}
