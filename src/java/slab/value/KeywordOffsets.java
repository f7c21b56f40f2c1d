package slab.value;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import clojure.lang.Keyword;

/**
 * keyword -> offset of its interned block, for the keywords one process has
 * interned, found or decoded in one segment: an open-addressing table that
 * only grows (interned blocks are never freed, so entries never go stale).
 *
 * <p>Two flat arrays rather than a map of boxed offsets: a probe reads one
 * slot of each, both indexed by the keyword's cached hash, so a lookup can
 * start before the trie walk that will need it; and a full GC traces one
 * reference per keyword, not a node and a box. Readers take no lock: the
 * offset is stored before its keyword is published with release semantics,
 * and read after the keyword with acquire. Writers hold the Interner's lock;
 * a full table is replaced by a bigger copy, published once complete.
 */
final class KeywordOffsets {
    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(Keyword[].class);

    private final Keyword[] keys;
    private final long[] offsets;
    private final int mask;
    private int size;

    KeywordOffsets(int capacity) {
        keys = new Keyword[capacity];
        offsets = new long[capacity];
        mask = capacity - 1;
    }

    private static int slot(int hash, int mask) {
        return (int) ((hash * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    /** k's offset, or 0 if it is not in the table. */
    long get(Keyword k) {
        for (int i = slot(k.hasheq(), mask); ; i = (i + 1) & mask) {
            Object x = KEYS.getAcquire(keys, i);
            if (x == k) return offsets[i];
            if (x == null) return 0;
        }
    }

    /** Adds k -> off (absent); false, adding nothing, when the table is half full. */
    boolean put(Keyword k, long off) {
        if (2 * (size + 1) > keys.length) return false;
        int i = slot(k.hasheq(), mask);
        while (keys[i] != null) i = (i + 1) & mask;
        offsets[i] = off;
        KEYS.setRelease(keys, i, k);
        size++;
        return true;
    }

    KeywordOffsets grown() {
        KeywordOffsets t = new KeywordOffsets(keys.length * 2);
        for (int i = 0; i < keys.length; i++) if (keys[i] != null) t.put(keys[i], offsets[i]);
        return t;
    }
}
