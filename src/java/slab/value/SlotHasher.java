package slab.value;

/**
 * What a structural check calls for every slot it meets: the slot's hasheq,
 * computed from the value itself (not from a hash stored beside it), so a
 * checker can compare it with the hashes the segment keeps. Throws the
 * damaged-segment error for a slot that cannot be read.
 */
@FunctionalInterface
public interface SlotHasher {
    int hash(int tag, long payload);
}
