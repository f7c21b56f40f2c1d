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
 * keeps two caches in front of it (name to offset, offset to name), which is
 * what makes encoding a keyword cost about what encoding a long does.
 */
public final class Interner {
    private final Segment s;
    private final ConcurrentHashMap<Object, Long> offsets = new ConcurrentHashMap<>();
    /** offset -> value for every keyword and symbol this process has decoded (see {@link Decoded}). */
    private volatile Decoded decoded = new Decoded(1 << 10);
    private volatile long table;

    public Interner(Segment s) {
        this.s = s;
    }

    /** The offset of the interned block for a keyword or symbol, interning it if needed. */
    public long intern(Object kwOrSym) {
        Long cached = offsets.get(kwOrSym);
        if (cached != null) return cached;
        long off = internSlow(kwOrSym);
        offsets.put(kwOrSym, off);
        return off;
    }

    /** The interned block for a keyword or symbol, or 0 if this segment has never seen it. */
    public long find(Object kwOrSym) {
        Long cached = offsets.get(kwOrSym);
        if (cached != null) return cached;
        // Looking up must not create the table (a read-only segment cannot).
        long t = table != 0 ? table : s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
        if (t == 0) return 0;
        Symbol sym = kwOrSym instanceof Keyword k ? k.sym : (Symbol) kwOrSym;
        int kind = kwOrSym instanceof Keyword ? INTERN_KEYWORD : INTERN_SYMBOL;
        int hash = Util.hasheq(kwOrSym);
        long off = lookup(t, bucket(t, hash), kind, hash, sym.getNamespace(), sym.getName());
        if (off != 0) offsets.put(kwOrSym, off);
        return off;
    }

    /** The keyword or symbol interned at off; after the first time, without allocating. */
    public Object decode(long off) {
        Object v = decoded.get(off);
        if (v != null) return v;
        v = read(off);
        remember(off, v);
        return v;
    }

    private synchronized void remember(long off, Object v) {
        Decoded d = decoded;
        if (d.get(off) != null) return;
        if (!d.put(off, v)) {
            d = d.grown();
            d.put(off, v);
            decoded = d;
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

    /** decode of a KEYWORD or SYMBOL slot: damage if the block holds the other kind. */
    public Object decode(long off, int tag) {
        Object v = decode(off);
        if ((v instanceof Keyword) != (tag == Tags.KEYWORD))
            throw Damage.at(s, off, "an interned " + (tag == Tags.KEYWORD ? "keyword" : "symbol") + ", found " + v);
        return v;
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
            long found = lookup(t, head, kind, hash, ns, name);
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
    public boolean linked(long b) {
        // b itself is not checked: a torn block is what this looks for
        if (INTERN_DATA_OFFSET > Segment.blockSize(s.liveHeader(b, "an interned keyword or symbol"))) return false;
        long t = s.getLongVolatile(HeaderDescriptor.INTERN_TABLE_OFFSET);
        if (t == 0) return false;
        ChainWalk walk = new ChainWalk();
        for (long c = s.getLongVolatile(bucket(t, s.getInt(b + INTERN_HASH_OFFSET))); c != 0; c = s.getLong(c + INTERN_NEXT_OFFSET)) {
            if (c == b) return true;
            walk.visit(c);
        }
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
     * Walks a bucket's chain, each block checked. Chains only grow at the
     * head, so a sound chain ends; a damaged next word can close it into a
     * cycle, which the ChainWalk finds.
     */
    private long lookup(long t, long head, int kind, int hash, String ns, String name) {
        ChainWalk walk = new ChainWalk();
        for (long b = s.getLongVolatile(head); b != 0; b = s.getLong(b + INTERN_NEXT_OFFSET)) {
            walk.visit(b);
            if (s.getInt(b + INTERN_HASH_OFFSET) == hash && s.getByte(b + INTERN_KIND_OFFSET) == kind
                    && matches(b, ns, name)) return b;
        }
        return 0;
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
