package slab.ref;

import java.util.Arrays;

/**
 * A node's counted slots in layout order, reused per thread by the
 * reclaimer so that releasing a version allocates nothing. {@code words}
 * and {@code bytes} are scratch for readers that copy a node's body in one
 * bulk read.
 */
public final class SlotList implements RefVisitor {
    public long[] s = new long[64];
    public int n;
    public long[] words = new long[64];
    public byte[] bytes = new byte[64];

    SlotList clear() {
        n = 0;
        return this;
    }

    /** Makes room for k more slots. */
    public void ensure(int k) {
        if (n + k > s.length) s = Arrays.copyOf(s, Math.max(n + k, s.length * 2));
    }

    /** Room for k words of scratch. */
    public long[] words(int k) {
        if (k > words.length) words = new long[Math.max(k, words.length * 2)];
        return words;
    }

    /** Room for k bytes of scratch. */
    public byte[] bytes(int k) {
        if (k > bytes.length) bytes = new byte[Math.max(k, bytes.length * 2)];
        return bytes;
    }

    @Override public void visit(long c) {
        if (n == s.length) s = Arrays.copyOf(s, n * 2);
        s[n++] = c;
    }

    long count(long c) {
        long k = 0;
        for (int i = 0; i < n; i++) if (s[i] == c) k++;
        return k;
    }
}
