package slab.value;

import clojure.lang.Keyword;
import clojure.lang.Murmur3;
import clojure.lang.Util;
import slab.ref.CollBlocks;
import slab.ref.Heap;

/**
 * Clojure's hasheq of stored slots, mostly without decoding them: inline
 * scalars hash from the payload, blobs and interned names keep their hash
 * beside the data, collection blocks keep theirs in the block.
 */
public final class Hashing {
    private Hashing() {}

    /**
     * Util.hasheq of a probe key, with the commonest key classes (final, so
     * one compare each) answered before Util.hasheq's interface check and
     * call, which every caller in the JVM shares a profile for.
     */
    public static int ofKey(Object key) {
        if (key instanceof Keyword k) return k.hasheq();
        if (key instanceof Long l) return Murmur3.hashLong(l);
        if (key instanceof String str) return Murmur3.hashInt(str.hashCode());
        return Util.hasheq(key);
    }

    public static int hasheq(Heap h, int tag, long p) {
        switch (tag) {
            case Tags.NIL: return 0;
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL: return Murmur3.hashLong(p);
            case Tags.KEYWORD: case Tags.SYMBOL: return h.interner().hash(p);
            case Tags.STRING: case Tags.BIGINT: case Tags.BIGINTEGER: case Tags.BIGDECIMAL:
            case Tags.RATIO: case Tags.UUID: case Tags.INSTANT:
                return Blobs.hash(h.segment(), p);
            case Tags.SYMBOL_META: return MetaSymbols.hash(h.segment(), p);
            case Tags.MAP: case Tags.SET: case Tags.VECTOR: case Tags.LIST: case Tags.VECTOR_OF:
                return CollBlocks.hasheq(h.segment(), tag, p);
            default:
                if (Tags.isInlineString(tag)) {
                    int hash = 0;
                    for (int i = 0, n = tag - Tags.STR_INLINE; i < n; i++) hash = 31 * hash + (int) ((p >>> (8 * i)) & 0xFF);
                    return Murmur3.hashInt(hash);
                }
                return Util.hasheq(Decoder.decode(h, tag, p));
        }
    }
}
