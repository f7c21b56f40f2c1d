package slab.model;

/** Runs every scenario from the command line: java slab.model.Main [preemptions] [kills]. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        int p = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int k = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        for (java.util.function.Supplier<Scenario> sc : Scenarios.all()) {
            long t0 = System.nanoTime();
            Explorer.Result r = Explorer.explore(sc, p, k, 5_000_000);
            System.out.printf("%-90s %8d schedules (%d with a kill), longest %d steps, %.1f s%n", r.scenario(),
                r.executions(), r.killedExecutions(), r.longestTrace(), (System.nanoTime() - t0) / 1e9);
        }
    }
}
