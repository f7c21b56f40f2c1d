package slab.mem;

import static slab.mem.HeaderDescriptor.*;
import static slab.mem.LockDescriptor.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import slab.Errors;

/**
 * A memory segment holding slab data: a file mapped once per process into a
 * long-lived shared arena. Everything inside refers to everything else by
 * offset from the segment base, so any process may map it anywhere.
 *
 * <p>An anonymous segment is backed by a sparse file that is unlinked right
 * after mapping: its capacity reserves address space only. A named segment is
 * a file that other processes map too. Either way backing store is committed
 * (zeros written to the file) ahead of the allocator's frontier, so a full
 * disk or tmpfs surfaces as a "segment full" error, never as SIGBUS.
 *
 * <p>Accessors take absolute offsets. Plain reads and writes suit published
 * (immutable) nodes; the atomic ones use VarHandles held in static finals.
 */
public final class Segment implements AutoCloseable {
    private static final ValueLayout.OfLong LONG_LAYOUT = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT_LAYOUT = ValueLayout.JAVA_INT;
    private static final VarHandle LONG = LONG_LAYOUT.varHandle();
    private static final VarHandle INT = INT_LAYOUT.varHandle();

    /** The default segment's capacity: -Dslab.capacity (e.g. 32g), else 8 GiB of address space. */
    public static long defaultCapacity() {
        String prop = System.getProperty("slab.capacity");
        try {
            return parseSize(prop, 8L << 30);
        } catch (NumberFormatException e) {
            throw Errors.info("bad-argument", "-Dslab.capacity=" + prop + " is not a size; use e.g. "
                + "-Dslab.capacity=32g (k, m, g and t suffixes are understood).", "slab.capacity", prop);
        }
    }
    public static final int DEFAULT_MAP_BITS = 5;
    public static final int DEFAULT_VEC_BITS = 5;
    public static final long MIN_CAPACITY = 1L << 20;

    /** Open named segments by file identity (device and inode), so every path to one file gives one segment. */
    private static final Map<Object, Segment> OPEN = new HashMap<>();
    /**
     * Files whose segment is between markClosed and closeFinished (guarded by
     * OPEN): an open of one waits, so the close's own work through a private
     * mapping (giving back counts, abandoning this process's spans) never
     * meets a new mapping of the same file in this process.
     */
    private static final java.util.Set<Object> CLOSING = new java.util.HashSet<>();
    private static final AtomicLong ANON_COUNTER = new AtomicLong();

    private final MemorySegment ms;
    /** The mapping's length: the capacity, or for a snapshot opened read-only the file's, which ends at its frontier. */
    private final long mappedEnd;
    private final Arena arena;
    /** Commits go through RandomAccessFile, whose writes an interrupt cannot abort (see zeroFill). */
    private final RandomAccessFile file;
    private final Path path;            // null for an anonymous segment
    private final long capacity;
    private final int mapBits;
    private final int vecBits;
    private final Allocator allocator;
    /** Where blocks may start: the heap's first byte (see HeaderDescriptor.heapBase). */
    private final long heapBase;
    /**
     * The frontier as this process last read it. It only grows, so a block
     * below it is below the frontier now; a check that fails against it
     * reads the header word again before calling the offset damaged.
     */
    private long frontierSeen;
    private volatile boolean closed;
    /** Mapped READ_ONLY (open-segment :read-only): nothing is ever written, so nothing in it is ever freed. */
    private final boolean readOnly;
    /** A snapshot file (it ends in a {@link SnapshotDescriptor} trailer whose checksum matched when it was opened). */
    private final boolean snapshot;
    /**
     * Opened with {verify :on-read}: every read checks the seal of each block
     * it follows before using it (see slab.mem.Seals). A final field, read
     * once per block on the read paths, so the default costs one predictable
     * branch.
     */
    public final boolean verifyOnRead;
    private volatile Object extension;
    /** The file's identity when it was opened (see fileIdentity); null for an anonymous segment. */
    private volatile Object identity;

    private Segment(MemorySegment ms, Arena arena, RandomAccessFile file, Path path) {
        this(ms, arena, file, path, false, false, false);
    }

    private Segment(MemorySegment ms, Arena arena, RandomAccessFile file, Path path, boolean readOnly, boolean snapshot,
                    boolean verifyOnRead) {
        this.ms = ms;
        this.mappedEnd = ms.byteSize();
        this.verifyOnRead = verifyOnRead;
        this.arena = arena;
        this.file = file;
        this.path = path;
        this.readOnly = readOnly;
        this.snapshot = snapshot;
        // The header's, not the mapping's: a snapshot opened read-only maps only the file, which ends at its frontier.
        this.capacity = ms.get(LONG_LAYOUT, CAPACITY_OFFSET);
        this.mapBits = ms.get(INT_LAYOUT, MAP_BITS_OFFSET);
        this.vecBits = ms.get(INT_LAYOUT, VEC_BITS_OFFSET);
        this.allocator = new Allocator(this);
        this.heapBase = heapBase(capacity);
        this.frontierSeen = ms.get(LONG_LAYOUT, FRONTIER_OFFSET);
        this.editFloor = readOnly ? Long.MAX_VALUE : Math.max(1, ms.get(LONG_LAYOUT, NEXT_EDIT_OFFSET));
    }

    /**
     * The first transient edit id this mapping can have handed out: the
     * header's next-edit word when it was mapped (no id for a read-only
     * mapping). A read meets an unsealed node only inside a transient of this
     * process, so a read accepts an unsealed node only with an id from here
     * up to next-edit; any other is a forged or damaged seal.
     */
    public final long editFloor;

    /** May a read of this mapping meet an unsealed node carrying edit id? (See editFloor.) */
    public boolean ownTransientEdit(long edit) {
        return edit >= editFloor && edit < getLongVolatile(NEXT_EDIT_OFFSET);
    }

    // --- opening and closing -------------------------------------------------

    /** A new anonymous segment; see {@link #anonymousDirectory()} for where its file lives. */
    public static Segment anonymous(long capacity, int mapBits, int vecBits) {
        checkParams(capacity, mapBits, vecBits);
        Path dir = anonymousDirectory();
        Path file = dir.resolve("slab-" + ProcessHandle.current().pid() + "-" + ANON_COUNTER.incrementAndGet() + ".anon");
        RandomAccessFile raf = null;
        try {
            Files.createFile(file);
            try {
                raf = new RandomAccessFile(file.toFile(), "rw");
                return initialize(raf, null, capacity, mapBits, vecBits, false);
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            closeQuietly(raf);
            throw Errors.info("io", "Could not create an anonymous segment in " + dir + ": " + e.getMessage()
                + ". Set -Dslab.dir to a writable directory.", e, "path", file.toString());
        } catch (RuntimeException e) {
            closeQuietly(raf);
            throw e;
        }
    }

    /** /dev/shm when it is a writable directory (memory-backed), else java.io.tmpdir; -Dslab.dir overrides. */
    public static Path anonymousDirectory() {
        String dir = System.getProperty("slab.dir");
        if (dir != null) return Path.of(dir);
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) return shm;
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * Maps the segment file at {@code file}, creating it with the given
     * capacity and branching if it does not exist or is empty. Opening a file
     * that is already open in this process, by this path or any other (a
     * symlink, a hard link, a relative path), returns the same segment.
     */
    public static Segment open(Path file, long capacity, int mapBits, int vecBits) {
        return open(file, capacity, mapBits, vecBits, false);
    }

    /** As {@link #open(Path, long, int, int)}, with every read checking seals when verifyOnRead is set. */
    public static Segment open(Path file, long capacity, int mapBits, int vecBits, boolean verifyOnRead) {
        checkParams(capacity, mapBits, vecBits);
        synchronized (OPEN) {
            Path key = file.toAbsolutePath().normalize();
            RandomAccessFile raf = null;
            try {
                Segment open = Files.exists(key) ? alreadyOpen(key, false) : null;
                if (open != null) return sameVerify(open, verifyOnRead);
                raf = new RandomAccessFile(key.toFile(), "rw");   // creates the file if missing
                Object id = fileIdentity(key);
                awaitClose(id);
                Segment s = OPEN.get(id);
                if (s != null && !s.closed) {
                    raf.close();
                    if (s.readOnly) throw inUse(key, " for writing", "this process has it open read-only (close that first)");
                    return sameVerify(s, verifyOnRead);
                }
                // The lock orders creation against every other process's open.
                FileLock lock = raf.getChannel().lock(FILE_LOCK_OFFSET, FILE_LOCK_LENGTH, false);
                try {
                    refuseReadOnlyOpeners(raf.getChannel(), key);
                    s = raf.length() == 0
                        ? initialize(raf, key, capacity, mapBits, vecBits, verifyOnRead)
                        : validateAndMap(raf, key, false, verifyOnRead);
                } finally {
                    lock.release();
                }
                s.identity = id;
                OPEN.put(id, s);
                s.allocator.watchPressure();
                return s;
            } catch (IOException e) {
                closeQuietly(raf);
                throw Errors.info("io", "Could not open segment file " + key + ": " + e.getMessage(), e,
                    "path", key.toString());
            } catch (RuntimeException e) {
                closeQuietly(raf);
                throw e;
            }
        }
    }

    /**
     * Maps the segment file at {@code file} READ_ONLY (it may be a 0444 file
     * on a read-only file system): the header is validated, and a snapshot's
     * whole-file checksum checked, before any offset in it is trusted.
     * {@code admit} runs under a shared lock on the file (so no process
     * attaches meanwhile) and may refuse the file by throwing. Opening a file
     * this process has open read-only already returns that segment; one it
     * has open for writing is refused.
     */
    public static Segment openReadOnly(Path file, java.util.function.Consumer<Segment> admit) {
        return openReadOnly(file, admit, false);
    }

    /** As {@link #openReadOnly(Path, java.util.function.Consumer)}, with every read checking seals when verifyOnRead is set. */
    public static Segment openReadOnly(Path file, java.util.function.Consumer<Segment> admit, boolean verifyOnRead) {
        synchronized (OPEN) {
            Path key = file.toAbsolutePath().normalize();
            RandomAccessFile raf = null;
            try {
                Segment open = alreadyOpen(key, true);
                if (open != null) return sameVerify(open, verifyOnRead);
                raf = new RandomAccessFile(key.toFile(), "r");
                Object id = fileIdentity(key);
                awaitClose(id);
                Segment s = OPEN.get(id);
                if (s != null && !s.closed) {
                    raf.close();
                    if (!s.readOnly)
                        throw inUse(key, " read-only",
                            "this process has it open for writing; read its roots there, or close it first");
                    return sameVerify(s, verifyOnRead);
                }
                FileLock lock = raf.getChannel().lock(FILE_LOCK_OFFSET, FILE_LOCK_LENGTH, true);
                try {
                    s = validateAndMap(raf, key, true, verifyOnRead);
                    try {
                        admit.accept(s);
                        // Held until the file is closed (unmap closes raf): a writer that comes later is refused.
                        raf.getChannel().lock(READ_ONLY_LOCK_OFFSET, READ_ONLY_LOCK_LENGTH, true);
                    } catch (RuntimeException | IOException e) {
                        s.arena.close();
                        throw e;
                    }
                } finally {
                    lock.release();
                }
                s.identity = id;
                OPEN.put(id, s);
                return s;
            } catch (IOException e) {
                closeQuietly(raf);
                throw Errors.info("io", "Could not open segment file " + key + " read-only: " + e.getMessage(), e,
                    "path", key.toString());
            } catch (RuntimeException e) {
                closeQuietly(raf);
                throw e;
            }
        }
    }

    /**
     * The segment this process has open for path p already (refused if it is
     * open the other way), found before any descriptor of the file is opened:
     * closing one would drop this process's fcntl locks on the file, the
     * read-only lock among them. Null if it is not open here.
     */
    private static Segment alreadyOpen(Path p, boolean readOnly) throws IOException {
        Object id = fileIdentity(p);
        awaitClose(id);
        Segment s = OPEN.get(id);
        if (s == null || s.closed) return null;
        if (s.readOnly == readOnly) return s;
        throw readOnly ? inUse(p, " read-only", "this process has it open for writing; read its roots there, or close it first")
                       : inUse(p, " for writing", "this process has it open read-only (close that first)");
    }

    /**
     * Refuses the file (segment-in-use) while a process holds it open
     * read-only: such a process reads without counts, so nothing may change
     * the file under it. Called holding the file lock, which read-only
     * openers take (shared) before their read-only lock.
     */
    private static void refuseReadOnlyOpeners(FileChannel ch, Path p) throws IOException {
        FileLock probe;
        try {
            probe = ch.tryLock(READ_ONLY_LOCK_OFFSET, READ_ONLY_LOCK_LENGTH, false);
        } catch (java.nio.channels.OverlappingFileLockException e) {
            probe = null;   // this process holds it: open read-only here, being closed
        }
        if (probe == null)
            throw inUse(p, " for writing", "another process has it open read-only and reads it without counts "
                + "(close it there first)");
        probe.release();
    }

    /** refuseReadOnlyOpeners for an open segment, called inside {@link #withFileLock}. */
    public void refuseReadOnlyOpeners() {
        if (lockChannel == null) return;   // anonymous, or nested inside another locked step
        try {
            refuseReadOnlyOpeners(lockChannel, path);
        } catch (IOException e) {
            throw Errors.info("io", "Could not lock segment file " + path + ": " + e.getMessage(), e, "path", path.toString());
        }
    }

    /** s, already open, if it was opened with the same read checks; one segment has one setting. */
    private static Segment sameVerify(Segment s, boolean verifyOnRead) {
        if (s.verifyOnRead != verifyOnRead)
            throw Errors.info("bad-argument", "Segment " + s.path + " is open in this process " + (s.verifyOnRead ? "with" : "without")
                + " {:verify :on-read} already; close it before opening it " + (verifyOnRead ? "with" : "without") + " it.",
                "argument", clojure.lang.Keyword.intern("verify"), "value", verifyOnRead ? clojure.lang.Keyword.intern("on-read") : null);
        return s;
    }

    private static RuntimeException inUse(Path p, String how, String why) {
        return Errors.info("segment-in-use", "Cannot open " + p + how + ": " + why + ".", "path", p.toString());
    }

    /** The file's device and inode (its fileKey), or its real path where the file system has no key. */
    private static Object fileIdentity(Path p) throws IOException {
        Object key = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        return key != null ? key : p.toRealPath();
    }

    private static Segment initialize(RandomAccessFile raf, Path path, long capacity, int mapBits, int vecBits,
                                      boolean verifyOnRead) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
            throw Errors.info("unsupported-platform", "slab segments are little-endian; this CPU is not.");
        FileChannel ch = raf.getChannel();
        ch.write(ByteBuffer.allocate(1), capacity - 1);   // sparse: sets the size, commits one page
        long base = heapBase(capacity);
        if (zeroFill(raf, 0, base) < base)   // commit the header and page table before touching them
            throw new IOException("no space left for the segment header");
        Arena arena = Arena.ofShared();
        MemorySegment ms = ch.map(FileChannel.MapMode.READ_WRITE, 0, capacity, arena);
        ms.set(INT_LAYOUT, VERSION_OFFSET, FORMAT_VERSION);
        ms.set(INT_LAYOUT, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        ms.set(LONG_LAYOUT, CAPACITY_OFFSET, capacity);
        ms.set(INT_LAYOUT, MAP_BITS_OFFSET, mapBits);
        ms.set(INT_LAYOUT, VEC_BITS_OFFSET, vecBits);
        ms.set(INT_LAYOUT, CLASS_COUNT_OFFSET, SizeClasses.COUNT);
        ms.set(INT_LAYOUT, PAGE_SIZE_OFFSET, PAGE_SIZE);
        ms.set(LONG_LAYOUT, CREATED_OFFSET, System.currentTimeMillis());
        ms.set(LONG_LAYOUT, FRONTIER_OFFSET, base);
        ms.set(LONG_LAYOUT, COMMIT_CLAIM_OFFSET, base);
        ms.set(LONG_LAYOUT, COMMITTED_OFFSET, base);
        ms.set(LONG_LAYOUT, NEXT_EDIT_OFFSET, 1L);
        Segment s = new Segment(ms, arena, raf, path, false, false, verifyOnRead);
        ms.set(LONG_LAYOUT, CHECKSUM_OFFSET, checksum(i ->
            i >= MAGIC_OFFSET && i < MAGIC_OFFSET + 8 ? magicByte(i - MAGIC_OFFSET) : s.getByte(i)));
        // The magic goes last: a file without it was never finished and is refused.
        LONG.setRelease(ms, (long) MAGIC_OFFSET, MAGIC);
        if (path != null) ms.force();
        return s;
    }

    /**
     * Validates the file's header and maps it. A snapshot (a file ending in a
     * trailer) has its whole-file checksum checked first; read-only, only the
     * file is mapped (it ends at the snapshot's frontier); for writing, the
     * file is extended to its capacity and becomes an ordinary segment (the
     * allocator commits past the frontier by writing zeros, over the trailer).
     */
    private static Segment validateAndMap(RandomAccessFile raf, Path path, boolean readOnly, boolean verifyOnRead)
            throws IOException {
        FileChannel ch = raf.getChannel();
        long size = ch.size();
        String where = path.toString();
        if (size < FIXED_LENGTH + 8)
            throw corrupt(where, "the file is " + size + " bytes, too small to be a slab segment");
        long covered = snapshotCovered(ch, size, where);
        ByteBuffer hdr = ByteBuffer.allocate(FIXED_LENGTH + 8).order(ByteOrder.LITTLE_ENDIAN);
        while (hdr.hasRemaining() && ch.read(hdr, hdr.position()) >= 0) { }
        if (hdr.getLong(MAGIC_OFFSET) != MAGIC)
            throw corrupt(where, "it is not a slab segment (wrong magic number)");
        int version = hdr.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION)
            throw Errors.info("wrong-version", "Segment file " + where + " has format version " + version
                + " but this slab reads version " + FORMAT_VERSION + ". Open it with a matching slab release.",
                "path", where, "version", (long) version, "expected", (long) FORMAT_VERSION);
        if (checksum(hdr::get) != hdr.getLong(CHECKSUM_OFFSET))
            throw corrupt(where, "its header checksum does not match (the header is damaged)");
        long capacity = hdr.getLong(CAPACITY_OFFSET);
        if (capacity < MIN_CAPACITY || capacity > SizeClasses.MAX_BLOCK || capacity % PAGE_SIZE != 0)
            throw corrupt(where, "its capacity " + capacity + " is not a valid segment capacity");
        if (hdr.getInt(HEADER_LENGTH_OFFSET) != HEADER_LENGTH || hdr.getInt(PAGE_SIZE_OFFSET) != PAGE_SIZE
                || hdr.getInt(CLASS_COUNT_OFFSET) != SizeClasses.COUNT)
            throw corrupt(where, "its layout (header length, page size or size classes) differs from this slab's");
        if (covered >= 0) {
            if (covered > capacity) throw damaged(where, "its snapshot trailer lies beyond its capacity " + capacity);
        } else if (capacity != size) {
            // Read-only, the likeliest cause is a snapshot whose trailer was damaged; either way it is damage.
            if (readOnly) throw damaged(where, "the header says " + capacity + " bytes but the file has " + size
                + " (truncated, extended, or a snapshot whose trailer is damaged)");
            throw corrupt(where, "the header says " + capacity + " bytes but the file has " + size
                + " (truncated or extended)");
        }
        int mb = hdr.getInt(MAP_BITS_OFFSET), vb = hdr.getInt(VEC_BITS_OFFSET);
        if (mb < 1 || mb > 5 || vb < 1 || vb > 5)
            throw corrupt(where, "its branching settings are out of range");
        if (covered >= 0 && !readOnly) raf.setLength(capacity);   // a snapshot becomes an ordinary segment
        Arena arena = Arena.ofShared();
        MemorySegment ms = readOnly ? ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena)
                                    : ch.map(FileChannel.MapMode.READ_WRITE, 0, capacity, arena);
        long frontier = ms.get(LONG_LAYOUT, FRONTIER_OFFSET);
        long committed = ms.get(LONG_LAYOUT, COMMITTED_OFFSET);
        long base = heapBase(capacity);
        if (frontier < base || frontier > committed || committed > capacity
                || ((frontier - base) & (AllocatorDescriptor.PAGE_LENGTH - 1)) != 0
                || (covered >= 0 && frontier > covered)) {
            arena.close();
            throw corrupt(where, "its allocator state is inconsistent (frontier " + frontier
                + ", committed " + committed + ")");
        }
        // Outside the header checksum, and a transient takes nodes carrying its id for its own: an id a
        // sealed word could equal (bit 63) or past what node words hold would let it edit published nodes.
        long nextEdit = ms.get(LONG_LAYOUT, NEXT_EDIT_OFFSET);
        if (nextEdit < 1 || nextEdit > (1L << 47)) {
            arena.close();
            throw damaged(where, "its next transient edit id " + nextEdit + " is outside 1 .. 2^47");
        }
        return new Segment(ms, arena, raf, path, readOnly, covered >= 0 && readOnly, verifyOnRead);
    }

    /**
     * Where a snapshot file's trailer starts (its frontier), after checking
     * its whole-file checksum; -1 if the file does not end in a trailer (an
     * ordinary segment). A mismatch is damage: nothing in the file is used.
     */
    private static long snapshotCovered(FileChannel ch, long size, String where) throws IOException {
        if (size < FIXED_LENGTH + SnapshotDescriptor.TRAILER_LENGTH) return -1;
        ByteBuffer t = ByteBuffer.allocate(SnapshotDescriptor.TRAILER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        long at = size - SnapshotDescriptor.TRAILER_LENGTH;
        while (t.hasRemaining() && ch.read(t, at + t.position()) >= 0) { }
        if (t.getLong(SnapshotDescriptor.TRAILER_MAGIC_OFFSET) != SnapshotDescriptor.TRAILER_MAGIC) return -1;
        long covered = t.getLong(SnapshotDescriptor.TRAILER_COVERED_OFFSET);
        if (covered != at)
            throw damaged(where, "its snapshot trailer says " + covered + " bytes precede it, but " + at + " do");
        long stored = t.getLong(SnapshotDescriptor.TRAILER_CHECKSUM_OFFSET);
        long computed;
        try (Arena a = Arena.ofConfined()) {
            computed = SnapshotDescriptor.checksum(ch.map(FileChannel.MapMode.READ_ONLY, 0, size, a),
                SnapshotDescriptor.checkedLength(covered));
        }
        if (computed != stored)
            throw Errors.info("damaged-segment", "Refusing to open " + where + ": its whole-file checksum does not "
                + "match (the snapshot was changed or damaged after it was written). Restore it from a good copy.",
                "path", where, "expected", stored, "found", computed);
        return covered;
    }

    private static RuntimeException damaged(String where, String why) {
        return Errors.info("damaged-segment", "Refusing to open " + where + ": " + why
            + ". Restore it from a good copy.", "path", where);
    }

    private static RuntimeException corrupt(String where, String why) {
        return Errors.info("bad-segment-file", "Refusing to open " + where + ": " + why
            + ". Check the path, or delete the file to start a new segment.", "path", where);
    }

    private static void checkParams(long capacity, int mapBits, int vecBits) {
        if (capacity < MIN_CAPACITY || capacity > SizeClasses.MAX_BLOCK || capacity % PAGE_SIZE != 0)
            throw Errors.info("bad-argument", "Segment capacity must be a multiple of 4096 between 1 MiB and 1 TiB, got "
                + capacity, "capacity", capacity);
        if (mapBits < 1 || mapBits > 5 || vecBits < 1 || vecBits > 5)
            throw Errors.info("bad-argument", "Branching bits must be between 1 and 5", "map-bits", (long) mapBits,
                "vec-bits", (long) vecBits);
    }

    /** Unmaps the segment. Every later access, in any thread, throws instead of touching memory. */
    @Override
    public void close() {
        if (!markClosed()) return;
        try {
            unmap();
        } finally {
            closeFinished();
        }
    }

    /**
     * The first step of a close: from here on every operation that starts
     * throws the closed error, and reopening the file maps it anew. Returns
     * false if the segment was closed already.
     */
    public boolean markClosed() {
        synchronized (OPEN) {
            if (closed) return false;
            closed = true;
            if (path != null) OPEN.values().remove(this);
            if (identity != null) CLOSING.add(identity);
            return true;
        }
    }

    /** The last step of a close: an open of the same file may map it again. */
    public void closeFinished() {
        synchronized (OPEN) {
            if (identity != null && CLOSING.remove(identity)) OPEN.notifyAll();
        }
    }

    /** Waits (holding OPEN's monitor, which wait gives up) until no close of file id is under way. */
    private static void awaitClose(Object id) {
        boolean interrupted = false;
        while (CLOSING.contains(id)) {
            try {
                OPEN.wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Unmaps (after markClosed). FFM's shared arena makes this safe against
     * reads in flight in other threads: each access that has not happened yet
     * throws, and is reported as the closed error.
     */
    public void unmap() {
        arena.close();
        closeQuietly(file);
    }

    /**
     * A second mapping of this segment's file, private to the caller: not
     * registered as open, confined to the calling thread. What a close does
     * after unmapping (giving this process's counts back) goes through it,
     * so no reader of the closed segment can ever see those blocks freed.
     * Null for an anonymous segment, or when the file can no longer be mapped
     * whole (truncated, deleted).
     */
    public Segment mapPrivately() {
        if (path == null || identity == null || truncated() || !sameFile()) return null;
        try {
            RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw");
            try {
                if (raf.length() != capacity) {
                    raf.close();
                    return null;
                }
                if (!sameFile()) {   // replaced while we opened it
                    raf.close();
                    return null;
                }
                Arena a = Arena.ofConfined();
                MemorySegment m = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, capacity, a);
                return new Segment(m, a, raf, path);
            } catch (IOException | RuntimeException e) {
                closeQuietly(raf);
                return null;
            }
        } catch (IOException e) {
            return null;
        }
    }

    public boolean isClosed() { return closed; }

    private final java.util.concurrent.locks.ReentrantLock exclusive = new java.util.concurrent.locks.ReentrantLock();
    /** The channel withFileLock holds the file lock on, while it does (guarded by exclusive). */
    private FileChannel lockChannel;

    /**
     * Runs body holding this segment's file lock (and a JVM lock, since file
     * locks are per process), so no other process attaches or sweeps
     * meanwhile. The lock is taken on a channel of its own: an interrupt
     * closes only that channel, never the one commits write through.
     */
    public <T> T withFileLock(java.util.function.Supplier<T> body) {
        exclusive.lock();
        try {
            // nested: this thread holds the file lock already (a second lock would overlap)
            if (path == null || exclusive.getHoldCount() > 1) return body.get();
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                FileLock lock = ch.lock(FILE_LOCK_OFFSET, FILE_LOCK_LENGTH, false);
                lockChannel = ch;
                try {
                    return body.get();
                } finally {
                    lockChannel = null;
                    lock.release();
                }
            } catch (IOException e) {
                throw Errors.info("io", "Could not lock segment file " + path + ": " + e.getMessage(), e,
                    "path", path.toString());
            }
        } finally {
            exclusive.unlock();
        }
    }

    /**
     * The one per-segment object a higher layer keeps here (slab.ref.Heap), made
     * by {@code make} on first use; lets the layers above attach state
     * without this layer knowing their types.
     */
    @SuppressWarnings("unchecked")
    public <T> T extension(java.util.function.Function<Segment, T> make) {
        Object e = extension;
        if (e == null) {
            synchronized (this) {
                e = extension;
                if (e == null) extension = e = make.apply(this);
            }
        }
        return (T) e;
    }

    /** Throws the clear closed-segment error if this segment has been closed. */
    public void checkOpen() {
        if (closed) throw closedError();
    }

    public RuntimeException closedError() {
        return new IllegalStateException("The slab segment " + describe()
            + " is closed; values that live in it can no longer be read. "
            + (path == null ? "An anonymous segment cannot be reopened (after the default segment is closed, new "
               + "collections go to a fresh one)." : "Reopen it with slab/open-segment."));
    }

    public String describe() { return path == null ? "(anonymous)" : path.toString(); }

    private static void closeQuietly(RandomAccessFile f) {
        if (f != null) try { f.close(); } catch (IOException ignored) { }
    }

    // --- backing store --------------------------------------------------------

    private static final byte[] ZEROS = new byte[64 * 1024];

    /**
     * Writes zeros over [from, to) and returns how far it got: {@code to}, or
     * less (in whole 64 KiB steps) when the disk or tmpfs is full. It writes
     * through RandomAccessFile because an interrupt cannot abort those writes;
     * a FileChannel that is interrupted mid-write closes itself, which would
     * end committing for every thread of the process.
     */
    static long zeroFill(RandomAccessFile f, long from, long to) {
        long pos = from;
        try {
            synchronized (f) {
                while (pos < to) {
                    int n = (int) Math.min(ZEROS.length, to - pos);
                    f.seek(pos);
                    f.write(ZEROS, 0, n);
                    pos += n;
                }
            }
        } catch (IOException e) {
            // out of space (or closed): the caller uses what was committed
        }
        return pos;
    }

    /**
     * Writes zeros over [from, to) of a range no block lives in yet; returns
     * how far it got, which is less than {@code to} when the disk is full.
     */
    long commit(long from, long to) { return zeroFill(file, from, to); }

    /** Forces the mapped pages to the file (no-op meaning for an anonymous segment). */
    public void force() {
        checkOpen();
        checkWritable();
        ms.force();
    }

    // --- accessors ------------------------------------------------------------

    public long capacity() { return capacity; }
    public int mapBits() { return mapBits; }
    public int vecBits() { return vecBits; }
    public Allocator allocator() { return allocator; }
    public Path path() { return path; }
    /** The raw segment, for bulk copies by the layers above. */
    public MemorySegment memory() { return ms; }

    // Every access translates a fault into slab's error: a segment closed under a
    // reader (FFM refuses the access) or a file truncated under it (SIGBUS).
    public byte getByte(long off) { try { return ms.get(ValueLayout.JAVA_BYTE, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public void putByte(long off, byte v) { try { ms.set(ValueLayout.JAVA_BYTE, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public short getShort(long off) { try { return ms.get(ValueLayout.JAVA_SHORT, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public void putShort(long off, short v) { try { ms.set(ValueLayout.JAVA_SHORT, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public int getInt(long off) { try { return ms.get(INT_LAYOUT, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public void putInt(long off, int v) { try { ms.set(INT_LAYOUT, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public long getLong(long off) { try { return ms.get(LONG_LAYOUT, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public void putLong(long off, long v) { try { ms.set(LONG_LAYOUT, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }

    public long getLongVolatile(long off) { try { return (long) LONG.getVolatile(ms, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public long getLongAcquire(long off) { try { return (long) LONG.getAcquire(ms, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public void putLongVolatile(long off, long v) { try { LONG.setVolatile(ms, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public void putLongRelease(long off, long v) { try { LONG.setRelease(ms, off, v); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public boolean casLong(long off, long expect, long update) {
        try { return LONG.compareAndSet(ms, off, expect, update); } catch (RuntimeException | InternalError e) { throw writeFault(e); }
    }
    public long getAndAddLong(long off, long delta) { try { return (long) LONG.getAndAdd(ms, off, delta); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }
    public int getIntVolatile(long off) { try { return (int) INT.getVolatile(ms, off); } catch (RuntimeException | InternalError e) { throw fault(e); } }
    public boolean casInt(long off, int expect, int update) { try { return INT.compareAndSet(ms, off, expect, update); } catch (RuntimeException | InternalError e) { throw writeFault(e); } }

    /** Copies len bytes within the segment; overlapping ranges are handled. */
    public void copy(long from, long to, long len) {
        try { MemorySegment.copy(ms, from, ms, to, len); } catch (RuntimeException | InternalError e) { throw writeFault(e); }
    }
    public void fill(long off, long len, byte v) {
        try { ms.asSlice(off, len).fill(v); } catch (RuntimeException | InternalError e) { throw writeFault(e); }
    }
    /** Reads len longs from off (8-aligned) into dst: one bounds check for the run. */
    public void readLongs(long off, long[] dst, int len) {
        try { MemorySegment.copy(ms, LONG_LAYOUT, off, dst, 0, len); }
        catch (RuntimeException | InternalError e) { throw fault(e); }
    }
    public void readBytes(long off, byte[] dst, int dstOff, int len) {
        try { MemorySegment.copy(ms, ValueLayout.JAVA_BYTE, off, dst, dstOff, len); }
        catch (RuntimeException | InternalError e) { throw fault(e); }
    }
    public void writeBytes(long off, byte[] src, int srcOff, int len) {
        try { MemorySegment.copy(src, srcOff, ms, ValueLayout.JAVA_BYTE, off, len); }
        catch (RuntimeException | InternalError e) { throw writeFault(e); }
    }

    /**
     * What a failed access means: the segment was closed (FFM refused the
     * access, possibly in the middle of a read that began before the close),
     * or the file was truncated under the mapping (the JVM turns the SIGBUS
     * into an InternalError). Anything else is passed on as it is.
     */
    public RuntimeException fault(Throwable e) {
        if (closed) return closedError();
        if (readOnly && e instanceof IndexOutOfBoundsException)   // past the end of a snapshot's file
            return Errors.info("damaged-segment", "Segment " + describe() + " is damaged: an offset in it lies past "
                + "the end of its file (" + ms.byteSize() + " bytes).", "path", describe());
        if (e instanceof InternalError ie) {
            if (truncated()) return truncatedError();
            throw ie;
        }
        // FFM refused an offset outside the segment, or a misaligned atomic access: slab
        // never makes one of its own, so the offset came from damaged bytes. (The read
        // paths check what they follow first; this catches what a light check lets by.)
        if (e instanceof IndexOutOfBoundsException || e instanceof IllegalArgumentException)
            return Damage.at(this, 0, "offsets inside the segment and aligned (" + e.getMessage() + ")");
        return (RuntimeException) e;
    }

    /** fault, for a write: on a read-only mapping, the read-only error (FFM refused the write). */
    private RuntimeException writeFault(Throwable e) {
        if (readOnly && !closed) return readOnlyError();
        return fault(e);
    }

    /** Mapped read-only (open-segment :read-only): every write API throws {@link #readOnlyError}. */
    public boolean isReadOnly() { return readOnly; }

    /** A snapshot file, whose whole-file checksum matched when it was opened. */
    public boolean isSnapshot() { return snapshot; }

    /** Throws the clear read-only error if this segment was opened read-only. */
    public void checkWritable() {
        if (readOnly) throw readOnlyError();
    }

    public RuntimeException readOnlyError() {
        return Errors.info("read-only", "Segment " + describe() + " was opened read-only: its values can be read, "
            + "but nothing can be written to it (no new values, roots, swaps, transients, recovery or flush). "
            + "Open it without :read-only to change it.", "path", describe());
    }

    /** Is the file at path still the one this segment mapped (not deleted and re-created)? */
    private boolean sameFile() {
        try {
            return identity.equals(fileIdentity(path));
        } catch (IOException e) {
            return false;
        }
    }

    /** Is the file shorter than the mapping (someone truncated it under us)? */
    public boolean truncated() {
        if (path == null) return false;
        try {
            return Files.size(path) < ms.byteSize();
        } catch (IOException e) {
            return true;   // deleted or unreadable: the mapping may still be intact, but nothing can be trusted
        }
    }

    public RuntimeException truncatedError() {
        return Errors.info("segment-truncated", "The file of segment " + describe() + " was truncated while mapped "
            + "(something other than slab changed its size); its values cannot be read. Close it with "
            + "slab/close-segment! and restore the file.", "path", describe());
    }

    // --- checking offsets read from the segment ----------------------------------

    /**
     * The header word of the live block at off, after checking everything
     * that one read of it can tell: off is in the heap and 16-aligned, the
     * header is live with a valid size class, and the whole block lies below
     * the frontier, so any read inside the block's size stays in the file
     * and a length checked against that size cannot run past it. Throws
     * {@link Damage} naming what ({@code "a map node"}) was expected. Costs
     * a few compares: the header shares its cache line with the fields a
     * reader reads next. What one header cannot tell (a well-formed block
     * of the right type that is the wrong one) is left to the callers'
     * shape checks and to verify.
     */
    public long liveHeader(long off, String what) {
        long hd = header(off, what);
        int cls = AllocatorDescriptor.classOf(hd);
        if (AllocatorDescriptor.stateOf(hd) != AllocatorDescriptor.STATE_LIVE || cls >= SizeClasses.COUNT
                || off + SizeClasses.sizeOf(cls) > frontierSeen)
            badHeader(off, hd, what);
        return hd;
    }

    /**
     * The header word at off after the cheapest check, for the hottest walk
     * (a lookup): off is in the heap, below the frontier and 16-aligned. The
     * caller compares state and type together (one compare of the header's
     * middle 16 bits); the size class is left to liveHeader's callers.
     */
    public long header(long off, String what) {
        if (off < heapBase || off >= frontierSeen || (off & (AllocatorDescriptor.ALIGNMENT - 1)) != 0) outsideHeap(off, what);
        return getLong(off);
    }

    /** header's slow path, out of line so that header stays small enough for the JIT to inline into every walk. */
    private void outsideHeap(long off, String what) {
        long fr = frontierNow();
        if (off < heapBase || off >= fr || (off & (AllocatorDescriptor.ALIGNMENT - 1)) != 0)
            throw Damage.at(this, off, what + " (a block offset in the heap, below the frontier " + fr + ")");
    }

    /**
     * Whether the header word hd, read by {@link #header} at off, is exactly
     * top in its upper half (size class, state and type: see {@link #top})
     * with the block below the frontier last read: the whole of liveHeader's
     * check and the caller's type check in two compares, for blocks whose
     * class the reader knows (a vector's full trie nodes). False sends the
     * caller to the full check, which also rereads the frontier.
     */
    public boolean isExactly(long off, long hd, int top, long size) {
        return (int) (hd >>> AllocatorDescriptor.TYPE_SHIFT) == top && off + size <= frontierSeen;
    }

    /** The upper half of the header word of a live block of this type and size class. */
    public static int top(int cls, int type) {
        return cls << (AllocatorDescriptor.CLASS_SHIFT - AllocatorDescriptor.TYPE_SHIFT)
            | AllocatorDescriptor.STATE_LIVE << (AllocatorDescriptor.STATE_SHIFT - AllocatorDescriptor.TYPE_SHIFT) | type;
    }

    /**
     * Whether len bytes at off lie in the heap, below the frontier and inside
     * the mapping, 8-aligned: what a read ahead (a prefetch whose value
     * nothing trusts) may touch. Never throws: a damaged frontier word, or a
     * segment closed meanwhile, is left to the checked reads to report.
     */
    public boolean readableAhead(long off, long len) {
        if (off < heapBase || (off & 7) != 0) return false;
        if (off <= Math.min(frontierSeen, mappedEnd) - len) return true;
        long fr;
        try {
            fr = frontierNow();   // it grows; a build's own blocks lie past what reads last saw
        } catch (RuntimeException | InternalError e) {
            return false;
        }
        return off <= Math.min(fr, mappedEnd) - len;
    }

    /**
     * readableAhead for the bytes after a block whose header was just read
     * by {@link #header} (so off is in the heap and aligned): only the end
     * is compared, against the frontier last read and the mapping.
     */
    public boolean readableAfter(long off, long len) {
        return off <= Math.min(frontierSeen, mappedEnd) - len;
    }

    /** The header's state and type bits, as {@link #header}'s callers compare them. */
    public static int stateAndType(long hd) { return (int) (hd >>> AllocatorDescriptor.TYPE_SHIFT) & 0xFFFF; }

    /** stateAndType of a live block of this type. */
    public static int live(int type) { return AllocatorDescriptor.STATE_LIVE << 8 | type; }

    /** The slow path of liveHeader: the frontier may have moved since it was last read; else damage. */
    private void badHeader(long off, long hd, String what) {
        int cls = AllocatorDescriptor.classOf(hd);
        if (AllocatorDescriptor.stateOf(hd) != AllocatorDescriptor.STATE_LIVE || cls >= SizeClasses.COUNT)
            throw Damage.at(this, off, what + " (a live block), found the header word 0x" + Long.toHexString(hd));
        if (off + SizeClasses.sizeOf(cls) > frontierNow())
            throw Damage.at(this, off, what + " (a block below the frontier), found size class " + cls);
    }

    /** {@link #liveHeader} of a block that must be of this type. */
    public long block(long off, int type, String what) {
        long hd = liveHeader(off, what);
        if (AllocatorDescriptor.typeOf(hd) != type) throw wrongType(off, hd, what);
        return hd;
    }

    public RuntimeException wrongType(long off, long hd, String what) {
        return Damage.at(this, off, what + ", found a block of type " + AllocatorDescriptor.typeOf(hd));
    }

    /** The size of the block whose header word is hd (checked by liveHeader). */
    public static long blockSize(long hd) { return SizeClasses.sizeOf(AllocatorDescriptor.classOf(hd)); }

    /** Throws {@link Damage} unless a field of len bytes at from lies inside the block at off whose header is hd. */
    public void within(long off, long hd, long from, long len, String what) {
        if (len < 0 || from < off || from + len > off + blockSize(hd))
            throw Damage.at(this, off, what + " (" + len + " bytes at offset " + from + " inside the block of "
                + blockSize(hd) + " bytes)");
    }

    /** The frontier read now (it only grows); refreshes what checks compare against. */
    private long frontierNow() {
        long fr = getLongVolatile(FRONTIER_OFFSET);
        if (fr > capacity || fr < heapBase) throw Damage.at(this, FRONTIER_OFFSET, "a frontier inside the segment");
        frontierSeen = fr;
        return fr;
    }

    public long heapStart() { return heapBase; }

    // --- helpers --------------------------------------------------------------

    /** Parses "8g", "512m", "65536" into bytes; null gives the default. */
    public static long parseSize(String s, long dflt) {
        if (s == null || s.isBlank()) return dflt;
        String t = s.trim().toLowerCase();
        long mult = 1;
        char last = t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> mult = 1L << 10;
            case 'm' -> mult = 1L << 20;
            case 'g' -> mult = 1L << 30;
            case 't' -> mult = 1L << 40;
            default -> { }
        }
        if (mult != 1) t = t.substring(0, t.length() - 1);
        return Long.parseLong(t) * mult;
    }

    @Override
    public String toString() {
        return "#slab/segment[" + describe() + " " + Errors.mib(capacity) + (closed ? " closed]" : "]");
    }
}
