package slab.value;

/**
 * Value tags: every value slot in the segment is one tag byte plus one 8-byte
 * payload. The tag says how to read the payload.
 *
 * <pre>
 * tag  name              payload
 *   0  NIL               0
 *   1  FALSE             0
 *   2  TRUE              0
 *   3  LONG              the long (also int, short, byte)
 *   4  DOUBLE            IEEE-754 bits
 *   5  FLOAT             IEEE-754 float bits in the low 32 bits
 *   6  CHAR              UTF-16 code unit
 *   7  BIGINT_SMALL      clojure.lang.BigInt that fits a long: the long
 *   8  BIGINTEGER_SMALL  java.math.BigInteger that fits a long: the long
 *   9  DATE              java.util.Date: epoch milliseconds
 *  10  KEYWORD           offset of the keyword's interned block (never freed)
 *  11  SYMBOL            offset of the symbol's interned block (never freed)
 * 16+n STR_INLINE_n      n (0..8) Latin-1 characters, first in the lowest byte
 *  32  STRING            offset of a string blob          (counted)
 *  33  BIGINT            offset of a big-integer blob     (counted)
 *  34  BIGINTEGER        offset of a big-integer blob     (counted)
 *  35  BIGDECIMAL        offset of a big-decimal blob     (counted)
 *  36  RATIO             offset of a ratio blob           (counted)
 *  37  UUID              offset of a UUID blob            (counted)
 *  38  INSTANT           offset of an instant blob        (counted)
 *  39  SYMBOL_META       offset of a symbol-with-metadata block (counted)
 *  48  MAP               offset of a collection block     (counted)
 *  49  SET               offset of a collection block     (counted)
 *  50  VECTOR            offset of a collection block     (counted)
 *  51  LIST              offset of a collection block     (counted)
 *  52  VECTOR_OF         offset of a collection block     (counted): a vector of unboxed numbers
 * </pre>
 *
 * Tags at or above {@link #FIRST_COUNTED} hold one reference count on the
 * block their payload names; all others need no count, which keeps path
 * copies cheap.
 */
public final class Tags {
    private Tags() {}

    public static final int NIL = 0;
    public static final int FALSE = 1;
    public static final int TRUE = 2;
    public static final int LONG = 3;
    public static final int DOUBLE = 4;
    public static final int FLOAT = 5;
    public static final int CHAR = 6;
    public static final int BIGINT_SMALL = 7;
    public static final int BIGINTEGER_SMALL = 8;
    public static final int DATE = 9;
    public static final int KEYWORD = 10;
    public static final int SYMBOL = 11;
    public static final int STR_INLINE = 16;
    public static final int STR_INLINE_MAX = 8;
    public static final int STRING = 32;
    public static final int BIGINT = 33;
    public static final int BIGINTEGER = 34;
    public static final int BIGDECIMAL = 35;
    public static final int RATIO = 36;
    public static final int UUID = 37;
    public static final int INSTANT = 38;
    public static final int SYMBOL_META = 39;
    public static final int MAP = 48;
    public static final int SET = 49;
    public static final int VECTOR = 50;
    public static final int LIST = 51;
    public static final int VECTOR_OF = 52;

    public static final int FIRST_COUNTED = 32;

    public static boolean isCounted(int tag) { return tag >= FIRST_COUNTED; }
    public static boolean isInlineString(int tag) { return tag >= STR_INLINE && tag <= STR_INLINE + STR_INLINE_MAX; }
    public static boolean isCollection(int tag) { return tag >= MAP && tag <= VECTOR_OF; }
    /** Vectors, lists and vectors of unboxed numbers: compared element by element, hashed in order. */
    public static boolean isSequential(int tag) { return tag == VECTOR || tag == LIST || tag == VECTOR_OF; }
    /** Integer-category numbers compare by value across these tags, as Clojure's = does. */
    public static boolean isSmallInteger(int tag) { return tag == LONG || tag == BIGINT_SMALL || tag == BIGINTEGER_SMALL; }

    public static boolean isKnown(int tag) {
        return (tag >= NIL && tag <= SYMBOL) || isInlineString(tag)
            || (tag >= STRING && tag <= SYMBOL_META) || isCollection(tag);
    }
}
