package slab.map;

import java.util.Arrays;

import clojure.lang.ASeq;
import clojure.lang.IChunk;
import clojure.lang.IChunkedSeq;
import clojure.lang.IPersistentMap;
import clojure.lang.ISeq;
import clojure.lang.Obj;
import clojure.lang.PersistentList;

/**
 * The chunked seq of a map or set walk: the elements of one {@link
 * EntryChunk} from offset on, then more, the lazy seq of the chunks after
 * it (shared by every seq of this chunk, so the walk behind it runs once).
 * The walk holds the handle, so the version stays alive while any part of
 * the seq is reachable.
 */
final class MapSeq extends ASeq implements IChunkedSeq {
    private final EntryChunk chunk;
    private final int offset;
    /** The seq of the chunks after this one, or null. */
    private final ISeq more;

    MapSeq(IPersistentMap meta, EntryChunk chunk, int offset, ISeq more) {
        super(meta);
        this.chunk = chunk;
        this.offset = offset;
        this.more = more;
    }

    @Override
    public Object first() { return chunk.at(offset); }

    @Override
    public ISeq next() {
        if (offset + 1 < chunk.end()) return new MapSeq(null, chunk, offset + 1, more);
        return more == null ? null : more.seq();
    }

    @Override
    public IChunk chunkedFirst() { return chunk.from(offset); }

    @Override
    public ISeq chunkedNext() { return more == null ? null : more.seq(); }

    @Override
    public ISeq chunkedMore() { return more == null ? PersistentList.EMPTY : more; }

    /** Serialized as the list of its elements, as clojure.core's seqs serialize theirs. */
    private Object writeReplace() { return PersistentList.create(Arrays.asList(toArray())); }

    @Override
    public Obj withMeta(IPersistentMap meta) {
        if (meta == meta()) return this;
        return new MapSeq(meta, chunk, offset, more);
    }
}
