package slab.ref;

import clojure.lang.IPersistentMap;

/**
 * Builds the Clojure layer's collection objects for a decoded nested
 * collection. The Clojure layer installs one with {@link Handles#setFactory};
 * the Java core never names a Clojure namespace.
 */
public interface HandleFactory {
    /** kind is a collection tag (Tags.MAP ...); the handle already owns (or borrows) its counts. */
    Object make(int kind, Handle handle, IPersistentMap meta);
}
