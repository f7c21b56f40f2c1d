package slab.value;

import static slab.value.InternDescriptor.*;

import java.util.concurrent.ConcurrentHashMap;

import clojure.lang.Keyword;
import clojure.lang.Symbol;
import clojure.lang.Util;
import slab.mem.BlockTypes;
import slab.mem.Damage;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;

/**
 * Keywords and symbols, interned once per segment and never freed, so a
 * keyword slot is just the offset of its block and two keywords are equal
 * exactly when their offsets are.
 *
 * <p>The table is a fixed array of bucket heads in the segment; each bucket
 * is a chain of interned blocks, extended by compare-and-set on the head, so
 * every process interns into the same table without locks. Each process
 * keeps caches in front of it (name to offset, offset to name), which is
 * what makes encoding a keyword cost about what encoding a long does, and
 * lets a lookup of a keyword key compare offsets ({@link #knownOffset}),
 * and an index of the chains it has walked ({@link ChainIndex}), so that
 * interning a name it has not seen walks only what was linked since.
 */
public final class Interner {
    private final Segment s;
    /** symbol -> offset of every symbol this process has interned or found (keywords: the table below). */
    private final ConcurrentHashMap<Object, Long> symbols = new ConcurrentHashMap<>();
    private volatile KeywordOffsets keywords = new KeywordOffsets(1 << 10);
    /** offset -> keyword, and -> symbol, for every one this process has decoded (see {@link Decoded}). */
    private volatile Decoded keywordsDecoded = new Decoded(1 << 10), symbolsDecoded = new Decoded(1 << 6);
    private volatile long table;
    /** The bucket chains this process has walked (see {@link ChainIndex}); guarded by this. */
    private final ChainIndex chains = new ChainIndex();

    public Interner(Segment s) {
        this.s = s;
    }

    /** The offset of the interned block for a keyword or symbol, interning it if needed. */
    public long intern(Object kwOrSym) {
        long off = known(kwOrSym);
        if (off != 0) return off;
        off = internSlow(kwOrSym);
        rememberOffset(kwOrSym, off);
        return off;
    }

    /** The interned block for a keyword or symbol, or 0 if this segment has never seen it. */
    public long find(Object kwOrSym) {
        long off = known(kwOrSym);
        if (off != 0) return off;
        // Looking up must not create the table (a read-only segment cannot).
        long t = table != 0 ? table : s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
        if (t == 0) return 0;
        Symbol sym = kwOrSym instanceof Keyword k ? k.sym : (Symbol) kwOrSym;
        int kind = kwOrSym instanceof Keyword ? INTERN_KEYWORD : INTERN_SYMBOL;
        int hash = Util.hasheq(kwOrSym);
        off = lookup(t, kind, hash, sym.getNamespace(), sym.getName());
        if (off != 0) rememberOffset(kwOrSym, off);
        return off;
    }

    /**
     * The offset of k's interned block if this process has interned or found
     * k in this segment, else 0 (which says nothing: another process
     * may have interned it). Two flat-array loads, no allocation: what a
     * lookup compares stored keyword slots against.
     */
    public long knownOffset(Keyword k) {
        return keywords.get(k);
    }

    private long known(Object kwOrSym) {
        if (kwOrSym instanceof Keyword k) return keywords.get(k);
        Long cached = symbols.get(kwOrSym);
        return cached == null ? 0 : cached;
    }

    /**
     * The keyword (tag KEYWORD) or symbol (SYMBOL) interned at off; after the
     * first time, without allocating or reading the segment. Damage if the
     * block holds the other kind. Keywords and symbols are remembered in
     * tables of their own, so a hit proves the kind without loading the
     * object's class (in a walk over a million distinct keywords, a cache
     * miss per key that clojure.core, holding the keyword, does not pay).
     */
    public Object decode(long off, int tag) {
        boolean keyword = tag == Tags.KEYWORD;
        Object v = (keyword ? keywordsDecoded : symbolsDecoded).get(off);
        if (v != null) return v;
        v = read(off);
        if ((v instanceof Keyword) != keyword)
            throw Damage.at(s, off, "an interned " + (keyword ? "keyword" : "symbol") + ", found " + v);
        // Not remembered as v's offset: only intern and find, which walk the chain, know a
        // block is the one the segment links for v (a damaged slot could name another).
        rememberDecoded(off, v);
        return v;
    }

    /**
     * Reads the decode-table slot where off would be first looked for, and
     * returns something made from it (so the JIT keeps the loads): a walk
     * about to decode many keywords calls this for each first, so that their
     * cache misses overlap. Reads nothing of the segment.
     */
    public long warm(long off) {
        return keywordsDecoded.warm(off);
    }

    /** Whether the keyword decode table is big enough (2 MiB of offsets) for {@link #warm} to pay. */
    public boolean worthWarming() {
        return keywordsDecoded.keys.length >= 1 << 18;
    }

    private synchronized void rememberDecoded(long off, Object v) {
        boolean keyword = v instanceof Keyword;
        Decoded d = keyword ? keywordsDecoded : symbolsDecoded;
        if (d.get(off) != null) return;
        if (!d.put(off, v)) {
            d = d.grown();
            d.put(off, v);
            if (keyword) keywordsDecoded = d;
            else symbolsDecoded = d;
        }
    }

    private void rememberOffset(Object kwOrSym, long off) {
        if (kwOrSym instanceof Keyword k) rememberKeyword(k, off);
        else symbols.put(kwOrSym, off);
    }

    private synchronized void rememberKeyword(Keyword k, long off) {
        KeywordOffsets t = keywords;
        if (t.get(k) != 0) return;
        if (!t.put(k, off)) {
            t = t.grown();
            t.put(k, off);
            keywords = t;
        }
    }

    /**
     * An open-addressing table offset -> value that only grows, like the
     * name -> offset map (interned blocks are never freed, so its entries never
     * go stale). Readers take no lock: a value is stored before its key is
     * published with release semantics, and read after the key with acquire.
     * Writers hold the Interner's lock; a full table is replaced by a bigger
     * copy, published through the volatile field once complete.
     */
    private static final class Decoded {
        private static final java.lang.invoke.VarHandle KEYS =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

        final long[] keys;
        final Object[] values;
        final int mask;
        int size;

        Decoded(int capacity) {
            keys = new long[capacity];
            values = new Object[capacity];
            mask = capacity - 1;
        }

        private static int slot(long off, int mask) {
            return (int) ((off * 0x9E3779B97F4A7C15L) >>> 32) & mask;
        }

        Object get(long off) {
            for (int i = slot(off, mask); ; i = (i + 1) & mask) {
                long k = (long) KEYS.getAcquire(keys, i);
                if (k == off) return values[i];
                if (k == 0) return null;
            }
        }

        long warm(long off) {
            int i = slot(off, mask);
            return keys[i] + (values[i] == null ? 1 : 0);
        }

        /** Adds off -> v (absent); false, adding nothing, when the table is half full. */
        boolean put(long off, Object v) {
            if (2 * (size + 1) > keys.length) return false;
            int i = slot(off, mask);
            while (keys[i] != 0) i = (i + 1) & mask;
            values[i] = v;
            KEYS.setRelease(keys, i, off);
            size++;
            return true;
        }

        Decoded grown() {
            Decoded d = new Decoded(keys.length * 2);
            for (int i = 0; i < keys.length; i++) if (keys[i] != 0) d.put(keys[i], values[i]);
            return d;
        }
    }

    public int hash(long off) {
        check(off);
        return s.getInt(off + INTERN_HASH_OFFSET);
    }

    /**
     * Checks off before it is read: a live INTERNED block whose kind and
     * encoding are known and whose lengths (namespace -1 or more, name 0 or
     * more) fit the block. Returns the bytes of its chars.
     */
    private long check(long off) {
        long hd = s.block(off, BlockTypes.INTERNED, "an interned keyword or symbol");
        int nsLen = s.getInt(off + INTERN_NS_LENGTH_OFFSET), nameLen = s.getInt(off + INTERN_NAME_LENGTH_OFFSET);
        int kind = s.getByte(off + INTERN_KIND_OFFSET), enc = s.getByte(off + INTERN_ENCODING_OFFSET);
        long bytes = ((long) Math.max(nsLen, 0) + nameLen) << (enc == INTERN_UTF16 ? 1 : 0);
        if (nsLen < -1 || nameLen < 0 || (kind != INTERN_KEYWORD && kind != INTERN_SYMBOL)
                || (enc != INTERN_LATIN1 && enc != INTERN_UTF16))
            throw Damage.at(s, off, "an interned keyword or symbol with a known kind, encoding and lengths");
        s.within(off, hd, off + INTERN_DATA_OFFSET, bytes, "an interned name's chars");
        return bytes;
    }

    // --- the table ---------------------------------------------------------------

    private long table() {
        long t = table;
        if (t != 0) return t;
        t = s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
        if (t == 0) {
            long bytes = (long) INTERN_BUCKET_LENGTH * INTERN_BUCKETS;
            long fresh = s.allocator().allocate(INTERN_BUCKETS_OFFSET - HEADER + bytes, BlockTypes.INTERN_TABLE);
            s.fill(fresh + INTERN_BUCKETS_OFFSET, bytes, (byte) 0);
            if (s.casLong(HeaderDescriptor.INTERN_TABLE_OFFSET, 0, fresh)) t = fresh;
            else {
                s.allocator().free(fresh);
                t = s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
            }
        }
        table = t;
        return t;
    }

    private long internSlow(Object kwOrSym) {
        Symbol sym = kwOrSym instanceof Keyword k ? k.sym : (Symbol) kwOrSym;
        int kind = kwOrSym instanceof Keyword ? INTERN_KEYWORD : INTERN_SYMBOL;
        String ns = sym.getNamespace(), name = sym.getName();
        int hash = Util.hasheq(kwOrSym);
        long t = table();
        long head = bucket(t, hash);
        long created = 0;
        while (true) {
            long first = s.getLongVolatile(head);
            long found = lookup(t, kind, hash, ns, name);
            if (found != 0) {
                if (created != 0) s.allocator().free(created);
                return found;
            }
            if (created == 0) created = write(kind, hash, ns, name);
            s.putLong(created + INTERN_NEXT_OFFSET, first);
            ValueSeals.sealInterned(s, created);   // next is covered: sealed once it is final, before the CAS links it
            if (s.casLong(head, first, created)) return created;
        }
    }

    /**
     * Is interned block b linked into its bucket's chain? One that is not was
     * left by a process killed while interning (before the seal or the CAS):
     * garbage that no slot names, whose seal is not to be trusted.
     */
    public synchronized boolean linked(long b) {
        // b itself is not checked first: a torn block is what this looks for
        if (INTERN_DATA_OFFSET > Segment.blockSize(s.liveHeader(b, "an interned keyword or symbol"))) return false;
        long t = s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
        if (t == 0) return false;
        int hash = s.getInt(b + INTERN_HASH_OFFSET);
        index(t, hash);
        for (int i = chains.first(hash); i >= 0; i = chains.next(hash, i + 1)) if (chains.offsetAt(i) == b) return true;
        return false;
    }

    /**
     * One walk along a bucket chain: checks each block, and finds a cycle by
     * Brent's method (a block remembered at every power of two steps is met
     * again inside a cycle, within twice the chain's length).
     */
    private final class ChainWalk {
        private long mark, steps, lap = 1;

        void visit(long b) {
            check(b);
            if (b == mark) throw Damage.at(s, b, "an intern bucket chain that ends, found a cycle");
            if (++steps == lap) {
                mark = b;
                steps = 0;
                lap <<= 1;
            }
        }
    }

    /**
     * Makes the next look at each bucket walk its whole chain again, each
     * block checked: verify calls this first, so that damage to a chain
     * since this process last walked it is found, and linked answers from
     * the chain as it is now.
     */
    public synchronized void forgetWalks() {
        chains.clear();
    }

    /**
     * The block interned for (kind, ns, name) of this hash, or 0: the chain
     * indexed first, then the blocks of the hash compared by name.
     */
    private synchronized long lookup(long t, int kind, int hash, String ns, String name) {
        index(t, hash);
        for (int i = chains.first(hash); i >= 0; i = chains.next(hash, i + 1)) {
            long b = chains.offsetAt(i);
            if (s.getByte(b + INTERN_KIND_OFFSET) == kind && matches(b, ns, name)) return b;
        }
        return 0;
    }

    /**
     * Brings the index of hash's bucket up to its head: walks the blocks
     * linked since the last walk (all of them the first time), each checked.
     * Chains only grow at the head, so a sound chain ends, or meets the head
     * of the last walk; a damaged next word can close it into a cycle, which
     * the ChainWalk finds. A block whose hash is not of this bucket is never
     * indexed (it can match no lookup, as in a walk by name).
     */
    private void index(long t, int hash) {   // holds this
        int bucket = hash & (INTERN_BUCKETS - 1);
        long head = s.getLongVolatile(bucket(t, hash));
        long stop = chains.walkedFrom(bucket);
        if (head == stop) return;
        ChainWalk walk = new ChainWalk();
        for (long b = head; b != 0 && b != stop; b = s.getLong(b + INTERN_NEXT_OFFSET)) {
            walk.visit(b);
            int hb = s.getInt(b + INTERN_HASH_OFFSET);
            if ((hb & (INTERN_BUCKETS - 1)) == bucket) chains.add(hb, b);
        }
        chains.walkedFrom(bucket, head);
    }

    private boolean matches(long b, String ns, String name) {
        int nsLen = s.getInt(b + INTERN_NS_LENGTH_OFFSET);
        int nameLen = s.getInt(b + INTERN_NAME_LENGTH_OFFSET);
        if (nsLen != (ns == null ? -1 : ns.length()) || nameLen != name.length()) return false;
        boolean utf16 = s.getByte(b + INTERN_ENCODING_OFFSET) == INTERN_UTF16;
        long p = b + INTERN_DATA_OFFSET;
        if (ns != null) {
            if (!Strings.equalsAt(s, p, utf16, ns)) return false;
            p += (long) nsLen << (utf16 ? 1 : 0);
        }
        return Strings.equalsAt(s, p, utf16, name);
    }

    private long write(int kind, int hash, String ns, String name) {
        boolean utf16 = !Strings.isLatin1(name) || (ns != null && !Strings.isLatin1(ns));
        int nsLen = ns == null ? -1 : ns.length();
        long bytes = ((long) Math.max(nsLen, 0) + name.length()) << (utf16 ? 1 : 0);
        long b = s.allocator().allocate(slab.mem.Seals.withTrailer(INTERN_DATA_OFFSET + bytes) - HEADER, BlockTypes.INTERNED);
        s.putLong(b + INTERN_NEXT_OFFSET, 0);
        s.putInt(b + INTERN_HASH_OFFSET, hash);
        s.putByte(b + INTERN_KIND_OFFSET, (byte) kind);
        s.putByte(b + INTERN_ENCODING_OFFSET, (byte) (utf16 ? INTERN_UTF16 : INTERN_LATIN1));
        s.putShort(b + INTERN_ENCODING_OFFSET + 1, (short) 0);   // zero: the seal covers it
        s.putInt(b + INTERN_NS_LENGTH_OFFSET, nsLen);
        s.putInt(b + INTERN_NAME_LENGTH_OFFSET, name.length());
        long p = b + INTERN_DATA_OFFSET;
        if (ns != null) p = Strings.writeAt(s, p, utf16, ns);
        Strings.writeAt(s, p, utf16, name);
        return b;
    }

    private Object read(long b) {
        check(b);
        if (s.verifyOnRead) {
            ValueSeals.checkInterned(s, b);
            if (!linked(b)) throw Damage.at(s, b, "an interned keyword or symbol that its bucket chain links");
        }
        int nsLen = s.getInt(b + INTERN_NS_LENGTH_OFFSET);
        int nameLen = s.getInt(b + INTERN_NAME_LENGTH_OFFSET);
        boolean utf16 = s.getByte(b + INTERN_ENCODING_OFFSET) == INTERN_UTF16;
        long p = b + INTERN_DATA_OFFSET;
        String ns = null;
        if (nsLen >= 0) {
            ns = Strings.readAt(s, p, utf16, nsLen);
            p += (long) nsLen << (utf16 ? 1 : 0);
        }
        String name = Strings.readAt(s, p, utf16, nameLen);
        return s.getByte(b + INTERN_KIND_OFFSET) == INTERN_KEYWORD ? Keyword.intern(ns, name) : Symbol.intern(ns, name);
    }
}
