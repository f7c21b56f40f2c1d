package slab.map;

import static slab.map.MapNodes.*;

import clojure.lang.Murmur3;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.value.SlotHasher;
import slab.value.Tags;

/**
 * A full check of one map or set version, for verify: every node as a
 * reader checks it (MapNodes.checkNode), every entry in its place, every
 * stored key hash equal to its key's hash computed from the key, and the
 * entry count and hash sum equal to what the version records, and every
 * node sealed with the seal its bytes give. Since the sum covers every key
 * and value, a value whose bytes changed is found here although a read
 * cannot tell it from the value that was written.
 */
public final class MapVerify {
    private MapVerify() {}

    /** Throws the damaged-segment error naming the first inconsistency of the version (root, count, sum). */
    public static void verify(Segment s, long root, long count, int hashSum, boolean set, SlotHasher hasher) {
        long[] found = new long[2];   // entries, hash sum
        if (root != 0) walk(s, root, entryLength(set), set, 0, 0, hasher, found);
        if (found[0] != count || (int) found[1] != hashSum)
            throw Damage.at(s, root, "a " + (set ? "set" : "map") + " of " + count + " entries with hash sum " + hashSum
                + " as its collection block records, found " + found[0] + " entries with sum " + (int) found[1]);
    }

    private static void walk(Segment s, long n, int es, boolean set, int shift, int prefix, SlotHasher hasher, long[] found) {
        int bits = s.mapBits();
        long maps = checkNode(s, n, es, shift);
        MapSeals.check(s, n, true);   // published: sealed, and the seal matches
        if (maps == COLLISION) {
            int cnt = collisionCount(s, n);
            if (cnt < 2 || s.getInt(n + MapNodeDescriptor.COLLISION_HASH_OFFSET) != prefix)
                throw Damage.at(s, n, "a collision node of at least two entries with the hash of its path");
            for (int i = 0; i < cnt; i++) checkEntry(s, n, MapNodes.entry(n, es, i), set, prefix, 0, shift, bits, hasher, found);
            return;
        }
        int dm = (int) maps, nm = (int) (maps >>> 32);
        int entries = Integer.bitCount(dm);
        for (int rem = dm | nm; rem != 0; rem &= rem - 1) {
            int bit = rem & -rem, pos = Integer.numberOfTrailingZeros(bit);
            if ((dm & bit) != 0) checkEntry(s, n, MapNodes.entry(n, es, index(dm, bit)), set, prefix, pos, shift, bits, hasher, found);
            else walk(s, child(s, n, es, entries, index(nm, bit)), es, set, shift + bits, prefix | pos << shift, hasher, found);
        }
    }

    private static void checkEntry(Segment s, long n, long e, boolean set, int prefix, int pos, int shift, int bits,
                              SlotHasher hasher, long[] found) {
        checkPlace(s, n, e, prefix, pos, shift, bits);
        int kt = keyTag(s, e);
        if (!Tags.isKnown(kt)) throw Damage.at(s, e, "a map entry with a known key tag, found " + kt);
        int hk = hasher.hash(kt, keyPayload(s, e));
        if (hk != entryHash(s, e)) throw Damage.at(s, e, "a stored key hash equal to the key's hash " + hk);
        found[0]++;
        if (set) {
            found[1] += hk;
            return;
        }
        int vt = valTag(s, e);
        if (!Tags.isKnown(vt)) throw Damage.at(s, e, "a map entry with a known value tag, found " + vt);
        int hv = hasher.hash(vt, valPayload(s, e));
        found[1] += Murmur3.mixCollHash(31 * (31 + hk) + hv, 2);
    }
}
