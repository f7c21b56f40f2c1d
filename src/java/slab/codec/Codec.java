package slab.codec;

import static slab.codec.BlobDescriptor.*;

import java.lang.ref.Cleaner;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import clojure.lang.BigInt;
import clojure.lang.ExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.IPersistentVector;
import clojure.lang.IRecord;
import clojure.lang.Keyword;
import clojure.lang.Murmur3;
import clojure.lang.PersistentVector;
import clojure.lang.Ratio;
import clojure.lang.Sequential;
import clojure.lang.Symbol;
import clojure.lang.Util;
import slab.Errors;
import slab.mem.Allocator;
import slab.mem.AllocatorDescriptor;
import slab.mem.Segment;

/**
 * The value codec of one segment: turns Clojure values into slots (tag +
 * payload, see {@link Tags}) and back, compares and hashes slots with
 * Clojure's equality, and keeps reference counts: retaining and releasing
 * slots, and reclaiming blocks whose count reaches zero, iteratively.
 *
 * <p>Encoding allocates blobs and collection blocks; the encoded slot owns
 * one count on them. Decoding a nested collection gives a new handle that
 * owns its own count. Comparing a stored key with an on-heap key allocates
 * nothing for scalars, so lookups of scalar keys stay off the heap.
 */
public final class Codec {
    private static volatile Thread cleanerThread;
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "slab-cleaner");
        t.setDaemon(true);
        cleanerThread = t;
        return t;
    });
    private static volatile HandleFactory factory;

    private final Segment s;
    private final Allocator alloc;
    private final Interner interner;
    private volatile Ledger ledger;
    /** Handles made and given back in this process, for stats (LongAdder: no contended word). */
    final java.util.concurrent.atomic.LongAdder handlesMade = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder handlesGone = new java.util.concurrent.atomic.LongAdder();
    /** Handle and transient releases finished on this segment; an allocation waiting for space watches it move. */
    final java.util.concurrent.atomic.LongAdder releasesCompleted = new java.util.concurrent.atomic.LongAdder();
    /** While a sweep runs, releases from the Cleaner wait here instead of touching counts. */
    private java.util.ArrayList<Long> deferred;

    private Codec(Segment s) {
        this.s = s;
        this.alloc = s.allocator();
        this.interner = new Interner(this);
        alloc.onPressure(System::gc, releasesCompleted::sum);   // dropped handles give counts back as the Cleaner runs
    }

    /** The codec of a segment, made on first use. */
    public static Codec of(Segment s) {
        return s.extension(Codec::new);
    }

    public static void setFactory(HandleFactory f) { factory = f; }

    public Segment segment() { return s; }
    public Allocator allocator() { return alloc; }
    Cleaner cleaner() { return CLEANER; }
    int typeOf(long block) { return alloc.typeOf(block); }

    /** Cleaner failures printed so far in this process (only the first few are). */
    private static final java.util.concurrent.atomic.AtomicInteger CLEANUP_FAILURES_PRINTED = new java.util.concurrent.atomic.AtomicInteger();

    // --- ownership records ------------------------------------------------------------

    /** Installs the ledger recording what this process's handles own (named segments). */
    public void setLedger(Ledger l) { this.ledger = l; }

    /** Versions (handles holding nodes) this process has made and not yet given back. */
    public long liveVersions() { return handlesMade.sum() - handlesGone.sum(); }

    /** Owning handles (each a count and a Cleaner registration) this process has made on this segment, ever. */
    public long handlesMade() { return handlesMade.sum(); }

    /**
     * Cleaner actions (handle and transient releases) that threw. The Cleaner
     * swallows what its actions throw, and a release that throws part-way
     * leaves counts behind, so leak tests report these to say why.
     */
    private final java.util.concurrent.atomic.LongAdder cleanupFailures = new java.util.concurrent.atomic.LongAdder();
    private volatile Throwable lastCleanupFailure;

    /**
     * Records that a Cleaner action of this codec threw t: a dropped
     * version's counts were not all given back, which is a bug in slab. The
     * first few failures on the Cleaner's thread are printed, since nothing
     * else would ever show them (on a caller's thread the exception goes on up).
     */
    void cleanupFailed(Throwable t) {
        lastCleanupFailure = t;
        cleanupFailures.increment();
        if (Thread.currentThread() == cleanerThread && CLEANUP_FAILURES_PRINTED.getAndIncrement() < 3) {
            System.err.println("slab: internal error while giving back a dropped version's counts (please report):");
            t.printStackTrace();
        }
    }

    /** How many Cleaner actions of this codec have thrown; 0 unless slab has a bug. */
    public long cleanupFailures() { return cleanupFailures.sum(); }

    /** What the last Cleaner action that threw threw, or null. */
    public Throwable lastCleanupFailure() { return lastCleanupFailure; }

    public Ledger ledger() { return ledger; }

    /** Records that an on-heap owner now holds a count on block (after taking it). */
    public void own(long block) {
        Ledger l = ledger;
        if (l != null && block != 0) l.own(block);
    }

    /** Erases that record (before the count is given back). */
    public void disown(long block) {
        Ledger l = ledger;
        if (l != null && block != 0) l.disown(block);
    }

    /**
     * Records a count a transient holds on a node it may still change in
     * place. The record carries bit 0 (offsets are 16-aligned), telling a
     * recovering process not to trust that node's contents: a process killed
     * mid-edit may leave it torn, so its counts are left for the sweep, which
     * recounts from what the published roots reach.
     */
    public void ownMutable(long block) {
        if (block != 0) own(block | MUTABLE);
    }

    public void disownMutable(long block) {
        if (block != 0) disown(block | MUTABLE);
    }

    /** The ledger flag of a transient's record. */
    public static final long MUTABLE = 1;

    /**
     * Runs body with Cleaner releases held back, so a sweep sees a stable set
     * of owners; the held-back releases run afterwards.
     */
    public void withReleasesPaused(Runnable body) {
        synchronized (this) {
            deferred = new java.util.ArrayList<>();
        }
        try {
            body.run();
        } finally {
            java.util.ArrayList<Long> held;
            synchronized (this) {
                held = deferred;
                deferred = null;
            }
            for (long b : held) {
                disown(b);
                releaseRef(b & ~MUTABLE);
            }
        }
    }

    /**
     * A handle's (or transient's) count going back: disowned, then released;
     * held back during a sweep; dropped once {@link #stopReleases} ran (the
     * segment is being closed and its ledger's counts were given back).
     * On a segment with a ledger this runs under the codec's lock, so it never
     * interleaves with a sweep or a detach reading the ledger.
     */
    void releaseOwnedMutable(long block) {
        if (block != 0) releaseOwned(block | MUTABLE);
    }

    void releaseOwned(long block) {
        if (block == 0) return;
        if (ledger == null && deferred == null && !releasesStopped) {
            releaseRef(block & ~MUTABLE);
            return;
        }
        synchronized (this) {
            if (releasesStopped) return;
            if (deferred != null) {
                deferred.add(block);
                return;
            }
            disown(block);
            releaseRef(block & ~MUTABLE);
        }
    }

    private volatile boolean releasesStopped;

    /**
     * Runs body (which gives back what the ledger records) with every later
     * handle release turned into a no-op, atomically with respect to
     * releases in progress.
     */
    public synchronized void stopReleases(Runnable body) {
        releasesStopped = true;
        body.run();
    }

    /** A fresh transient edit id, unique in the segment across processes. */
    public long newEdit() {
        return s.getAndAddLong(slab.mem.HeaderDescriptor.NEXT_EDIT_OFFSET, 1);
    }

    // --- encoding ---------------------------------------------------------------

    /**
     * Encodes v into out. Counted payloads (blobs, collections) are new
     * blocks or new counts that out now owns. Throws {@code :unsupported-value}
     * without writing anything for a value slab cannot store.
     */
    public void encode(Object v, Slot out) {
        s.checkOpen();
        if (v instanceof clojure.lang.IPersistentCollection || v instanceof Sequential) validate(v);
        encodeTrusted(v, out);
    }

    /** encode for values already validated: builders of nested collections call this. */
    void encodeTrusted(Object v, Slot out) {
        if (v == null) { out.set(Tags.NIL, 0, 0); return; }
        if (v instanceof Long l) { long x = l; out.set(Tags.LONG, x, Murmur3.hashLong(x)); return; }
        if (v instanceof Keyword k) { out.set(Tags.KEYWORD, interner.intern(k), k.hasheq()); return; }
        if (v instanceof String str) { encodeString(str, out); return; }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long x = ((Number) v).longValue();
            out.set(Tags.LONG, x, Murmur3.hashLong(x));
            return;
        }
        if (v instanceof Double d) { out.set(Tags.DOUBLE, Double.doubleToRawLongBits(d), Util.hasheq(d)); return; }
        if (v instanceof Boolean b) { out.set(b ? Tags.TRUE : Tags.FALSE, 0, Util.hasheq(b)); return; }
        if (v instanceof Float f) { out.set(Tags.FLOAT, Float.floatToRawIntBits(f) & 0xFFFF_FFFFL, Util.hasheq(f)); return; }
        if (v instanceof Character c) { out.set(Tags.CHAR, c, Util.hasheq(c)); return; }
        if (v instanceof Symbol sym) { out.set(Tags.SYMBOL, interner.intern(sym), sym.hasheq()); return; }
        if (v instanceof BigInt bi) {
            if (bi.bipart == null) out.set(Tags.BIGINT_SMALL, bi.lpart, Util.hasheq(bi));
            else out.set(Tags.BIGINT, bigIntegerBlob(bi.bipart, Util.hasheq(bi)), Util.hasheq(bi));
            return;
        }
        if (v instanceof BigInteger bi) {
            if (bi.bitLength() < 64) out.set(Tags.BIGINTEGER_SMALL, bi.longValue(), Util.hasheq(bi));
            else out.set(Tags.BIGINTEGER, bigIntegerBlob(bi, Util.hasheq(bi)), Util.hasheq(bi));
            return;
        }
        if (v instanceof BigDecimal bd) { out.set(Tags.BIGDECIMAL, bigDecimalBlob(bd), Util.hasheq(bd)); return; }
        if (v instanceof Ratio r) { out.set(Tags.RATIO, ratioBlob(r), Util.hasheq(r)); return; }
        if (v instanceof UUID u) { out.set(Tags.UUID, uuidBlob(u), Util.hasheq(u)); return; }
        if (v.getClass() == Date.class) {
            out.set(Tags.DATE, ((Date) v).getTime(), Util.hasheq(v));
            return;
        }
        if (v instanceof Instant i) { out.set(Tags.INSTANT, instantBlob(i), Util.hasheq(i)); return; }
        if (v instanceof SharedColl sc && sc.slabRoot().codec == this) {
            Root r = sc.slabRoot();
            r.check();
            try {
                out.set(r.kind == Tags.LIST || sc.slabKind() == Tags.LIST ? Tags.LIST : sc.slabKind(),
                    collBlock(r, sc.slabKind(), ((clojure.lang.IMeta) v).meta()), r.hasheq());
            } finally {
                java.lang.ref.Reference.reachabilityFence(sc);
            }
            return;
        }
        if (v instanceof IRecord) throw unsupported(v, "records are not stored as plain maps, since a record is not = to a map");
        if (v instanceof IPersistentMap m) { encodeBuilt(MapNodes.fromMap(this, m), Tags.MAP, ((clojure.lang.IMeta) v).meta(), out); return; }
        if (v instanceof IPersistentSet set) {
            encodeBuilt(MapNodes.fromSet(this, set), Tags.SET, ((clojure.lang.IMeta) v).meta(), out);
            return;
        }
        if (v instanceof IPersistentVector vec) {
            encodeBuilt(VecNodes.fromSeqable(this, vec, Tags.VECTOR), Tags.VECTOR,
                v instanceof clojure.lang.IMeta im ? im.meta() : null, out);
            return;
        }
        if (v instanceof Sequential) {
            encodeBuilt(VecNodes.fromSeqable(this, v, Tags.LIST), Tags.LIST,
                v instanceof clojure.lang.IMeta im ? im.meta() : null, out);
            return;
        }
        throw unsupported(v, null);
    }

    private void encodeBuilt(Root built, int kind, IPersistentMap meta, Slot out) {
        try {
            out.set(kind, collBlock(built, kind, meta), built.hasheq());
        } finally {
            built.release();
        }
    }

    private void encodeString(String str, Slot out) {
        int hash = Murmur3.hashInt(str.hashCode());
        if (Strings.fitsInline(str)) {
            out.set(Tags.STR_INLINE + str.length(), Strings.packInline(str), hash);
            return;
        }
        boolean utf16 = !Strings.isLatin1(str);
        long bytes = (long) str.length() << (utf16 ? 1 : 0);
        long b = alloc.allocate(STRING_DATA_OFFSET - HEADER + bytes, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, hash);
        s.putInt(b + LENGTH_OFFSET, str.length() | (utf16 ? UTF16_FLAG : 0));
        Strings.writeAt(s, b + STRING_DATA_OFFSET, utf16, str);
        out.set(Tags.STRING, b, hash);
    }

    private long bigIntegerBlob(BigInteger bi, int hash) {
        byte[] bytes = bi.toByteArray();
        long b = alloc.allocate(BIGINT_DATA_OFFSET - HEADER + bytes.length, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, hash);
        s.putInt(b + LENGTH_OFFSET, bytes.length);
        s.writeBytes(b + BIGINT_DATA_OFFSET, bytes, 0, bytes.length);
        return b;
    }

    private long bigDecimalBlob(BigDecimal bd) {
        byte[] bytes = bd.unscaledValue().toByteArray();
        long b = alloc.allocate(BIGDEC_DATA_OFFSET - HEADER + bytes.length, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(bd));
        s.putInt(b + LENGTH_OFFSET, bytes.length);
        s.putInt(b + BIGDEC_SCALE_OFFSET, bd.scale());
        s.writeBytes(b + BIGDEC_DATA_OFFSET, bytes, 0, bytes.length);
        return b;
    }

    private long ratioBlob(Ratio r) {
        byte[] num = r.numerator.toByteArray(), den = r.denominator.toByteArray();
        long b = alloc.allocate(RATIO_DATA_OFFSET - HEADER + num.length + den.length, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(r));
        s.putInt(b + LENGTH_OFFSET, num.length);
        s.putInt(b + RATIO_DEN_LENGTH_OFFSET, den.length);
        s.writeBytes(b + RATIO_DATA_OFFSET, num, 0, num.length);
        s.writeBytes(b + RATIO_DATA_OFFSET + num.length, den, 0, den.length);
        return b;
    }

    private long uuidBlob(UUID u) {
        long b = alloc.allocate(UUID_LENGTH - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(u));
        s.putLong(b + UUID_MSB_OFFSET, u.getMostSignificantBits());
        s.putLong(b + UUID_LSB_OFFSET, u.getLeastSignificantBits());
        return b;
    }

    private long instantBlob(Instant i) {
        long b = alloc.allocate(INSTANT_LENGTH - HEADER, BlockTypes.BLOB);
        s.putInt(b + HASH_OFFSET, Util.hasheq(i));
        s.putInt(b + INSTANT_NANOS_OFFSET, i.getNano());
        s.putLong(b + INSTANT_SECONDS_OFFSET, i.getEpochSecond());
        return b;
    }

    /**
     * A shared version of v in this segment: collections are converted deeply
     * (a shared collection of this segment is returned as it is), scalars are
     * checked and returned unchanged. Throws {@code :unsupported-value} and
     * leaks nothing if anything inside cannot be stored.
     */
    public Object share(Object v) {
        s.checkOpen();
        if (v instanceof SharedColl sc && sc.slabRoot().codec == this) return v;
        validate(v);
        IPersistentMap meta = v instanceof clojure.lang.IMeta im ? im.meta() : null;
        HandleFactory f = factory;
        if (v instanceof IRecord) throw unsupported(v, "records are not stored as plain maps, since a record is not = to a map");
        if (v instanceof IPersistentMap m) return f.make(Tags.MAP, MapNodes.fromMap(this, m), meta);
        if (v instanceof IPersistentSet set) return f.make(Tags.SET, MapNodes.fromSet(this, set), meta);
        if (v instanceof IPersistentVector) return f.make(Tags.VECTOR, VecNodes.fromSeqable(this, v, Tags.VECTOR), meta);
        if (v instanceof Sequential) return f.make(Tags.LIST, VecNodes.fromSeqable(this, v, Tags.LIST), meta);
        Slot slot = new Slot();
        encode(v, slot);
        releaseSlot(slot.tag, slot.payload);
        return v;
    }

    /**
     * Walks v and throws {@code :unsupported-value} (with the key path) for
     * anything slab cannot store, before anything is written: a refused
     * value leaves the segment exactly as it was, interned keywords included.
     */
    public void validate(Object v) {
        if (v == null || isScalar(v)) return;
        s.checkOpen();
        if (v instanceof SharedColl sc && sc.slabRoot().codec == this) return;
        if (v instanceof IRecord) throw unsupported(v, "records are not stored as plain maps, since a record is not = to a map");
        if (!(v instanceof clojure.lang.IPersistentCollection || v instanceof Sequential)) throw unsupported(v, null);
        if (v instanceof clojure.lang.IMeta im && im.meta() != null) {
            try {
                validate(im.meta());
            } catch (ExceptionInfo e) {
                throw withPath(e, Keyword.intern("slab", "meta"));
            }
        }
        if (v instanceof IPersistentMap m) {
            for (Object o : m) {
                java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) o;
                try {
                    validate(e.getKey());
                    validate(e.getValue());
                } catch (ExceptionInfo ex) {
                    throw withPath(ex, e.getKey());
                }
            }
            return;
        }
        long i = 0;
        for (clojure.lang.ISeq q = clojure.lang.RT.seq(v); q != null; q = q.next(), i++) {
            try {
                validate(q.first());
            } catch (ExceptionInfo ex) {
                throw withPath(ex, v instanceof IPersistentSet ? q.first() : (Object) i);
            }
        }
    }

    private static boolean isScalar(Object v) {
        return v instanceof Long || v instanceof Keyword || v instanceof String || v instanceof Integer
            || v instanceof Double || v instanceof Boolean || v instanceof Symbol || v instanceof Character
            || v instanceof Short || v instanceof Byte || v instanceof Float || v instanceof BigInt
            || v instanceof BigInteger || v instanceof BigDecimal || v instanceof Ratio || v instanceof UUID
            || v.getClass() == Date.class || v instanceof Instant;
    }

    /** A collection block describing r's version, holding its own counts on r's nodes. */
    public long collBlock(Root r, int kind, IPersistentMap meta) {
        Slot m = new Slot();
        if (meta != null && meta.count() > 0) {
            try {
                encode(meta, m);
            } catch (ExceptionInfo e) {
                throw withPath(e, Keyword.intern("slab", "meta"));
            }
        }
        long b;
        try {
            b = alloc.allocate(COLL_LENGTH - HEADER, BlockTypes.COLL);
        } catch (RuntimeException e) {
            releaseSlot(m.tag, m.payload);
            throw e;
        }
        if (r.node != 0) alloc.retain(r.node);
        if (r.tail != 0) alloc.retain(r.tail);
        s.putByte(b + COLL_KIND_OFFSET, (byte) kind);
        s.putByte(b + COLL_META_TAG_OFFSET, (byte) m.tag);
        s.putByte(b + COLL_SHIFT_OFFSET, (byte) r.shift);
        s.putByte(b + COLL_SHIFT_OFFSET + 1, (byte) 0);
        s.putInt(b + COLL_HASH_OFFSET, kind == Tags.MAP || kind == Tags.SET ? r.hashSum() : r.hasheq());
        s.putLong(b + COLL_COUNT_OFFSET, r.count);
        s.putLong(b + COLL_ROOT_OFFSET, r.node);
        s.putLong(b + COLL_TAIL_OFFSET, r.tail);
        s.putLong(b + COLL_META_OFFSET, m.payload);
        return b;
    }

    /** A new handle on the version a collection block describes (one count on each of its nodes). */
    public Root rootOf(long coll) {
        int kind = s.getByte(coll + COLL_KIND_OFFSET);
        long node = s.getLong(coll + COLL_ROOT_OFFSET);
        long tail = s.getLong(coll + COLL_TAIL_OFFSET);
        if (node != 0) alloc.retain(node);
        if (tail != 0) alloc.retain(tail);
        return new Root(this, kind, node, tail, s.getLong(coll + COLL_COUNT_OFFSET),
            s.getByte(coll + COLL_SHIFT_OFFSET), s.getInt(coll + COLL_HASH_OFFSET), true);
    }

    public ExceptionInfo unsupported(Object v, String why) {
        String cls = v.getClass().getName();
        return Errors.info("unsupported-value", "slab cannot store a value of class " + cls
            + (why == null ? "" : " (" + why + ")")
            + " at path []. Supported: nil, booleans, numbers, chars, strings, keywords, symbols, UUIDs, "
            + "java.util.Date, java.time.Instant, and maps, sets, vectors and lists of those.",
            "class", cls, "path", PersistentVector.EMPTY, "value", v);
    }

    /** The same unsupported-value error with key prepended to its path. */
    public ExceptionInfo withPath(ExceptionInfo e, Object key) {
        IPersistentMap data = e.getData();
        if (data == null || data.valAt(Errors.ERROR) != Keyword.intern("unsupported-value")) return e;
        IPersistentVector path = (IPersistentVector) data.valAt(Keyword.intern("path"));
        IPersistentVector longer = PersistentVector.create(key);
        for (int i = 0; i < path.count(); i++) longer = longer.cons(path.nth(i));
        String msg = e.getMessage().replaceFirst(" at path \\[[^\\n]*?\\]\\. Supported", " at path "
            + java.util.regex.Matcher.quoteReplacement(clojure.lang.RT.printString(longer)) + ". Supported");
        return new ExceptionInfo(msg, data.assoc(Keyword.intern("path"), longer));
    }

    // --- decoding ---------------------------------------------------------------

    public Object decode(int tag, long p) {
        switch (tag) {
            case Tags.NIL: return null;
            case Tags.FALSE: return Boolean.FALSE;
            case Tags.TRUE: return Boolean.TRUE;
            case Tags.LONG: return p;
            case Tags.DOUBLE: return Double.longBitsToDouble(p);
            case Tags.FLOAT: return Float.intBitsToFloat((int) p);
            case Tags.CHAR: return (char) p;
            case Tags.BIGINT_SMALL: return BigInt.fromLong(p);
            case Tags.BIGINTEGER_SMALL: return BigInteger.valueOf(p);
            case Tags.DATE: return new Date(p);
            case Tags.KEYWORD: case Tags.SYMBOL: return interner.decode(p);
            case Tags.STRING: return readString(p);
            case Tags.BIGINT: return BigInt.fromBigInteger(readBigInteger(p));
            case Tags.BIGINTEGER: return readBigInteger(p);
            case Tags.BIGDECIMAL: {
                byte[] b = new byte[s.getInt(p + LENGTH_OFFSET)];
                s.readBytes(p + BIGDEC_DATA_OFFSET, b, 0, b.length);
                return new BigDecimal(new BigInteger(b), s.getInt(p + BIGDEC_SCALE_OFFSET));
            }
            case Tags.RATIO: {
                byte[] num = new byte[s.getInt(p + LENGTH_OFFSET)];
                byte[] den = new byte[s.getInt(p + RATIO_DEN_LENGTH_OFFSET)];
                s.readBytes(p + RATIO_DATA_OFFSET, num, 0, num.length);
                s.readBytes(p + RATIO_DATA_OFFSET + num.length, den, 0, den.length);
                return new Ratio(new BigInteger(num), new BigInteger(den));
            }
            case Tags.UUID: return new UUID(s.getLong(p + UUID_MSB_OFFSET), s.getLong(p + UUID_LSB_OFFSET));
            case Tags.INSTANT: return Instant.ofEpochSecond(s.getLong(p + INSTANT_SECONDS_OFFSET), s.getInt(p + INSTANT_NANOS_OFFSET));
            case Tags.MAP: case Tags.SET: case Tags.VECTOR: case Tags.LIST: return decodeColl(tag, p);
            default:
                if (Tags.isInlineString(tag)) return Strings.unpackInline(p, tag - Tags.STR_INLINE);
                throw new IllegalStateException("slab: unknown value tag " + tag + " (damaged node?)");
        }
    }

    /**
     * decode for a slot read out of parent's version: a nested collection
     * comes back as a handle borrowing parent's counts (see Root), which costs
     * no count, no Cleaner registration and no ledger record.
     */
    public Object decodeIn(Root parent, int tag, long p) {
        if (parent == null || !Tags.isCollection(tag)) return decode(tag, p);
        HandleFactory f = factory;
        if (f == null) throw new IllegalStateException("slab: load slab.core before reading nested collections");
        IPersistentMap meta = null;
        int metaTag = s.getByte(p + COLL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL) meta = (IPersistentMap) decodeIn(parent, metaTag, s.getLong(p + COLL_META_OFFSET));
        Root r = new Root(parent, s.getByte(p + COLL_KIND_OFFSET), s.getLong(p + COLL_ROOT_OFFSET),
            s.getLong(p + COLL_TAIL_OFFSET), s.getLong(p + COLL_COUNT_OFFSET), s.getByte(p + COLL_SHIFT_OFFSET),
            s.getInt(p + COLL_HASH_OFFSET));
        return f.make(tag, r, meta);
    }

    private Object decodeColl(int tag, long coll) {
        HandleFactory f = factory;
        if (f == null) throw new IllegalStateException("slab: load slab.core before reading nested collections");
        IPersistentMap meta = null;
        int metaTag = s.getByte(coll + COLL_META_TAG_OFFSET);
        if (metaTag != Tags.NIL) meta = (IPersistentMap) decode(metaTag, s.getLong(coll + COLL_META_OFFSET));
        return f.make(tag, rootOf(coll), meta);
    }

    private String readString(long b) {
        int len = s.getInt(b + LENGTH_OFFSET);
        boolean utf16 = (len & UTF16_FLAG) != 0;
        return Strings.readAt(s, b + STRING_DATA_OFFSET, utf16, len & ~UTF16_FLAG);
    }

    private BigInteger readBigInteger(long b) {
        byte[] bytes = new byte[s.getInt(b + LENGTH_OFFSET)];
        s.readBytes(b + BIGINT_DATA_OFFSET, bytes, 0, bytes.length);
        return new BigInteger(bytes);
    }

    // --- hashing and equality -----------------------------------------------------

    /** Clojure's hasheq of the value a slot holds, mostly without decoding it. */
    public int hasheq(int tag, long p) {
        switch (tag) {
            case Tags.NIL: return 0;
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL: return Murmur3.hashLong(p);
            case Tags.KEYWORD: case Tags.SYMBOL: return interner.hash(p);
            case Tags.STRING: case Tags.BIGINT: case Tags.BIGINTEGER: case Tags.BIGDECIMAL:
            case Tags.RATIO: case Tags.UUID: case Tags.INSTANT:
                return s.getInt(p + HASH_OFFSET);
            case Tags.MAP: case Tags.SET:
                return Murmur3.mixCollHash(s.getInt(p + COLL_HASH_OFFSET), (int) s.getLong(p + COLL_COUNT_OFFSET));
            case Tags.VECTOR: case Tags.LIST:
                return s.getInt(p + COLL_HASH_OFFSET);
            default:
                if (Tags.isInlineString(tag)) {
                    int h = 0;
                    for (int i = 0, n = tag - Tags.STR_INLINE; i < n; i++) h = 31 * h + (int) ((p >>> (8 * i)) & 0xFF);
                    return Murmur3.hashInt(h);
                }
                return Util.hasheq(decode(tag, p));
        }
    }

    /** Whether a stored slot equals an on-heap value under Clojure's =; no allocation for scalar keys. */
    public boolean equalsValue(int tag, long p, Object v) { return equalsValue(null, tag, p, v); }

    /**
     * equalsValue for a slot of parent's version: a nested collection is
     * compared through a handle borrowing parent's counts (no count, no Cleaner).
     */
    public boolean equalsValue(Root parent, int tag, long p, Object v) {
        switch (tag) {
            case Tags.NIL: return v == null;
            case Tags.FALSE: return v == Boolean.FALSE || (v instanceof Boolean b && !b);
            case Tags.TRUE: return v == Boolean.TRUE || (v instanceof Boolean b && b);
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL:
                if (v instanceof Long l) return l == p;
                if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue() == p;
                if (v instanceof BigInt bi) return bi.bipart == null && bi.lpart == p;
                if (v instanceof BigInteger bi) return bi.bitLength() < 64 && bi.longValue() == p;
                return false;
            case Tags.KEYWORD: return v instanceof Keyword k && interner.find(k) == p;   // no decoding, no allocation
            case Tags.SYMBOL: return v instanceof Symbol && interner.decode(p).equals(v);
            case Tags.DOUBLE:
                return (v instanceof Double || v instanceof Float) && Double.longBitsToDouble(p) == ((Number) v).doubleValue();
            case Tags.FLOAT:
                return (v instanceof Double || v instanceof Float) && Float.intBitsToFloat((int) p) == ((Number) v).doubleValue();
            case Tags.CHAR: return v instanceof Character c && c == (char) p;
            case Tags.STRING:
                if (!(v instanceof String str)) return false;
                int len = s.getInt(p + LENGTH_OFFSET);
                return (len & ~UTF16_FLAG) == str.length() && Strings.equalsAt(s, p + STRING_DATA_OFFSET, (len & UTF16_FLAG) != 0, str);
            default:
                if (Tags.isInlineString(tag)) return v instanceof String str && Strings.inlineEquals(p, tag - Tags.STR_INLINE, str);
                if (v == null || v instanceof Keyword || v instanceof String || v instanceof Long) return false;
                return Util.equiv(decodeIn(parent, tag, p), v);
        }
    }

    /** Whether two stored slots of this segment hold = values. */
    public boolean equalsSlot(int ta, long pa, int tb, long pb) {
        if (ta == tb && pa == pb) return !(ta == Tags.DOUBLE && Double.isNaN(Double.longBitsToDouble(pa)))
            && !(ta == Tags.FLOAT && Float.isNaN(Float.intBitsToFloat((int) pa)));
        int ca = category(ta), cb = category(tb);
        if (ca != cb) return false;
        if (Tags.isSmallInteger(ta) && Tags.isSmallInteger(tb)) return pa == pb;
        if (ta == Tags.STRING && tb == Tags.STRING) return blobBytesEqual(pa, pb, STRING_DATA_OFFSET,
            byteLength(s.getInt(pa + LENGTH_OFFSET)), byteLength(s.getInt(pb + LENGTH_OFFSET)), true);
        if (ca == CAT_STRING || ca == CAT_KEYWORD || ca == CAT_SYMBOL) return false;   // canonical encodings
        if (Tags.isCollection(ta) && Tags.isCollection(tb)) return collectionsEqual(ta, pa, tb, pb, false);
        Object a = decode(ta, pa), b = decode(tb, pb);
        return Util.equiv(a, b);
    }

    /**
     * Same encoding: = and indistinguishable to a reader, with the same types
     * all the way down (a nested list is not a vector, 1.00M not 1.0M, -0.0
     * not 0.0) and the same metadata on every collection. An assoc of a value
     * with the encoding already there keeps the version.
     */
    public boolean sameEncoding(int ta, long pa, int tb, long pb) {
        if (ta != tb) return false;
        if (pa == pb) return true;
        if (!Tags.isCounted(ta)) return false;          // inline: the payload is the value
        if (ta == Tags.STRING) return equalsSlot(ta, pa, tb, pb);
        if (!Tags.isCollection(ta)) return decode(ta, pa).equals(decode(tb, pb));   // Java equals keeps BigDecimal scale
        return sameMeta(pa, pb) && collectionsEqual(ta, pa, tb, pb, true);
    }

    boolean slotsMatch(int ta, long pa, int tb, long pb, boolean strict) {
        return strict ? sameEncoding(ta, pa, tb, pb) : equalsSlot(ta, pa, tb, pb);
    }

    /**
     * Two collection blocks of this segment in one category (maps, sets, or
     * vectors and lists), compared node against node: no handle is made, and
     * subtrees the two share are equal without a look inside. Clojure's =
     * ignores metadata, so this does too; strict compares encodings instead.
     */
    private boolean collectionsEqual(int ta, long pa, int tb, long pb, boolean strict) {
        long cnt = s.getLong(pa + COLL_COUNT_OFFSET);
        if (cnt != s.getLong(pb + COLL_COUNT_OFFSET)) return false;
        // maps and sets: the entry-hash sum; vectors and lists: hasheq (both stored at encoding)
        if (s.getInt(pa + COLL_HASH_OFFSET) != s.getInt(pb + COLL_HASH_OFFSET)) return false;
        long ra = s.getLong(pa + COLL_ROOT_OFFSET), rb = s.getLong(pb + COLL_ROOT_OFFSET);
        if (ta == Tags.MAP || ta == Tags.SET) {
            if (ta != tb) return false;
            boolean set = ta == Tags.SET;
            return Maps.nodesEqual(this, ra, rb,
                set ? MapNodeDescriptor.SET_ENTRY_LENGTH : MapNodeDescriptor.MAP_ENTRY_LENGTH, set, strict);
        }
        if (strict && ta != tb) return false;
        return VecReads.triesEqual(this, ra, s.getLong(pa + COLL_TAIL_OFFSET), s.getByte(pa + COLL_SHIFT_OFFSET),
            rb, s.getLong(pb + COLL_TAIL_OFFSET), s.getByte(pb + COLL_SHIFT_OFFSET), (int) cnt, strict);
    }

    /** Do two collection blocks carry metadata of the same encoding (or none)? */
    private boolean sameMeta(long collA, long collB) {
        int ta = s.getByte(collA + COLL_META_TAG_OFFSET), tb = s.getByte(collB + COLL_META_TAG_OFFSET);
        if (ta != tb) return false;
        return ta == Tags.NIL || sameEncoding(ta, s.getLong(collA + COLL_META_OFFSET), tb, s.getLong(collB + COLL_META_OFFSET));
    }

    private static int byteLength(int lenField) {
        return (lenField & UTF16_FLAG) != 0 ? (lenField & ~UTF16_FLAG) * 2 : lenField;
    }

    private boolean blobBytesEqual(long a, long b, int dataOffset, long lenA, long lenB, boolean checkHeader) {
        if (lenA != lenB) return false;
        if (checkHeader && s.getInt(a + LENGTH_OFFSET) != s.getInt(b + LENGTH_OFFSET)) return false;
        return s.memory().asSlice(a + dataOffset, lenA).mismatch(s.memory().asSlice(b + dataOffset, lenB)) == -1;
    }

    private static final int CAT_NIL = 0, CAT_BOOL = 1, CAT_INTEGER = 2, CAT_FLOATING = 3, CAT_DECIMAL = 4,
        CAT_RATIO = 5, CAT_CHAR = 6, CAT_DATE = 7, CAT_KEYWORD = 8, CAT_SYMBOL = 9, CAT_STRING = 10,
        CAT_UUID = 11, CAT_INSTANT = 12, CAT_MAP = 13, CAT_SET = 14, CAT_SEQUENTIAL = 15;

    private static int category(int tag) {
        switch (tag) {
            case Tags.NIL: return CAT_NIL;
            case Tags.FALSE: case Tags.TRUE: return CAT_BOOL;
            case Tags.LONG: case Tags.BIGINT_SMALL: case Tags.BIGINTEGER_SMALL: case Tags.BIGINT: case Tags.BIGINTEGER:
                return CAT_INTEGER;
            case Tags.DOUBLE: case Tags.FLOAT: return CAT_FLOATING;
            case Tags.BIGDECIMAL: return CAT_DECIMAL;
            case Tags.RATIO: return CAT_RATIO;
            case Tags.CHAR: return CAT_CHAR;
            case Tags.DATE: return CAT_DATE;
            case Tags.KEYWORD: return CAT_KEYWORD;
            case Tags.SYMBOL: return CAT_SYMBOL;
            case Tags.STRING: return CAT_STRING;
            case Tags.UUID: return CAT_UUID;
            case Tags.INSTANT: return CAT_INSTANT;
            case Tags.MAP: return CAT_MAP;
            case Tags.SET: return CAT_SET;
            case Tags.VECTOR: case Tags.LIST: return CAT_SEQUENTIAL;
            default: return Tags.isInlineString(tag) ? CAT_STRING : -1;
        }
    }

    /** The interned block of a keyword, interning it if needed. */
    public long internKeyword(Keyword k) { return interner.intern(k); }

    /** Finds the interned block of a keyword, 0 if the segment has never stored it (so no map holds it). */
    public long findKeyword(Keyword k) { return interner.find(k); }

    /** Hash of a vector or list version (Clojure's ordered hash). */
    int orderedHash(Root r) { return VecNodes.orderedHash(r); }

    // --- reference counts ------------------------------------------------------------

    public void retainSlot(int tag, long p) {
        if (Tags.isCounted(tag)) alloc.retain(p);
    }

    public void releaseSlot(int tag, long p) {
        if (Tags.isCounted(tag)) releaseRef(p);
    }

    public void retain(long block) {
        if (block != 0) alloc.retain(block);
    }

    /**
     * Drops one count on a block; at zero frees it and drops the counts it
     * holds, with an explicit work list instead of recursion. Does nothing
     * once the segment is closed.
     */
    public void releaseRef(long block) {
        if (block == 0 || s.isClosed()) return;
        try {
            if (!alloc.release(block)) return;
            LongStack work = new LongStack();
            work.push(block);
            while (!work.isEmpty()) reclaim(work.pop(), work);
        } catch (IllegalStateException e) {
            if (!s.isClosed()) throw e;   // a close raced with the release: the memory is gone anyway
        }
    }

    private void reclaim(long b, LongStack work) {
        long header = s.getLong(b);
        switch (AllocatorDescriptor.typeOf(header)) {
            case BlockTypes.BLOB, BlockTypes.RAW -> { }
            case BlockTypes.COLL -> {
                dropInto(s.getLong(b + COLL_ROOT_OFFSET), work);
                dropInto(s.getLong(b + COLL_TAIL_OFFSET), work);
                int metaTag = s.getByte(b + COLL_META_TAG_OFFSET);
                if (Tags.isCounted(metaTag)) dropInto(s.getLong(b + COLL_META_OFFSET), work);
            }
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION ->
                MapNodes.dropChildren(this, b, work);
            case BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF -> VecNodes.dropChildren(this, b, work);
            case BlockTypes.BOX -> dropSlotInto(s.getByte(b + BOX_TAG_OFFSET), s.getLong(b + BOX_PAYLOAD_OFFSET), work);
            case BlockTypes.CELL -> dropInto(s.getLongVolatile(b + CELL_WORD_OFFSET), work);
            default -> throw new IllegalStateException("slab: reference count of a block of type "
                + AllocatorDescriptor.typeOf(header) + " reached zero at offset " + b);
        }
        alloc.free(b);
    }

    /**
     * Pushes every reference block b holds (child nodes, counted slots) onto
     * out, whatever the counts: the sweep's view of the reference graph.
     */
    public void pushRefs(long b, LongStack out) {
        switch (alloc.typeOf(b)) {
            case BlockTypes.COLL -> {
                pushNonZero(s.getLong(b + COLL_ROOT_OFFSET), out);
                pushNonZero(s.getLong(b + COLL_TAIL_OFFSET), out);
                int metaTag = s.getByte(b + COLL_META_TAG_OFFSET);
                if (Tags.isCounted(metaTag)) pushNonZero(s.getLong(b + COLL_META_OFFSET), out);
            }
            case BlockTypes.MAP_NODE, BlockTypes.MAP_COLLISION, BlockTypes.SET_NODE, BlockTypes.SET_COLLISION ->
                MapNodes.pushRefs(this, b, out);
            case BlockTypes.VEC_BRANCH, BlockTypes.VEC_LEAF -> VecNodes.pushRefs(this, b, out);
            case BlockTypes.BOX -> {
                if (Tags.isCounted(s.getByte(b + BOX_TAG_OFFSET))) pushNonZero(s.getLong(b + BOX_PAYLOAD_OFFSET), out);
            }
            case BlockTypes.CELL -> pushNonZero(s.getLongVolatile(b + CELL_WORD_OFFSET), out);
            default -> { }
        }
    }

    private static void pushNonZero(long b, LongStack out) {
        if (b != 0) out.push(b);
    }

    /** Drops one count on block; when that was the last, queues it for reclaiming. */
    void dropInto(long block, LongStack work) {
        if (block != 0 && alloc.release(block)) work.push(block);
    }

    void dropSlotInto(int tag, long p, LongStack work) {
        if (Tags.isCounted(tag)) dropInto(p, work);
    }
}
