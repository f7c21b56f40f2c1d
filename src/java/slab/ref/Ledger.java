package slab.ref;

/**
 * Where a process records the counts its on-heap owners (handles,
 * transients, atoms) hold, so that another process can give them back if
 * this one dies. Installed on named segments by the sharing layer; an
 * owner records a count after taking it and erases the record before giving
 * the count back, so after a crash the record may miss a count (a leak the
 * sweep reclaims) but never claims one that was already given back.
 */
public interface Ledger {
    /** Never fails for want of room: a full ledger leaves the count unrecorded (as a crash would). */
    void own(long block);
    void disown(long block);
}
