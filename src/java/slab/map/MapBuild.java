package slab.map;

import clojure.lang.ExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.ISeq;
import clojure.lang.Murmur3;
import clojure.lang.Util;
import java.util.Map;
import slab.mem.BlockTypes;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.RefCounts;
import slab.ref.SegmentLineage;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;
import slab.value.Validator;

/**
 * Building a whole map or set at once, through a transient: from
 * constructor arguments (validated first, so a refused argument writes
 * nothing), or from an on-heap collection the value codec has validated.
 */
public final class MapBuild {
    private MapBuild() {}

    /**
     * A new map (kvs alternate keys and values) or set (kvs are the keys),
     * built after every key and value has been validated.
     */
    public static Handle build(Heap h, int kind, ISeq kvs) {
        h.segment().checkOpen();
        boolean set = kind == Tags.SET;
        for (ISeq q = kvs; q != null; q = q.next()) {
            Object k = q.first();
            Validator.validate(h, k);
            if (!set) {
                q = q.next();
                if (q == null) throw new IllegalArgumentException("No value supplied for key: " + k);
                try {
                    Validator.validate(h, q.first());
                } catch (clojure.lang.ExceptionInfo e) {
                    throw Validator.withPath(e, k);   // the value at k, as share reports it
                }
            }
        }
        MapTransient t = new MapTransient(h, kind, null, true);
        try {
            for (ISeq q = kvs; q != null; q = q.next()) {
                if (set) t.conj(q.first());
                else {
                    Object k = q.first();
                    q = q.next();
                    t.assoc(k, q.first());
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }

    /** Maps of at most this many entries are tried for {@link #encodeSmall}. */
    static final int SMALL_MAX = 8;

    /**
     * Writes a validated heap map m (metadata meta) as a value into out, when
     * it is small and its keys all fall at different positions of a root
     * node: one node and its collection block, written straight, with no
     * transient (whose objects, Cleaner registration and room to grow make
     * a nested small map cost over a kilobyte of heap and a node of a bigger
     * size class). The node is the one a transient would build. Returns
     * false, having written nothing, for any other map.
     */
    public static boolean encodeSmall(Heap h, IPersistentMap m, IPersistentMap meta, Slot out) {
        int c = m.count();
        Segment s = h.segment();
        int bits = s.mapBits();
        if (c == 0 || c > SMALL_MAX || c > (1 << bits)) return false;
        int dm = 0;
        for (Object o : (Iterable<?>) m) {
            int bit = MapNodes.bitpos(Util.hasheq(((Map.Entry<?, ?>) o).getKey()), 0, bits);
            if ((dm & bit) != 0) return false;
            dm |= bit;
        }
        int es = MapNodeDescriptor.MAP_ENTRY_LENGTH;
        long n = h.allocator().allocate(MapNodes.bitmapBytes(es, c, 0) - MapNodeDescriptor.HEADER, BlockTypes.MAP_NODE);
        int written = 0, sum = 0;
        Slot k = new Slot(), v = new Slot(), mt = new Slot();
        try {
            for (Object o : (Iterable<?>) m) {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) o;
                Encoder.encodeTrusted(h, e.getKey(), k);
                try {
                    Encoder.encodeTrusted(h, e.getValue(), v);
                } catch (ExceptionInfo ex) {
                    RefCounts.releaseSlot(h, k.tag, k.payload);
                    throw Validator.withPath(ex, e.getKey());
                } catch (RuntimeException ex) {
                    RefCounts.releaseSlot(h, k.tag, k.payload);
                    throw ex;
                }
                int bit = MapNodes.bitpos(k.hash, 0, bits);
                if ((dm & bit) == 0 || (written & bit) != 0) {   // a hash the encoder saw otherwise: the general path decides
                    RefCounts.releaseSlot(h, k.tag, k.payload);
                    RefCounts.releaseSlot(h, v.tag, v.payload);
                    unwind(h, n, dm, written);
                    return false;
                }
                MapEdits.writeSlots(s, MapNodes.entry(n, es, MapNodes.index(dm, bit)), k, v);
                written |= bit;
                sum += MapOp.mapEntryHash(k.hash, v.hash);
            }
            if (written != dm) throw new IllegalStateException("slab: a map changed while it was being stored");
            if (meta != null && meta.count() > 0) Encoder.encodeMeta(h, meta, mt);
        } catch (RuntimeException ex) {
            unwind(h, n, dm, written);
            throw ex;
        }
        SegmentLineage.clear(s, n);
        s.putInt(n + MapNodeDescriptor.DATAMAP_OFFSET, dm);
        s.putInt(n + MapNodeDescriptor.NODEMAP_OFFSET, 0);
        MapSeals.seal(s, n, es);
        long b;
        try {
            b = CollBlocks.writeMap(h, sum, c, n, mt);   // takes over the node's count
        } catch (RuntimeException ex) {
            RefCounts.releaseSlot(h, mt.tag, mt.payload);
            unwind(h, n, dm, dm);
            throw ex;
        }
        out.set(Tags.MAP, b, Murmur3.mixCollHash(sum, c));
        return true;
    }

    /** Gives back the slots of node n's entries at the positions in written, then n itself (never published). */
    private static void unwind(Heap h, long n, int dm, int written) {
        Segment s = h.segment();
        int es = MapNodeDescriptor.MAP_ENTRY_LENGTH;
        for (int rem = written; rem != 0; rem &= rem - 1) {
            long at = MapNodes.entry(n, es, MapNodes.index(dm, rem & -rem));
            RefCounts.releaseSlot(h, MapNodes.keyTag(s, at), MapNodes.keyPayload(s, at));
            RefCounts.releaseSlot(h, MapNodes.valTag(s, at), MapNodes.valPayload(s, at));
        }
        h.allocator().release(n);
        h.allocator().free(n);
    }

    /** A map holding m's entries; m has been validated. */
    public static Handle fromMap(Heap h, IPersistentMap m) {
        MapTransient t = new MapTransient(h, Tags.MAP, null, true);
        try {
            for (Object o : (Iterable<?>) m) {
                java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) o;
                try {
                    t.assoc(e.getKey(), e.getValue());
                } catch (ExceptionInfo ex) {
                    throw Validator.withPath(ex, e.getKey());
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }

    /** A set holding set's keys; set has been validated. */
    public static Handle fromSet(Heap h, IPersistentSet set) {
        MapTransient t = new MapTransient(h, Tags.SET, null, true);
        try {
            for (ISeq q = set.seq(); q != null; q = q.next()) {
                Object k = q.first();
                try {
                    t.conj(k);
                } catch (ExceptionInfo ex) {
                    throw Validator.withPath(ex, k);
                }
            }
            return t.persistent();
        } finally {
            t.abandon();
        }
    }
}
