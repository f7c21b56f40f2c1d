package slab.share;

import static slab.ref.CollDescriptor.*;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;

import clojure.lang.IPersistentMap;
import slab.mem.AllocatorDescriptor;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.map.MapNodeDescriptor;
import slab.map.MapSeals;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.ref.SegmentLineage;
import slab.value.Decoder;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;
import slab.value.ValueSeals;
import slab.vector.PrimLeafDescriptor;
import slab.vector.VecNodeDescriptor;
import slab.vector.VecSeals;

/**
 * A node-by-node copy of versions from one segment into another with the
 * same trie bits, for snapshots: every block the versions reach is copied
 * once however many of them share it (a second slot naming it takes a
 * count on the copy), so roots that share structure stay shared and the
 * copy is O(live data). Nodes are copied as they are (same bitmaps, same
 * entry hashes, same order): the trie's shape is a function of its keys,
 * so a copy is canonical without rehashing a key. Keywords and symbols are
 * interned in the target; blobs are decoded and encoded again (once each).
 *
 * <p>The source is read as a strict reader reads it: every block followed is
 * checked for type, state, size and seal (a snapshot must not launder
 * damage into a file with sound seals), so damage is {@code :damaged-segment},
 * and a cycle of collection blocks (possible only in a damaged file) is
 * refused instead of recursing forever. What a failed copy wrote into the
 * target is left there: the snapshot deletes the whole target file.
 */
final class Transplant {
    /** Target blocks by source block; IN_PROGRESS while a collection block's copy is under way. */
    private final HashMap<Long, Long> copied = new HashMap<>();
    private static final long IN_PROGRESS = -1;

    private final Heap from, to;
    private final Segment src, dst;
    private final int levels;
    private final Slot scratch = new Slot();

    Transplant(Heap from, Heap to) {
        this.from = from;
        this.to = to;
        this.src = from.segment();
        this.dst = to.segment();
        if (src.mapBits() != dst.mapBits() || src.vecBits() != dst.vecBits())
            throw new IllegalArgumentException("slab: a transplant needs the same trie bits on both sides");
        this.levels = (32 + src.mapBits() - 1) / src.mapBits();
    }

    /** How many target blocks were made (each source block at most once). */
    int blocksCopied() { return copied.size(); }

    /**
     * The slot (tag, payload) in the target that holds the value of source
     * slot (tag, p), holding one count of its own when the tag is counted.
     */
    Slot slot(int tag, long p, Slot out) {
        if (!Tags.isKnown(tag)) throw Damage.at(src, 0, "a slot with a known value tag, found tag " + tag);
        if (tag == Tags.KEYWORD || tag == Tags.SYMBOL) {
            ValueSeals.checkInterned(src, p);
            Encoder.encodeTrusted(to, from.interner().decode(p, tag), out);
        } else if (!Tags.isCounted(tag)) {
            out.set(tag, p, 0);
        } else if (Tags.isCollection(tag)) {
            out.set(tag, coll(tag, p), 0);
        } else {
            // A blob or a symbol with metadata: small and immutable, so decoded and written again,
            // once per tag (the tag says how the bytes decode; offsets are below 2^48).
            long key = p | (long) tag << 56, done = reuse(key);
            if (done != 0) {
                out.set(tag, done, 0);
            } else {
                if (tag == Tags.SYMBOL_META) ValueSeals.checkMetaSymbol(src, p);
                else ValueSeals.checkBlob(src, p, tag);
                Encoder.encodeTrusted(to, Decoder.decode(from, tag, p), out);
                if (out.tag != tag) throw Damage.at(src, p, "a blob that encodes again under its own tag " + tag);
                copied.put(key, out.payload);
            }
        }
        return out;
    }

    /**
     * A collection block in the target for the version handle r holds (a
     * value read out of the source, with this kind and metadata), counted
     * for the caller.
     */
    long version(Handle r, int kind, IPersistentMap meta) {
        if (r.heap != from) throw new IllegalArgumentException("slab: a transplant copies versions of its source segment only");
        r.check();
        boolean map = kind == Tags.MAP || kind == Tags.SET;
        long root = r.node == 0 ? 0 : map ? mapNode(r.node, 0, kind == Tags.SET) : vecNode(r.node, r.shift, r.elem);
        long tail = r.tail == 0 ? 0 : vecNode(r.tail, 0, r.elem);
        Slot m = new Slot();
        if (meta != null && meta.count() > 0) Encoder.encodeMeta(to, meta, m);
        long b = to.allocator().allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
        CollBlocks.fill(dst, b, kind, r, root, tail, m);   // sealed there
        return b;
    }

    /** The copy of collection block c (named by a slot with this tag), counted for the caller. */
    long coll(int tag, long c) {
        // Checked on every visit, so a block another slot names as something else is damage, not a copy of it.
        CollBlocks.check(src, c, tag);
        CollBlocks.checkSeal(src, c);
        Long done = copied.get(c);
        if (done != null) {
            if (done == IN_PROGRESS) throw Damage.at(src, c, "a collection block that does not contain itself");
            RefCounts.retain(to, done);
            return done;
        }
        copied.put(c, IN_PROGRESS);
        int kind = src.getByte(c + COLL_KIND_OFFSET);
        int metaTag = src.getByte(c + COLL_META_TAG_OFFSET);
        long root = src.getLong(c + COLL_ROOT_OFFSET), tail = src.getLong(c + COLL_TAIL_OFFSET);
        long meta = src.getLong(c + COLL_META_OFFSET);
        int shift = src.getByte(c + COLL_SHIFT_OFFSET), elem = src.getByte(c + COLL_ELEM_OFFSET);
        boolean map = kind == Tags.MAP || kind == Tags.SET;
        long r = root == 0 ? 0 : map ? mapNode(root, 0, kind == Tags.SET) : vecNode(root, shift, elem);
        long t = tail == 0 ? 0 : vecNode(tail, 0, elem);
        long m = metaTag == Tags.MAP ? coll(Tags.MAP, meta) : 0;
        long b = to.allocator().allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
        // Kind, tags, shift, element type, hash and count are the same values in any segment.
        copy(c + HEADER, b + HEADER, COLL_LENGTH - HEADER);
        dst.putLong(b + COLL_ROOT_OFFSET, r);
        dst.putLong(b + COLL_TAIL_OFFSET, t);
        dst.putLong(b + COLL_META_OFFSET, m);
        CollBlocks.seal(dst, b);
        copied.put(c, b);
        return b;
    }

    /** The copy of map or set node n at this level of its trie. */
    long mapNode(long n, int level, boolean set) {
        boolean collision = level == levels;
        int type = collision ? (set ? BlockTypes.SET_COLLISION : BlockTypes.MAP_COLLISION)
                             : (set ? BlockTypes.SET_NODE : BlockTypes.MAP_NODE);
        long hd = src.block(n, type, collision ? "a collision node at the trie's last level" : "a bitmap node above the trie's last level");
        int es = set ? MapNodeDescriptor.SET_ENTRY_LENGTH : MapNodeDescriptor.MAP_ENTRY_LENGTH;
        int entries, children;
        if (collision) {
            entries = src.getInt(n + MapNodeDescriptor.COLLISION_COUNT_OFFSET);
            children = 0;
            if (entries < 2) throw Damage.at(src, n, "a collision node of at least 2 entries, found " + entries);
        } else {
            int dm = src.getInt(n + MapNodeDescriptor.DATAMAP_OFFSET), nm = src.getInt(n + MapNodeDescriptor.NODEMAP_OFFSET);
            if ((dm & nm) != 0) throw Damage.at(src, n, "a bitmap node whose datamap and nodemap do not overlap");
            entries = Integer.bitCount(dm);
            children = Integer.bitCount(nm);
        }
        long length = MapNodeDescriptor.nodeBytes(es, entries, children);
        src.within(n, hd, n, length, "a map node holding its entries and children");
        MapSeals.check(src, n, true);
        long b = reuse(n);
        if (b != 0) return b;
        b = to.allocator().allocate(length - MapNodeDescriptor.HEADER, type);
        SegmentLineage.clear(dst, b);
        // Bitmaps (or hash and count), then the entries as they are; payloads are patched below.
        copy(n + MapNodeDescriptor.DATAMAP_OFFSET, b + MapNodeDescriptor.DATAMAP_OFFSET, 8);
        dst.putLong(b + MapNodeDescriptor.EDIT_OFFSET, 0);
        copy(n + MapNodeDescriptor.ENTRIES_OFFSET, b + MapNodeDescriptor.ENTRIES_OFFSET, (long) es * entries);
        for (int i = 0; i < entries; i++) {
            long e = MapNodeDescriptor.ENTRIES_OFFSET + (long) es * i;
            patch(n + e + MapNodeDescriptor.ENTRY_KEY_TAG_OFFSET, n + e + MapNodeDescriptor.ENTRY_KEY_OFFSET,
                b + e + MapNodeDescriptor.ENTRY_KEY_OFFSET);
            if (!set) patch(n + e + MapNodeDescriptor.ENTRY_VALUE_TAG_OFFSET, n + e + MapNodeDescriptor.ENTRY_VALUE_OFFSET,
                b + e + MapNodeDescriptor.ENTRY_VALUE_OFFSET);
        }
        long kids = MapNodeDescriptor.ENTRIES_OFFSET + (long) es * entries;
        for (int i = 0; i < children; i++) {
            long at = kids + (long) MapNodeDescriptor.CHILD_LENGTH * i;
            dst.putLong(b + at, mapNode(src.getLong(n + at), level + 1, set));
        }
        MapSeals.seal(dst, b, es);
        copied.put(n, b);
        return b;
    }

    /** The copy of source block n if it was made already, with a count for the caller; else 0. */
    private long reuse(long n) {
        Long done = copied.get(n);
        if (done == null) return 0;
        RefCounts.retain(to, done);
        return done;
    }

    /** Writes at dstPayload the target payload of the source slot whose tag and payload are at these offsets. */
    private void patch(long srcTag, long srcPayload, long dstPayload) {
        Slot s = slot(src.getByte(srcTag), src.getLong(srcPayload), scratch);
        dst.putLong(dstPayload, s.payload);
    }

    /** The copy of vector node n: a branch at level shift &gt; 0, a leaf at 0 (elem: a vector-of's element type). */
    long vecNode(long n, int shift, int elem) {
        int w = 1 << src.vecBits();
        long b;
        if (shift > 0) {
            if (shift > VecNodeDescriptor.MAX_SHIFT) throw Damage.at(src, n, "a vector branch at most " + VecNodeDescriptor.MAX_SHIFT + " levels deep");
            long hd = src.block(n, BlockTypes.VEC_BRANCH, "a vector branch");
            long length = VecNodeDescriptor.branchLength(w);
            src.within(n, hd, n, length, "a whole vector branch");
            VecSeals.check(src, n, true);
            if ((b = reuse(n)) != 0) return b;
            b = to.allocator().allocate(length - AllocatorDescriptor.BLOCK_HEADER_LENGTH, BlockTypes.VEC_BRANCH);
            SegmentLineage.clear(dst, b);
            dst.putLong(b + VecNodeDescriptor.NODE_WORD_OFFSET, VecNodeDescriptor.nodeWord(0, w));
            for (int i = 0; i < w; i++) {
                long child = src.getLong(n + VecNodeDescriptor.childOffset(i));
                dst.putLong(b + VecNodeDescriptor.childOffset(i),
                    child == 0 ? 0 : vecNode(child, shift - src.vecBits(), elem));
            }
        } else {
            int type = elem == 0 ? BlockTypes.VEC_LEAF : BlockTypes.VEC_PRIM_LEAF;
            long hd = src.block(n, type, elem == 0 ? "a vector leaf" : "a vector-of leaf");
            long word = src.getLong(n + VecNodeDescriptor.NODE_WORD_OFFSET);
            int cap = VecNodeDescriptor.capacityOf(word);
            if (cap < 1 || cap > w || VecNodeDescriptor.elemOf(word) != elem)
                throw Damage.at(src, n, "a leaf of 1.." + w + " elements of type " + elem + ", found node word 0x" + Long.toHexString(word));
            long length = elem == 0 ? VecNodeDescriptor.leafLength(cap) : PrimLeafDescriptor.leafLength(elem, cap);
            src.within(n, hd, n, length, "a whole vector leaf");
            VecSeals.check(src, n, true);
            if ((b = reuse(n)) != 0) return b;
            b = to.allocator().allocate(length - AllocatorDescriptor.BLOCK_HEADER_LENGTH, type);
            SegmentLineage.clear(dst, b);
            dst.putLong(b + VecNodeDescriptor.NODE_WORD_OFFSET, VecNodeDescriptor.nodeWord(0, elem, cap));
            copy(n + VecNodeDescriptor.SLOTS_OFFSET, b + VecNodeDescriptor.SLOTS_OFFSET,
                length - VecNodeDescriptor.SLOTS_OFFSET);
            if (elem == 0) {
                for (int i = 0; i < cap; i++)
                    patch(n + VecNodeDescriptor.tagOffset(cap, i), n + VecNodeDescriptor.payloadOffset(i),
                        b + VecNodeDescriptor.payloadOffset(i));
            }
        }
        VecSeals.seal(dst, b);
        copied.put(n, b);
        return b;
    }

    /** Copies len bytes at source offset a to target offset b (both checked by the caller). */
    private void copy(long a, long b, long len) {
        MemorySegment.copy(src.memory(), a, dst.memory(), b, len);
    }
}
