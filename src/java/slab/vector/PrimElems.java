package slab.vector;

import static slab.vector.PrimLeafDescriptor.*;

import clojure.lang.Keyword;
import clojure.lang.RT;
import slab.mem.Segment;
import slab.value.Tags;

/**
 * The elements of a vector-of (layout in {@link PrimLeafDescriptor}): the
 * element types by clojure.core's names, coercion of a value to an element
 * with clojure.core's casts (so {@code (vector-of :byte 300)} fails as it
 * does in clojure.core), reading and writing one element, and boxing it.
 *
 * <p>Inside the vector code an element travels as a long of <em>bits</em>:
 * the value for the integer types (sign-extended) and chars, the IEEE-754
 * bits for doubles and floats (a float's in the low 32 bits), 0 or 1 for
 * booleans. Those bits are also the payload of the value-codec slot with
 * the same value ({@link #slotTag}), so hashing and equality of elements
 * reuse the slot code, and an element is = and hashes alike whether it
 * sits in a vector-of or a plain vector.
 */
public final class PrimElems {
    private PrimElems() {}

    private static final Keyword[] NAMES = {null, Keyword.intern("long"), Keyword.intern("double"),
        Keyword.intern("int"), Keyword.intern("float"), Keyword.intern("short"), Keyword.intern("char"),
        Keyword.intern("byte"), Keyword.intern("boolean")};

    // --- element types -------------------------------------------------------------------

    /** The element type named t (:long, :double, ...); IllegalArgumentException otherwise, as clojure.core/vector-of. */
    public static int elemType(Object t) {
        for (int e = ELEM_LONG; e <= ELEM_MAX; e++) if (NAMES[e] == t) return e;
        throw new IllegalArgumentException("Unrecognized type " + t);
    }

    /** The keyword clojure.core/vector-of names elem by. */
    public static Keyword typeName(int elem) { return NAMES[elem]; }

    /** The element type of a primitive array (what a clojure.core vector-of keeps its tail in), 0 for any other object. */
    public static int elemTypeOfArray(Object a) {
        if (a instanceof long[]) return ELEM_LONG;
        if (a instanceof double[]) return ELEM_DOUBLE;
        if (a instanceof int[]) return ELEM_INT;
        if (a instanceof float[]) return ELEM_FLOAT;
        if (a instanceof short[]) return ELEM_SHORT;
        if (a instanceof char[]) return ELEM_CHAR;
        if (a instanceof byte[]) return ELEM_BYTE;
        if (a instanceof boolean[]) return ELEM_BOOLEAN;
        return 0;
    }

    // --- coercion and boxing -----------------------------------------------------------------

    /**
     * The bits of v as an element of type elem, cast as clojure.core's
     * vector-of casts it (RT.longCast, RT.byteCast, ...): out-of-range values
     * throw IllegalArgumentException or ArithmeticException, nil a
     * NullPointerException, a value of another kind ClassCastException.
     */
    public static long coerce(int elem, Object v) {
        switch (elem) {
            case ELEM_LONG: return RT.longCast(v);
            case ELEM_DOUBLE: return Double.doubleToRawLongBits(RT.doubleCast(v));
            case ELEM_INT: return RT.intCast(v);
            case ELEM_FLOAT: return Float.floatToRawIntBits(RT.floatCast(v)) & 0xFFFF_FFFFL;
            case ELEM_SHORT: return RT.shortCast(v);
            case ELEM_CHAR: return RT.charCast(v);
            case ELEM_BYTE: return RT.byteCast(v);
            case ELEM_BOOLEAN: return RT.booleanCast(v) ? 1 : 0;
            default: throw new IllegalStateException("slab: unknown vector-of element type " + elem);
        }
    }

    /** The element as clojure.core's vector-of returns it from nth: Long, Double, Integer, Float, Short, Character, Byte or Boolean. */
    public static Object box(int elem, long bits) {
        switch (elem) {
            case ELEM_LONG: return bits;
            case ELEM_DOUBLE: return Double.longBitsToDouble(bits);
            case ELEM_INT: return (int) bits;
            case ELEM_FLOAT: return Float.intBitsToFloat((int) bits);
            case ELEM_SHORT: return (short) bits;
            case ELEM_CHAR: return (char) bits;
            case ELEM_BYTE: return (byte) bits;
            case ELEM_BOOLEAN: return bits != 0;
            default: throw new IllegalStateException("slab: unknown vector-of element type " + elem);
        }
    }

    /** The tag of the value-codec slot holding the same value (whose payload is {@link #slotPayload}). */
    public static int slotTag(int elem, long bits) {
        switch (elem) {
            case ELEM_DOUBLE: return Tags.DOUBLE;
            case ELEM_FLOAT: return Tags.FLOAT;
            case ELEM_CHAR: return Tags.CHAR;
            case ELEM_BOOLEAN: return bits != 0 ? Tags.TRUE : Tags.FALSE;
            default: return Tags.LONG;
        }
    }

    public static long slotPayload(int elem, long bits) { return elem == ELEM_BOOLEAN ? 0 : bits; }

    // --- one element in a leaf ------------------------------------------------------------------

    public static long read(Segment s, int elem, long leaf, int i) {
        long at = leaf + elementOffset(elem, i);
        switch (elem) {
            case ELEM_LONG: case ELEM_DOUBLE: return s.getLong(at);
            case ELEM_INT: return s.getInt(at);
            case ELEM_FLOAT: return s.getInt(at) & 0xFFFF_FFFFL;
            case ELEM_SHORT: return s.getShort(at);
            case ELEM_CHAR: return s.getShort(at) & 0xFFFF;
            case ELEM_BYTE: return s.getByte(at);
            default: return s.getByte(at) != 0 ? 1 : 0;
        }
    }

    public static void write(Segment s, int elem, long leaf, int i, long bits) {
        long at = leaf + elementOffset(elem, i);
        switch (elem) {
            case ELEM_LONG: case ELEM_DOUBLE: s.putLong(at, bits); break;
            case ELEM_INT: case ELEM_FLOAT: s.putInt(at, (int) bits); break;
            case ELEM_SHORT: case ELEM_CHAR: s.putShort(at, (short) bits); break;
            default: s.putByte(at, (byte) bits); break;
        }
    }
}
