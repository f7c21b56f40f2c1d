package slab.model;

import java.util.List;

/**
 * The workloads the model checker runs (from test/slab/ref/lineage_model_test.clj).
 * Each starts from a version v0 = root {A {a1 a2}, B {b1 b2}}; a path copy
 * replaces one value of A or B, copying that child and the root.
 */
public final class Scenarios {
    private Scenarios() {}

    /** v0 built in setup; holders is how many counts it starts with. */
    static long tree(Model m, int holders) {
        long a = Scenario.node(m, Scenario.value(m), Scenario.value(m));
        long b = Scenario.node(m, Scenario.value(m), Scenario.value(m));
        long r = Scenario.node(m, a, b);
        for (int i = 1; i < holders; i++) m.retain(r);
        return r;
    }

    private abstract static class Base extends Scenario {
        final String name;
        final int threads;
        long v0;

        Base(String name, int threads) {
            this.name = name;
            this.threads = threads;
        }

        @Override public String name() { return name; }

        @Override public int threads() { return threads; }
    }

    /** A copy, then the old version dropped by both holders and the new one read and dropped. */
    public static Scenario copyThenDropOld() {
        return new Base("copy, then drop the old version (its other holder reads it meanwhile)", 2) {
            @Override void setup(Model m) {
                v0 = tree(m, 2);
                holds(0, v0);
                holds(1, v0);
            }

            @Override void thread(Model m, int t) {
                if (t == 0) {
                    long v1 = assocPath(m, v0, 0, 0);
                    holds(0, v1);
                    drops(m, 0, v0);
                    read(m, v1);
                    drops(m, 0, v1);
                } else {
                    read(m, v0);
                    drops(m, 1, v0);
                }
            }
        };
    }

    /** The new version dropped before the old one. */
    public static Scenario copyThenDropNew() {
        return new Base("copy, then drop the new version before the old", 2) {
            @Override void setup(Model m) {
                v0 = tree(m, 2);
                holds(0, v0);
                holds(1, v0);
            }

            @Override void thread(Model m, int t) {
                if (t == 0) {
                    long v1 = assocPath(m, v0, 1, 1);
                    holds(0, v1);
                    read(m, v1);
                    drops(m, 0, v1);
                    drops(m, 0, v0);
                } else {
                    read(m, v0);
                    drops(m, 1, v0);
                }
            }
        };
    }

    /** Two threads copy the same version at once (one becomes its heir, the other a full copy). */
    public static Scenario concurrentCopies() {
        return new Base("two concurrent copies of one version, each read and dropped, the old dropped", 2) {
            @Override void setup(Model m) {
                v0 = tree(m, 2);
                holds(0, v0);
                holds(1, v0);
            }

            @Override void thread(Model m, int t) {
                long v = assocPath(m, v0, 0, t);
                holds(t, v);
                drops(m, t, v0);
                read(m, v);
                drops(m, t, v);
            }
        };
    }

    /** A chain v0 -> v1 -> v2, the middle dropped while a reader walks the end and the old one goes. */
    public static Scenario chain() {
        return new Base("a chain of three versions dropped oldest first, middle first and newest first", 3) {
            long v1, v2;

            @Override void setup(Model m) {
                v0 = tree(m, 1);
                v1 = assocPath(m, v0, 0, 0);
                v2 = assocPath(m, v1, 1, 0);
                m.retain(v2);
                holds(0, v0);
                holds(1, v1);
                holds(2, v2);
                holds(2, v2);
            }

            @Override void thread(Model m, int t) {
                switch (t) {
                    case 0 -> drops(m, 0, v0);
                    case 1 -> drops(m, 1, v1);
                    default -> {
                        read(m, v2);
                        drops(m, 2, v2);
                        read(m, v2);
                        drops(m, 2, v2);
                    }
                }
            }
        };
    }

    /** A copy made from a version whose node is passing on to its heir at that moment. */
    public static Scenario copyWhilePassingOn() {
        return new Base("copy of the heir while its base passes on, a reader on the heir", 2) {
            long v1;

            @Override void setup(Model m) {
                v0 = tree(m, 1);
                v1 = assocPath(m, v0, 0, 0);
                m.retain(v1);
                holds(0, v0);
                holds(1, v1);
                holds(1, v1);
            }

            @Override void thread(Model m, int t) {
                if (t == 0) {
                    drops(m, 0, v0);
                } else {
                    long v2 = assocPath(m, v1, 0, 1);
                    holds(1, v2);
                    read(m, v1);
                    drops(m, 1, v1);
                    read(m, v2);
                    drops(m, 1, v2);
                    drops(m, 1, v1);
                }
            }
        };
    }

    /** A value stored where the base has it too (settle gives the extra count back). */
    public static Scenario storedTwice() {
        return new Base("a copy that stores a block its base holds (borrowed, not owned)", 2) {
            @Override void setup(Model m) {
                v0 = tree(m, 2);
                holds(0, v0);
                holds(1, v0);
            }

            @Override void thread(Model m, int t) {
                if (t == 0) {
                    long a = m.slotsOf(v0)[0];
                    long a2 = m.slotsOf(a)[1];
                    m.retain(a2);                                  // the value being stored comes with a count
                    long a1 = Scenario.copy(m, a, new long[] {a2, a2}, a2);
                    long r1 = Scenario.copy(m, v0, new long[] {a1, m.slotsOf(v0)[1]}, a1);
                    holds(0, r1);
                    drops(m, 0, v0);
                    read(m, r1);
                    drops(m, 0, r1);
                } else {
                    drops(m, 1, v0);
                }
            }
        };
    }

    /** One holder drops the old version while the other copies it, drops it and keeps the copy. */
    public static Scenario claimRacingADrop() {
        return new Base("a claim racing the other holder's drop (the old version must still pass on)", 2) {
            @Override void setup(Model m) {
                v0 = tree(m, 2);
                holds(0, v0);
                holds(1, v0);
            }

            @Override void thread(Model m, int t) {
                if (t == 0) {
                    drops(m, 0, v0);
                } else {
                    long v1 = assocPath(m, v0, 1, 0);
                    holds(1, v1);
                    drops(m, 1, v0);
                    read(m, v1);
                }
            }
        };
    }

    public static List<java.util.function.Supplier<Scenario>> all() {
        return List.of(Scenarios::copyThenDropOld, Scenarios::copyThenDropNew, Scenarios::concurrentCopies,
                       Scenarios::chain, Scenarios::copyWhilePassingOn, Scenarios::storedTwice,
                       Scenarios::claimRacingADrop);
    }
}
