package slab.value;

import clojure.lang.Util;
import slab.mem.Damage;
import slab.mem.Segment;
import slab.ref.CollBlocks;
import slab.ref.Heap;

/**
 * verify's view of one slot: reads the value as a reader would (every
 * check of the read path applies) and returns its hasheq computed from the
 * value, after comparing it with the hash the segment keeps beside it
 * (blobs, interned names, symbols with metadata), and the seal of every
 * block it names. Collections are not
 * walked here: their block is checked, and nested is told about it, so the
 * caller walks each once, without recursion.
 */
public final class ValueCheck {
    private ValueCheck() {}

    /** Receives each collection block a checked slot names, with its tag. */
    @FunctionalInterface
    public interface Nested { void found(int tag, long coll); }

    public static int hash(Heap h, int tag, long p, Nested nested) {
        Segment s = h.segment();
        if (!Tags.isKnown(tag)) throw Damage.at(s, 0, "a slot with a known value tag, found tag " + tag);
        if (Tags.isCollection(tag)) {
            CollBlocks.check(s, p, tag);
            CollBlocks.checkSeal(s, p);
            nested.found(tag, p);
            return CollBlocks.hasheq(s, tag, p);
        }
        if (tag == Tags.SYMBOL_META) {
            MetaSymbols.check(s, p);
            ValueSeals.checkMetaSymbol(s, p);
        }
        if (ValueSeals.isBlob(tag)) ValueSeals.checkBlob(s, p, tag);
        else if (tag == Tags.KEYWORD || tag == Tags.SYMBOL) {
            ValueSeals.checkInterned(s, p);
            // Slots compare keywords and symbols by offset: one a lookup by name cannot find (a damaged
            // bucket chain) reads as absent, and a writer would intern a second block of the same name.
            if (!h.interner().linked(p))
                throw Damage.at(s, p, "an interned keyword or symbol that its bucket chain links");
        }
        if (tag == Tags.SYMBOL_META) return MetaSymbols.verify(h, p, (t, q) -> hash(h, t, q, nested));
        int hv = Util.hasheq(Decoder.decode(h, tag, p));   // scalars only: no handle, no count
        int stored = switch (tag) {
            case Tags.STRING, Tags.BIGINT, Tags.BIGINTEGER, Tags.BIGDECIMAL, Tags.RATIO, Tags.UUID, Tags.INSTANT ->
                Blobs.hash(s, p);
            case Tags.KEYWORD, Tags.SYMBOL -> h.interner().hash(p);
            default -> hv;
        };
        if (stored != hv) throw Damage.at(s, p, "a stored hash equal to its value's hash " + hv + ", found " + stored);
        return hv;
    }
}
