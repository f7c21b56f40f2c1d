package slab.value;

/**
 * An encoded value on its way into a node: tag, payload and the value's
 * hasheq. The caller owns the one count a counted payload carries until it
 * stores the slot in a node (or releases it).
 */
public final class Slot {
    public int tag;
    public long payload;
    public int hash;

    public void set(int tag, long payload, int hash) {
        this.tag = tag;
        this.payload = payload;
        this.hash = hash;
    }
}
