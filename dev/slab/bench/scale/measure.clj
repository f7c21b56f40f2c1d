(ns slab.bench.scale.measure
  "Timing, heap and GC measurements for the scale benchmark.

  A case is {:f (fn [reps] result) :ops ops-per-rep, :before (fn []),
  :done (fn [result] long)}: f is timed, before and done are not (done gives
  back what f built and returns a long for the blackhole). A pair of cases,
  clojure.core and slab, is warmed up alternately, calibrated so that one
  timed call lasts at least a millisecond, then measured for `rounds` rounds
  of about `round-ms`, interleaved with the order alternating, so drift
  (JIT, thermal, other engineers' builds) hits both alike. Per round we keep
  ns per op of wall time and of the benchmark thread's CPU time, and heap
  bytes allocated by that thread; the summary is the median of the rounds
  with min and max."
  (:import (java.lang.management GarbageCollectorMXBean ManagementFactory MemoryMXBean)
           (java.util.concurrent.atomic AtomicLong)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

;; --- blackhole and counters -----------------------------------------------------

(def ^:private ^AtomicLong sink (AtomicLong.))

(defn consume!
  "Makes x observable, so the JIT cannot drop the work that produced it."
  [^long x]
  (.lazySet sink (bit-xor (.get sink) x)))

(def ^:private ^com.sun.management.ThreadMXBean thread-mx (ManagementFactory/getThreadMXBean))
(def ^:private ^MemoryMXBean memory-mx (ManagementFactory/getMemoryMXBean))

(defn- thread-cpu ^long [] (.getCurrentThreadCpuTime thread-mx))
(defn- allocated ^long [] (.getCurrentThreadAllocatedBytes thread-mx))

(defn gc-bean-ms
  "Collection time so far, summed over all GarbageCollectorMXBeans."
  ^long []
  (reduce (fn [^long t ^GarbageCollectorMXBean gc] (+ t (max 0 (.getCollectionTime gc))))
          0 (ManagementFactory/getGarbageCollectorMXBeans)))

(defn median ^double [xs]
  (let [v (vec (sort xs)), c (count v)]
    (if (odd? c) (double (v (quot c 2))) (/ (+ (double (v (dec (quot c 2)))) (double (v (quot c 2)))) 2.0))))

;; --- one timed call, one round --------------------------------------------------------

(defn- timed-call
  "[wall cpu alloc] of one call (f reps)."
  [{:keys [f before done]} ^long reps]
  (when before (before))
  (let [c0 (thread-cpu), a0 (allocated), t0 (System/nanoTime)
        r (f reps)
        t1 (System/nanoTime), a1 (allocated), c1 (thread-cpu)]
    (consume! (long (if done (done r) (if (number? r) r 0))))
    [(- t1 t0) (- c1 c0) (- a1 a0)]))

(defn- run-round
  "Calls the case until round-ms have passed (at least once); per-op figures."
  [c ^long reps ^long round-ms]
  (let [deadline (+ (System/nanoTime) (* round-ms 1000000))]
    (loop [calls 1, sums (timed-call c reps)]
      (if (< (System/nanoTime) deadline)
        (recur (inc calls) (mapv + sums (timed-call c reps)))
        (let [ops (double (* calls reps (long (:ops c))))
              [wall cpu alloc] sums]
          {:wall (/ (double wall) ops) :cpu (/ (double cpu) ops) :alloc (/ (double alloc) ops)})))))

(defn- calibrate
  "Warms c up for about warmup-ms (at least one call), starting from reps;
  returns [reps t]: the reps per call that make a call last at least ~1 ms,
  and the last call's wall time."
  [c ^long warmup-ms ^long reps]
  (let [deadline (+ (System/nanoTime) (* warmup-ms 1000000))]
    (loop [reps reps]
      (let [t (long (first (timed-call c reps)))
            reps' (if (>= t 1000000) reps
                      (min (* reps 16) (max (inc reps) (long (Math/ceil (/ (* reps 1.2e6) (max t 1)))))))]
        (if (< (System/nanoTime) deadline) (recur reps') [reps' t])))))

(defn- summarize [rounds]
  (into {:rounds (count rounds)}
        (for [k [:wall :cpu :alloc] :let [xs (map k rounds)]]
          [k {:median (median xs) :min (apply min xs) :max (apply max xs)}])))

(defn compare-cases
  "Measures the core case (nil when clojure.core's collection is not in this
  run) and the slab case; {:core summary-or-nil :slab summary}."
  [core slab {:keys [^long warmup-ms ^long rounds ^long round-ms]}]
  (let [quarter (quot warmup-ms 4)
        ;; Alternate the warm-up too, so neither side has the JIT's attention
        ;; last; a second pass only where a call is shorter than a round (a
        ;; 100M-entry build is warm after one call, and takes minutes).
        [rc tc] (when core (calibrate core quarter 1))
        [rs ts] (calibrate slab quarter 1)
        again? (< (max (long (or tc 0)) (long ts)) (* round-ms 1000000))
        rc (if (and core again?) (first (calibrate core quarter rc)) rc)
        rs (if again? (first (calibrate slab quarter rs)) rs)
        results (reduce (fn [acc ^long i]
                          (let [c #(when core (run-round core rc round-ms))
                                s #(run-round slab rs round-ms)]
                            (if (even? i)
                              (let [x (c) y (s)] (-> acc (update :core conj x) (update :slab conj y)))
                              (let [y (s) x (c)] (-> acc (update :core conj x) (update :slab conj y))))))
                        {:core [] :slab []}
                        (range rounds))]
    {:core (when core (summarize (remove nil? (:core results))))
     :slab (summarize (:slab results))}))

;; --- heap and GC ----------------------------------------------------------------------

(defn heap-used
  "Heap bytes in use after full collections, once two readings agree within 0.5 %."
  ^long []
  (loop [prev -1, tries 0]
    (dotimes [_ 2] (System/gc))
    (Thread/sleep 50)
    (let [u (.getUsed (.getHeapMemoryUsage memory-mx))]
      (if (or (> tries 8) (< (Math/abs (- u prev)) (* 0.005 u))) u (recur u (inc tries))))))

(defn gc-pause
  "Full-GC pause: System.gc() (a full, stop-the-world collection under G1)
  timed `times` times; medians of the wall time and of the GC beans' time.
  The first call after a change in the live set is dropped: it also
  collects the garbage of whatever ran before, which is not the live set's
  cost."
  [^long times]
  (System/gc)
  (let [xs (vec (for [_ (range times)]
                  (let [g0 (gc-bean-ms), t0 (System/nanoTime)]
                    (System/gc)
                    [(/ (double (- (System/nanoTime) t0)) 1e6) (double (- (gc-bean-ms) g0))])))]
    {:wall-ms (median (map first xs)) :bean-ms (median (map second xs))}))
