package slab.codec;

/** CHAMP map nodes: being written. */
final class MapNodes {
    private MapNodes() {}
    static Root fromMap(Codec c, clojure.lang.IPersistentMap m) { throw new UnsupportedOperationException(); }
    static Root fromSet(Codec c, clojure.lang.IPersistentSet m) { throw new UnsupportedOperationException(); }
    static void dropChildren(Codec c, long node, LongStack work) { }
}
