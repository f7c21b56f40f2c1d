package slab.value;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import clojure.lang.BigInt;
import clojure.lang.ExceptionInfo;
import clojure.lang.IMeta;
import clojure.lang.IPersistentCollection;
import clojure.lang.IPersistentMap;
import clojure.lang.IPersistentSet;
import clojure.lang.IPersistentVector;
import clojure.lang.IRecord;
import clojure.lang.ISeq;
import clojure.lang.Keyword;
import clojure.lang.PersistentVector;
import clojure.lang.RT;
import clojure.lang.Ratio;
import clojure.lang.Sequential;
import clojure.lang.Symbol;
import slab.Errors;
import slab.ref.Heap;
import slab.ref.SharedColl;

/**
 * What slab can store: a whole value is checked before anything is
 * written, so a refused value leaves the segment exactly as it was (interned
 * keywords included), and the error names the offending class and its path.
 */
public final class Validator {
    private Validator() {}

    public static final Keyword META_KEY = Keyword.intern("slab", "meta");
    private static final Keyword PATH = Keyword.intern("path");
    private static final Keyword UNSUPPORTED = Keyword.intern("unsupported-value");

    /** Throws {@code :unsupported-value} (with the key path) for anything in v slab cannot store. */
    public static void validate(Heap h, Object v) {
        if (v instanceof Symbol sym && MetaSymbols.hasMeta(sym)) {
            try {
                validate(h, sym.meta());
            } catch (ExceptionInfo e) {
                throw withPath(e, META_KEY);
            }
            return;
        }
        if (v == null || isScalar(v)) return;
        h.segment().checkOpen();
        if (v instanceof SharedColl sc && sc.slabHandle().heap == h) return;
        if (v instanceof IRecord) throw record(v);
        if (!(v instanceof IPersistentCollection || v instanceof Sequential)) throw unsupported(v, null);
        if (v instanceof IMeta im && im.meta() != null) {
            try {
                validate(h, im.meta());
            } catch (ExceptionInfo e) {
                throw withPath(e, META_KEY);
            }
        }
        if (v instanceof IPersistentMap m) {
            for (Object o : m) {
                java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) o;
                try {
                    validate(h, e.getKey());
                    validate(h, e.getValue());
                } catch (ExceptionInfo ex) {
                    throw withPath(ex, e.getKey());
                }
            }
            return;
        }
        long i = 0;
        for (ISeq q = RT.seq(v); q != null; q = q.next(), i++) {
            try {
                validate(h, q.first());
            } catch (ExceptionInfo ex) {
                throw withPath(ex, v instanceof IPersistentSet ? q.first() : (Object) i);
            }
        }
    }

    /** A value stored inline or as a blob (no nested collection). */
    public static boolean isScalar(Object v) {
        return v instanceof Long || v instanceof Keyword || v instanceof String || v instanceof Integer
            || v instanceof Double || v instanceof Boolean || v instanceof Symbol || v instanceof Character
            || v instanceof Short || v instanceof Byte || v instanceof Float || v instanceof BigInt
            || v instanceof BigInteger || v instanceof BigDecimal || v instanceof Ratio || v instanceof UUID
            || v.getClass() == Date.class || v instanceof Instant;
    }

    public static ExceptionInfo record(Object v) {
        return unsupported(v, "records are not stored as plain maps, since a record is not = to a map");
    }

    public static ExceptionInfo unsupported(Object v, String why) {
        String cls = v.getClass().getName();
        return Errors.info("unsupported-value", "slab cannot store a value of class " + cls
            + (why == null ? "" : " (" + why + ")")
            + " at path []. Supported: nil, booleans, numbers, chars, strings, keywords, symbols, UUIDs, "
            + "java.util.Date, java.time.Instant, and maps, sets, vectors and lists of those.",
            "class", cls, "path", PersistentVector.EMPTY, "value", v);
    }

    /** The same unsupported-value error with key prepended to its path; other errors unchanged. */
    public static ExceptionInfo withPath(ExceptionInfo e, Object key) {
        IPersistentMap data = e.getData();
        if (data == null || data.valAt(Errors.ERROR) != UNSUPPORTED) return e;
        IPersistentVector path = (IPersistentVector) data.valAt(PATH);
        IPersistentVector longer = PersistentVector.create(key);
        for (int i = 0; i < path.count(); i++) longer = longer.cons(path.nth(i));
        String msg = e.getMessage().replaceFirst(" at path \\[[^\\n]*?\\]\\. Supported", " at path "
            + java.util.regex.Matcher.quoteReplacement(RT.printString(longer)) + ". Supported");
        return new ExceptionInfo(msg, data.assoc(PATH, longer));
    }
}
