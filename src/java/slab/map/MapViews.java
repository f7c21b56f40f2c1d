package slab.map;

import java.util.AbstractCollection;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import clojure.lang.IMapIterable;
import clojure.lang.IPersistentMap;
import clojure.lang.Util;

/**
 * java.util.Map's keySet, values and entrySet as views over a persistent
 * map, as APersistentMap gives them: nothing is copied, size is the map's
 * count, and key and entry membership are lookups. A view holds the map, so
 * the version it reads stays alive while the view is reachable.
 */
public final class MapViews {
    private MapViews() {}

    public static <M extends IPersistentMap & IMapIterable> Set<Object> keySet(M m) {
        return new AbstractSet<>() {
            @Override public Iterator<Object> iterator() { return iter(m.keyIterator()); }
            @Override public int size() { return m.count(); }
            @Override public boolean contains(Object o) { return m.containsKey(o); }
        };
    }

    public static <M extends IPersistentMap & IMapIterable> Collection<Object> values(M m) {
        return new AbstractCollection<>() {
            @Override public Iterator<Object> iterator() { return iter(m.valIterator()); }
            @Override public int size() { return m.count(); }
        };
    }

    public static Set<Object> entrySet(IPersistentMap m) {
        return new AbstractSet<>() {
            @Override public Iterator<Object> iterator() { return iter(m.iterator()); }
            @Override public int size() { return m.count(); }
            @Override public boolean contains(Object o) {
                if (!(o instanceof Map.Entry<?, ?> e)) return false;
                Map.Entry<?, ?> found = m.entryAt(e.getKey());
                return found != null && Util.equals(found.getValue(), e.getValue());
            }
            @Override public int hashCode() { return m.hashCode(); }
        };
    }

    @SuppressWarnings("unchecked")
    private static Iterator<Object> iter(Iterator<?> it) { return (Iterator<Object>) it; }
}
