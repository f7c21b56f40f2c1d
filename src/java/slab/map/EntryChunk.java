package slab.map;

import clojure.lang.MapEntry;
import slab.value.RunChunk;
import slab.value.Slots;

/**
 * Up to 32 consecutive elements of a map or set walk: the chunk of its
 * seq. Keys and values keep longs unboxed ({@link Slots}), and an entry is
 * made when it is asked for, so a loop that takes a long out of each
 * element at once lets the JIT drop the entry and the boxes.
 */
final class EntryChunk extends RunChunk {
    /** MapIterator.ENTRIES, KEYS or VALS. */
    private final int mode;
    /** The keys and the values (null where mode reads no such slot). */
    private final Slots keys, vals;

    EntryChunk(int mode, Slots keys, Slots vals, int off, int end) {
        super(off, end);
        this.mode = mode;
        this.keys = keys;
        this.vals = vals;
    }

    @Override
    public Object at(int j) {
        return switch (mode) {
            case MapIterator.KEYS -> keys.get(j);
            case MapIterator.VALS -> vals.get(j);
            default -> MapEntry.create(keys.get(j), vals.get(j));
        };
    }

    @Override
    public EntryChunk from(int at) { return at == off ? this : new EntryChunk(mode, keys, vals, at, end); }
}
