package slab.value;

import java.nio.charset.StandardCharsets;

import slab.mem.Segment;

/**
 * Character data in the segment: Latin-1 (one byte a char) when every char
 * fits, else UTF-16LE code units, exactly as Java's compact strings, so any
 * String round-trips, unpaired surrogates included.
 */
final class Strings {
    private Strings() {}

    static boolean isLatin1(String str) {
        for (int i = 0, n = str.length(); i < n; i++) if (str.charAt(i) > 0xFF) return false;
        return true;
    }

    /** Writes str's chars at p; returns the offset after them. */
    static long writeAt(Segment s, long p, boolean utf16, String str) {
        int n = str.length();
        if (!utf16) {
            byte[] b = str.getBytes(StandardCharsets.ISO_8859_1);
            s.writeBytes(p, b, 0, n);
            return p + n;
        }
        // Not getBytes(UTF_16LE): it would replace unpaired surrogates.
        byte[] b = new byte[2 * n];
        for (int i = 0; i < n; i++) {
            char ch = str.charAt(i);
            b[2 * i] = (byte) ch;
            b[2 * i + 1] = (byte) (ch >>> 8);
        }
        s.writeBytes(p, b, 0, b.length);
        return p + b.length;
    }

    static String readAt(Segment s, long p, boolean utf16, int chars) {
        int len = utf16 ? chars * 2 : chars;
        byte[] b = new byte[len];
        s.readBytes(p, b, 0, len);
        if (!utf16) return new String(b, StandardCharsets.ISO_8859_1);
        char[] c = new char[chars];
        for (int i = 0; i < chars; i++) c[i] = (char) ((b[2 * i] & 0xFF) | (b[2 * i + 1] & 0xFF) << 8);
        return new String(c);
    }

    /** True when the chars at p equal str (whose length the caller has checked). */
    static boolean equalsAt(Segment s, long p, boolean utf16, String str) {
        int n = str.length();
        if (!utf16) {
            for (int i = 0; i < n; i++) if ((s.getByte(p + i) & 0xFF) != str.charAt(i)) return false;
        } else {
            for (int i = 0; i < n; i++) {
                int c = (s.getByte(p + 2L * i) & 0xFF) | (s.getByte(p + 2L * i + 1) & 0xFF) << 8;
                if (c != str.charAt(i)) return false;
            }
        }
        return true;
    }

    /** Packs up to 8 Latin-1 chars into a payload, first char in the lowest byte; -1 if str does not fit. */
    static boolean fitsInline(String str) {
        int n = str.length();
        if (n > Tags.STR_INLINE_MAX) return false;
        for (int i = 0; i < n; i++) if (str.charAt(i) > 0xFF) return false;
        return true;
    }

    static long packInline(String str) {
        long p = 0;
        for (int i = str.length() - 1; i >= 0; i--) p = (p << 8) | str.charAt(i);
        return p;
    }

    static String unpackInline(long p, int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) c[i] = (char) ((p >>> (8 * i)) & 0xFF);
        return new String(c);
    }

    static boolean inlineEquals(long p, int n, String str) {
        if (str.length() != n) return false;
        for (int i = 0; i < n; i++) if (((p >>> (8 * i)) & 0xFF) != str.charAt(i)) return false;
        return true;
    }
}
