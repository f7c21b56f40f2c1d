package slab.mem;

/**
 * Sorts block offsets in ascending order by radix (four passes of 9 bits
 * over offset / 16, which covers a 1 TiB segment; a pass whose digit is the
 * same for all is skipped): a few times faster than a comparison sort on
 * the millions of offsets a bulk free takes, which it does in address
 * order so that neighbours share their span's cache lines. 9 bits: the 512
 * places a pass writes to stay within the CPU's caches and TLB.
 */
public final class OffsetSort {
    private OffsetSort() {}

    private static final int BITS = 9;
    private static final int PASSES = 4;
    private static final int ALIGN_SHIFT = 4;

    /**
     * Sorts a[0, n), offsets below 2^40 of distinct blocks (so at least 16
     * bytes apart); returns the array holding the result, a or a new one.
     */
    public static long[] sort(long[] a, int n) {
        if (n < 2048) {
            java.util.Arrays.sort(a, 0, n);
            return a;
        }
        long[] from = a, to = new long[n];
        int[] counts = new int[1 << BITS];
        for (int pass = 0; pass < PASSES; pass++) {
            int shift = ALIGN_SHIFT + pass * BITS;
            java.util.Arrays.fill(counts, 0);
            for (int i = 0; i < n; i++) counts[(int) (from[i] >>> shift) & ((1 << BITS) - 1)]++;
            if (counts[(int) (from[0] >>> shift) & ((1 << BITS) - 1)] == n) continue;   // one digit for all
            int sum = 0;
            for (int d = 0; d < counts.length; d++) {
                int c = counts[d];
                counts[d] = sum;
                sum += c;
            }
            for (int i = 0; i < n; i++) {
                long v = from[i];
                to[counts[(int) (v >>> shift) & ((1 << BITS) - 1)]++] = v;
            }
            long[] t = from;
            from = to;
            to = t;
        }
        return from;
    }
}
