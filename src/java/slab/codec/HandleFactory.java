package slab.codec;

import clojure.lang.IPersistentMap;

/**
 * Builds the Clojure layer's collection objects for a decoded nested
 * collection. The Clojure layer installs one with {@link Codec#setFactory};
 * the Java core never names a Clojure namespace.
 */
public interface HandleFactory {
    /** kind is a collection tag (Tags.MAP ...); the root already owns its counts. */
    Object make(int kind, Root root, IPersistentMap meta);
}
