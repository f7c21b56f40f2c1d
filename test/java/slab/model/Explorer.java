package slab.model;

import java.util.List;

/**
 * Stateless exhaustive exploration (as CHESS does): runs a scenario once per
 * schedule, depth first over every decision, with a bound on preemptions
 * (switches away from a thread that could go on) and kills. Every schedule
 * within the bounds is run exactly once.
 */
public final class Explorer {
    private Explorer() {}

    /** What a run of the explorer covered. */
    public record Result(String scenario, long executions, long killedExecutions, int longestTrace) { }

    /**
     * Explores sc (a fresh instance per execution comes from make). Runs in
     * a virtual thread, as the model threads do, so that handing the turn
     * from one to another is a switch of continuations, not of OS threads.
     */
    public static Result explore(java.util.function.Supplier<Scenario> make, int maxPreemptions, int maxKills,
                                 long maxExecutions) {
        Result[] r = new Result[1];
        Throwable[] err = new Throwable[1];
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                r[0] = exploreHere(make, maxPreemptions, maxKills, maxExecutions);
            } catch (Throwable e) {
                err[0] = e;
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (err[0] instanceof RuntimeException re) throw re;
        if (err[0] instanceof Error e) throw e;
        if (err[0] != null) throw new IllegalStateException(err[0]);
        return r[0];
    }

    private static Result exploreHere(java.util.function.Supplier<Scenario> make, int maxPreemptions, int maxKills,
                                      long maxExecutions) {
        int[] prefix = new int[0];
        long executions = 0, withKills = 0;
        int longest = 0;
        String name = make.get().name();
        while (true) {
            Scenario sc = make.get();
            Model m = new Model(sc.threads());
            sc.setup(m);
            Schedule s = m.schedule;
            s.run(t -> sc.thread(m, t), prefix, maxPreemptions, maxKills);
            executions++;
            if (s.anyKilled()) withKills++;
            longest = Math.max(longest, s.trace.size());
            check(sc, m, s);
            prefix = next(s.trace, maxPreemptions);
            if (prefix == null) break;
            if (executions >= maxExecutions)
                throw new IllegalStateException(name + ": more than " + maxExecutions + " schedules within the bounds");
        }
        return new Result(name, executions, withKills, longest);
    }

    private static void check(Scenario sc, Model m, Schedule s) {
        for (int t = 0; t < sc.threads(); t++) {
            Throwable f = s.failure(t);
            if (f != null) throw new AssertionError(sc.name() + ": thread " + t + " failed: " + f + "\n" + describe(s)
                + "\nsteps:" + m.log, f);
        }
        try {
            if (m.failure != null) throw new AssertionError(m.failure);
            sc.check(m, s);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(sc.name() + ": " + e.getMessage() + "\n" + describe(s) + "\nsteps:" + m.log, e);
        }
    }

    /** The deepest decision with an untried option within the bounds; null when all are done. */
    private static int[] next(List<Schedule.Decision> trace, int maxPreemptions) {
        for (int k = trace.size() - 1; k >= 0; k--) {
            Schedule.Decision d = trace.get(k);
            int before = k == 0 ? 0 : trace.get(k - 1).preemptions();
            int prevRan = lastRan(trace, k);
            for (int alt = d.picked() + 1; alt < d.options().length; alt++) {
                int o = d.options()[alt];
                boolean preempt = o >= 0 && prevRan >= 0 && o != prevRan && d.options()[0] == prevRan;
                if (preempt && before + 1 > maxPreemptions) continue;
                int[] p = new int[k + 1];
                for (int i = 0; i < k; i++) p[i] = trace.get(i).picked();
                p[k] = alt;
                return p;
            }
        }
        return null;
    }

    private static int lastRan(List<Schedule.Decision> trace, int k) {
        for (int i = k - 1; i >= 0; i--) {
            Schedule.Decision d = trace.get(i);
            int o = d.options()[d.picked()];
            if (o >= 0) return o;
        }
        return -1;
    }

    private static String describe(Schedule s) {
        StringBuilder b = new StringBuilder("schedule:");
        for (Schedule.Decision d : s.trace) {
            int o = d.options()[d.picked()];
            b.append(o >= 0 ? " " + o : " kill" + ~o);
        }
        return b.toString();
    }
}
