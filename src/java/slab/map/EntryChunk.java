package slab.map;

import clojure.lang.IChunk;
import clojure.lang.IFn;
import clojure.lang.MapEntry;
import clojure.lang.RT;

/**
 * Up to 32 consecutive elements of a map or set walk, [off, end): the
 * chunk of its seq. Stored longs are kept unboxed and an entry is made
 * when it is asked for, so a loop that takes a long out of each element
 * at once lets the JIT drop the entry and the boxes; any other key or
 * value is decoded once, when the chunk is filled, so every read of it
 * hands out the same object. Immutable: the seqs and chunks of one fill
 * share its arrays.
 */
final class EntryChunk implements IChunk {
    /** MapIterator.ENTRIES, KEYS or VALS. */
    private final int mode;
    /** Payloads of the keys and of the values (null where mode reads no such slot). */
    private final long[] keys, vals;
    /** Decoded keys and values that are not longs; null when there are none. */
    private final Object[] keyObjs, valObjs;
    /** Bit j set: element j's key (value) is a long, in keys (vals). */
    private final int keyLongs, valLongs;
    private final int off, end;

    EntryChunk(int mode, long[] keys, Object[] keyObjs, int keyLongs, long[] vals, Object[] valObjs, int valLongs,
               int off, int end) {
        this.mode = mode;
        this.keys = keys;
        this.keyObjs = keyObjs;
        this.keyLongs = keyLongs;
        this.vals = vals;
        this.valObjs = valObjs;
        this.valLongs = valLongs;
        this.off = off;
        this.end = end;
    }

    /** Element j of the fill (j an index in the fill, not in this chunk). */
    Object at(int j) {
        return switch (mode) {
            case MapIterator.KEYS -> key(j);
            case MapIterator.VALS -> val(j);
            default -> MapEntry.create(key(j), val(j));
        };
    }

    private Object key(int j) { return (keyLongs >>> j & 1) != 0 ? (Object) keys[j] : keyObjs[j]; }

    private Object val(int j) { return (valLongs >>> j & 1) != 0 ? (Object) vals[j] : valObjs[j]; }

    /** Index in the fill past this chunk's last element. */
    int end() { return end; }

    /** The elements from index in the fill at on. */
    EntryChunk from(int at) {
        return at == off ? this : new EntryChunk(mode, keys, keyObjs, keyLongs, vals, valObjs, valLongs, at, end);
    }

    @Override
    public Object nth(int i) {
        if (i < 0 || i >= end - off)   // the exception of ArrayChunk's array read
            throw new ArrayIndexOutOfBoundsException("Index " + i + " out of bounds for length " + (end - off));
        return at(off + i);
    }

    @Override
    public Object nth(int i, Object notFound) { return i >= 0 && i < end - off ? at(off + i) : notFound; }

    @Override
    public int count() { return end - off; }

    @Override
    public IChunk dropFirst() {
        if (off == end) throw new IllegalStateException("dropFirst of empty chunk");
        return from(off + 1);
    }

    /** Returns a reduced value still wrapped, as IChunk's reduce does: the caller stops on it. */
    @Override
    public Object reduce(IFn f, Object start) {
        Object acc = start;
        for (int j = off; j < end; j++) {
            acc = f.invoke(acc, at(j));
            if (RT.isReduced(acc)) return acc;
        }
        return acc;
    }
}
