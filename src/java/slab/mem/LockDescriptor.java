package slab.mem;

/**
 * The byte ranges of a segment file's fcntl record locks (FORMAT.md, "The
 * file lock"). Both lie far past any file's end, where locks are still
 * allowed: the file lock covers [0, FILE_LOCK_LENGTH), and the read-only
 * lock is the one byte after it, so a process can hold a shared read-only
 * lock for as long as it keeps a file open read-only while others take and
 * give back the file lock.
 */
public final class LockDescriptor {
    private LockDescriptor() {}

    /** The file lock: exclusive to create, validate, attach or sweep; shared to open read-only. */
    public static final long FILE_LOCK_OFFSET = 0;
    public static final long FILE_LOCK_LENGTH = 1L << 62;
    /** The read-only lock: shared, held by every read-only opener until it closes. */
    public static final long READ_ONLY_LOCK_OFFSET = FILE_LOCK_LENGTH;
    public static final long READ_ONLY_LOCK_LENGTH = 1;
}
