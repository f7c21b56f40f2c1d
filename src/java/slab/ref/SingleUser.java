package slab.ref;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ConcurrentModificationException;

/**
 * The one-user-at-a-time guard of a transient. A transient belongs to one
 * thread at a time (handing it over between calls is fine). Two threads
 * inside it at once would replace and give back the same counted node
 * twice, or write into a node persistent! just published; instead the second
 * one gets a clear error and nothing changes. One CAS per call.
 *
 * <p>A call {@link #enter}s: it claims the transient and passes the write
 * gate. A call that allocates nothing and takes or gives back no count (a
 * scalar written into a node the transient owns) may only {@link #claim} it:
 * the gate holds back recover!'s sweep and verify, and neither can be misled
 * by such a write (the node is recorded as the transient's, and an uncounted
 * slot, half-written or not, names no block).
 */
public final class SingleUser {
    private static final VarHandle BUSY;
    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(SingleUser.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    @SuppressWarnings("unused") private int busy;
    private final WriteGate gate;
    private int ticket;

    /** A guard whose calls also pass gate (each call may allocate and move counts). */
    public SingleUser(WriteGate gate) { this.gate = gate; }

    public void enter() {
        claim();
        pass();
    }

    public void exit() {
        leave();
        unclaim();
    }

    /** Claims the transient for this thread without passing the gate. */
    public void claim() {
        if (!BUSY.compareAndSet(this, 0, 1))
            throw new ConcurrentModificationException("slab: a transient was used from two threads at once; "
                + "a transient belongs to one thread at a time (hand it over only between calls)");
    }

    public void unclaim() {
        BUSY.setRelease(this, 0);
    }

    /** Passes the gate within a claimed call that turns out to allocate or move counts; {@link #leave} after. */
    public void pass() {
        ticket = gate.enter();
    }

    public void leave() {
        gate.exit(ticket);
    }
}
