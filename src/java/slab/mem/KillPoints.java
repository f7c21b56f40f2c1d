package slab.mem;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The kill-point test hook: with {@code -Dslab.killpoint=protocol:N} the JVM
 * halts (as kill -9 would stop it: no shutdown hooks, no finally blocks) at
 * the N-th step of the named protocol; with N = 0 it only counts, and
 * {@link #counted} tells a test how many steps there were. Without the
 * property, {@link #step} is a
 * test of a static final flag that the JIT removes.
 */
public final class KillPoints {
    private KillPoints() {}

    /** The exit code of a JVM halted at a kill point. */
    public static final int HALT_STATUS = 77;

    private static final String SPEC = System.getProperty("slab.killpoint");
    private static final boolean ARMED = SPEC != null;
    private static final String PROTOCOL = ARMED ? SPEC.substring(0, SPEC.lastIndexOf(':')) : null;
    private static final long AT = ARMED ? Long.parseLong(SPEC.substring(SPEC.lastIndexOf(':') + 1)) : 0;
    private static final AtomicLong STEPS = new AtomicLong();
    /** Steps count only once the test has set the scene (its own set-up runs the same protocols). */
    private static volatile boolean counting;

    /** The steps counted since {@link #begin}. */
    public static long counted() { return STEPS.get(); }

    /** Starts counting steps: what runs from here on is the protocol under test. */
    public static void begin() { counting = true; }

    /** One step of protocol: the state here must be recoverable if the process dies now. */
    public static void step(String protocol) {
        if (ARMED) hit(protocol);
    }

    private static void hit(String protocol) {
        if (!counting || !protocol.equals(PROTOCOL)) return;
        long n = STEPS.incrementAndGet();
        if (n == AT) {
            System.out.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
