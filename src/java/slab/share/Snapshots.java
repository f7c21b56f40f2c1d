package slab.share;

import static slab.mem.SnapshotDescriptor.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Reference;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import clojure.lang.ExceptionInfo;
import clojure.lang.IMeta;
import clojure.lang.Keyword;
import slab.Errors;
import slab.mem.Damage;
import slab.mem.HeaderDescriptor;
import slab.mem.Segment;
import slab.mem.SizeClasses;
import slab.ref.Handle;
import slab.ref.Heap;
import slab.ref.SharedColl;
import slab.value.Slot;
import slab.value.Tags;

/**
 * Snapshots (slab/snapshot!): a compacted copy of named roots in a new
 * segment file, which a process on any machine can open read-only.
 *
 * <ol>
 * <li>Each root's published version is read once and held (a handle with
 *     its own counts), so writers go on while it is copied and the copy is
 *     exactly what each root published when the snapshot began.</li>
 * <li>The versions are converted into a fresh segment beside the target
 *     (a hidden temporary file), sized to fit: its capacity is what the
 *     source has in use plus a quarter, doubled and begun again if that
 *     turns out too small. Only what the roots reach is copied, so the copy
 *     is compact whatever the source's history.</li>
 * <li>That segment is closed (its process slot and ledger given back), cut
 *     off at its frontier, and ended with a trailer holding a CRC32C of the
 *     whole file ({@link slab.mem.SnapshotDescriptor}); the file is fsynced.</li>
 * <li>It is linked to the target path, which fails if the path exists (so
 *     an existing file is never replaced, even one made meanwhile), and the
 *     directory is fsynced. A reader never sees a half-written snapshot.</li>
 * </ol>
 */
public final class Snapshots {
    private Snapshots() {}

    /** What snapshot! wrote: the file, its length, the roots it holds, and its checksum. */
    public record Result(Path path, long bytes, List<Object> roots, long checksum) { }

    /** Segment overhead beyond the data: root table (1 MiB), process table, ledger, intern table, spans. */
    private static final long OVERHEAD = 4L << 20;
    private static final long ROUND = 1L << 20;
    private static final AtomicLong TEMP_COUNTER = new AtomicLong();

    /**
     * Writes the roots named in names (every root with a value if null) of
     * src's segment into a new segment file at target; capacity 0 sizes it
     * to fit, otherwise it is the snapshot's capacity (room to grow once it
     * is opened for writing).
     */
    public static Result write(Sharing src, Path target, List<?> names, long capacity) {
        src.s.checkOpen();
        Path dest = target.toAbsolutePath().normalize();
        if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) throw exists(dest);
        Map<Keyword, Object> captured = capture(src, names);
        removeLeftovers(dest);
        try {
            long cap = capacity > 0 ? capacity : fit(src);
            while (true) {
                Path tmp = dest.resolveSibling("." + dest.getFileName() + ".snapshot-"
                    + ProcessHandle.current().pid() + "-" + TEMP_COUNTER.incrementAndGet());
                try {
                    build(tmp, src.s, captured, cap);
                    long[] sizeAndSum = seal(tmp);
                    publish(tmp, dest);
                    syncDirectory(dest.getParent());
                    return new Result(dest, sizeAndSum[0], new ArrayList<>(captured.keySet()), sizeAndSum[1]);
                } catch (ExceptionInfo e) {
                    deleteQuietly(tmp);
                    if (capacity > 0 || !isFull(e) || cap >= SizeClasses.MAX_BLOCK / 2) throw e;
                    cap *= 2;   // the estimate was short: begin again, larger
                } catch (IOException e) {
                    deleteQuietly(tmp);
                    throw Errors.info("io", "Could not write snapshot " + dest + ": " + e.getMessage(), e,
                        "path", dest.toString());
                } catch (RuntimeException | Error e) {
                    deleteQuietly(tmp);
                    throw e;
                }
            }
        } finally {
            for (Object v : captured.values()) if (v instanceof SharedColl c) c.slabHandle().release();
        }
    }

    /**
     * Deletes the temporary files of snapshots to dest that a killed
     * process left (named with its pid, which is no longer alive); those of
     * live processes may still be in use and stay.
     */
    private static void removeLeftovers(Path dest) {
        String prefix = "." + dest.getFileName() + ".snapshot-";
        Path dir = dest.getParent();
        if (dir == null) return;
        try (var entries = Files.newDirectoryStream(dir, e -> e.getFileName().toString().startsWith(prefix))) {
            for (Path p : entries) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;   // not one of ours
                }
                if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) deleteQuietly(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // a directory we cannot list: the snapshot itself reports what fails
        }
    }

    /** Each root's current value, read once (a collection comes back on a handle holding its own counts). */
    private static Map<Keyword, Object> capture(Sharing src, List<?> names) {
        List<?> wanted = names != null ? names : RootTable.names(src);
        Map<Keyword, Object> out = new LinkedHashMap<>();
        for (Object n : wanted) {
            if (!(n instanceof Keyword k)) throw Cells.notKeyword(n);
            long cell = RootTable.find(src, k);
            // Entries are never removed: a name the table lists but cannot find by its hash is damage.
            if (cell == 0 && names == null)
                throw Damage.at(src.s, src.s.getLongVolatile(HeaderDescriptor.ROOT_TABLE_OFFSET),
                    "a named-root table whose entry for " + k + " is found by its name's hash");
            if (cell == 0)
                throw Errors.info("bad-argument", "snapshot! was asked for root " + k + ", but segment "
                    + src.s.describe() + " has no root of that name.", "argument", Keyword.intern("roots"), "name", k);
            out.put(k, Cells.read(src, cell).value);
        }
        return out;
    }

    /** The source's bytes in use and a quarter more, plus the tables every segment has, in whole MiB. */
    private static long fit(Sharing src) {
        long inUse = src.s.allocator().stats().bytesInUse();
        long want = inUse + inUse / 4 + OVERHEAD;
        return Math.min(SizeClasses.MAX_BLOCK, (want + ROUND - 1) / ROUND * ROUND);
    }

    /** Converts the captured values into a new segment at tmp, as named roots, and closes it. */
    private static void build(Path tmp, Segment src, Map<Keyword, Object> captured, long capacity) {
        Segment t = Segment.open(tmp, capacity, src.mapBits(), src.vecBits());
        try {
            Sharing ts = Sharing.of(t);
            // One transplant for every root: what they share is copied once and stays shared.
            Transplant tp = new Transplant(Heap.of(src), ts.heap);
            for (Map.Entry<Keyword, Object> e : captured.entrySet()) {
                long cell = RootTable.cell(ts, e.getKey());
                int g = ts.heap.gate().enter();
                try {
                    if (!Cells.publish(ts, cell, 0, box(tp, ts.heap, e.getValue())))
                        throw new IllegalStateException("slab: a new snapshot's root " + e.getKey() + " was set twice");
                } finally {
                    ts.heap.gate().exit(g);
                }
            }
        } finally {
            Closing.close(t);
        }
    }

    /**
     * A box in the snapshot holding v: a collection read out of the source is
     * copied node by node; anything else (read out of a segment, so it needs
     * no validation) is encoded again.
     */
    private static long box(Transplant tp, Heap h, Object v) {
        if (v instanceof SharedColl sc) {
            Slot slot = new Slot();
            try {
                Handle r = sc.slabHandle();
                int kind = r.kind == Tags.LIST || sc.slabKind() == Tags.LIST ? Tags.LIST : sc.slabKind();
                slot.set(kind, tp.version(r, kind, ((IMeta) v).meta()), 0);
            } finally {
                Reference.reachabilityFence(sc);
            }
            return Boxes.box(h, slot);
        }
        return Boxes.box(h, v, true);
    }

    /**
     * Cuts the closed segment at tmp off at its frontier and appends the
     * trailer with the whole-file checksum; returns the file's length and the
     * checksum. Nothing past the frontier is committed any more, so a process
     * that opens the snapshot for writing commits from there, over the trailer.
     * The file was written through a mapping that is gone now; fsync of the
     * file forces those pages too (they are the file's pages in the page cache).
     */
    private static long[] seal(Path tmp) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long frontier = readLong(ch, HeaderDescriptor.FRONTIER_OFFSET);
            writeLong(ch, HeaderDescriptor.COMMITTED_OFFSET, frontier);
            writeLong(ch, HeaderDescriptor.COMMIT_CLAIM_OFFSET, frontier);
            ch.truncate(frontier);
            writeLong(ch, frontier + TRAILER_MAGIC_OFFSET, TRAILER_MAGIC);
            writeLong(ch, frontier + TRAILER_COVERED_OFFSET, frontier);
            long sum;
            try (Arena a = Arena.ofConfined()) {
                sum = checksum(ch.map(FileChannel.MapMode.READ_ONLY, 0, frontier + TRAILER_LENGTH, a),
                    checkedLength(frontier));
            }
            writeLong(ch, frontier + TRAILER_CHECKSUM_OFFSET, sum);
            ch.force(true);
            return new long[] {ch.size(), sum};
        }
    }

    /** Links tmp to dest (atomic, and refused if dest exists), then removes tmp's name. */
    private static void publish(Path tmp, Path dest) throws IOException {
        try {
            Files.createLink(dest, tmp);
        } catch (FileAlreadyExistsException e) {
            throw exists(dest);
        } catch (UnsupportedOperationException | IOException e) {
            // No hard links on this file system: a rename, which refuses an existing dest too
            // (though one made between its check and the rename would be replaced).
            try {
                Files.move(tmp, dest);
            } catch (FileAlreadyExistsException e2) {
                throw exists(dest);
            }
            return;
        }
        Files.delete(tmp);
    }

    /** Makes the new name durable; some file systems cannot sync a directory, which then stays as it is. */
    private static void syncDirectory(Path dir) {
        if (dir == null) return;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // the file itself is synced; only its name may be lost in a machine crash
        }
    }

    private static long readLong(FileChannel ch, long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b, at + b.position()) < 0) throw new IOException("unexpected end of file");
        return b.getLong(0);
    }

    private static void writeLong(FileChannel ch, long at, long v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
        while (b.hasRemaining()) ch.write(b, at + b.position());
    }

    private static boolean isFull(ExceptionInfo e) {
        return Keyword.intern("segment-full").equals(e.getData().valAt(Errors.ERROR));
    }

    private static RuntimeException exists(Path dest) {
        return Errors.info("file-exists", "Cannot write a snapshot to " + dest + ": the file exists. snapshot! "
            + "never replaces a file; choose a new path, or delete that file first.", "path", dest.toString());
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary name nobody opens; nothing more can be done
        }
    }
}
