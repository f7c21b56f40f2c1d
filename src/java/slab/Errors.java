package slab;

import clojure.lang.ExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;

/**
 * The errors slab raises for things a caller can get wrong: each is an
 * {@code ex-info} whose data carries {@code :slab/error} and a message that
 * says what to do. Built from clojure.lang values only.
 */
public final class Errors {
    public static final Keyword ERROR = Keyword.intern("slab", "error");

    private Errors() {}

    /** An ex-info with {@code :slab/error kind} plus the given key/value pairs. */
    public static ExceptionInfo info(String kind, String message, Object... kvs) {
        Object[] data = new Object[kvs.length + 2];
        data[0] = ERROR;
        data[1] = Keyword.intern(kind);
        for (int i = 0; i < kvs.length; i += 2) {
            Object k = kvs[i];
            data[i + 2] = k instanceof String s ? Keyword.intern(s) : k;
            data[i + 3] = kvs[i + 1];
        }
        return new ExceptionInfo(message, (IPersistentMap) PersistentArrayMap.createAsIfByAssoc(data));
    }

    public static ExceptionInfo info(String kind, String message, Throwable cause, Object... kvs) {
        ExceptionInfo e = info(kind, message, kvs);
        return new ExceptionInfo(e.getMessage(), e.getData(), cause);
    }

    public static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
