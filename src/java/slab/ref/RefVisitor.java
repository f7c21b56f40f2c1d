package slab.ref;

/** Receives each block a block holds a count on (see {@link RefWalker}). */
@FunctionalInterface
public interface RefVisitor {
    void visit(long block);
}
