(ns slab.bench.harness
  "A small micro-benchmark harness (criterium is not available here).

  A benchmark is a map
    {:name \"...\" :threads t :body (fn ^long [^long thread ^long n] ...)}
  whose body performs n operations and returns a long that depends on their
  results (the harness feeds it to a blackhole, so the JIT cannot drop the
  work). With :threads t, t threads run the body at once, each doing n
  operations, released together by a latch; a round's time is the wall time
  until the last one finishes.

  run-suite warms every benchmark up (and sizes n so a round lasts about
  :round-ms), then runs the measured rounds interleaved — round 1 of each
  benchmark, then round 2 of each, ... — so drift (thermal, JIT, background
  load) hits all alternatives alike. Per benchmark it reports the median
  ops/s with min, max and spread, heap bytes allocated per operation (from
  com.sun.management.ThreadMXBean, summed over the worker threads), and the
  GC collections and GC time during the measured rounds (all
  GarbageCollectorMXBeans).

  It also reports ops per CPU-second of the worker threads. On a machine
  shared with other work, wall-clock rates swing with the load while CPU
  rates stay put; but CPU time leaves out work done on other threads (the
  GC's, for heap allocation), so read both.

  Usable for any side-by-side comparison, e.g. a slab map against
  clojure.core's hash-map."
  (:require [clojure.string :as str])
  (:import [java.lang.management GarbageCollectorMXBean ManagementFactory]
           [java.util.concurrent CountDownLatch]
           [java.util.concurrent.atomic AtomicLong]))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

;; --- blackhole --------------------------------------------------------------------

(def ^:private ^AtomicLong sink (AtomicLong.))

(defn consume!
  "Makes x observable, so the work that produced it cannot be eliminated."
  [^long x]
  (.lazySet sink (bit-xor (.get sink) x)))

;; --- counters ---------------------------------------------------------------------

(def ^:private ^com.sun.management.ThreadMXBean thread-mx
  (ManagementFactory/getThreadMXBean))

(defn thread-allocated-bytes
  "Heap bytes allocated so far by the calling thread."
  ^long []
  (.getCurrentThreadAllocatedBytes thread-mx))

(defn thread-cpu-nanos
  "CPU time used so far by the calling thread."
  ^long []
  (.getCurrentThreadCpuTime thread-mx))

(defn gc-counts
  "[collections, milliseconds] summed over all garbage collectors."
  []
  (reduce (fn [[^long c ^long t] ^GarbageCollectorMXBean gc]
            [(+ c (max 0 (.getCollectionCount gc))) (+ t (max 0 (.getCollectionTime gc)))])
          [0 0]
          (ManagementFactory/getGarbageCollectorMXBeans)))

;; --- one round ----------------------------------------------------------------------

(defn run-round
  "Runs bench once with n operations per thread. Returns {:ops :nanos
  :cpu-nanos :alloc-bytes :gc-count :gc-ms}."
  [{:keys [threads body]} ^long n]
  (let [t (long (or threads 1))
        start (CountDownLatch. 1)
        results (long-array t)
        allocs (long-array t)
        cpus (long-array t)
        errors (object-array t)
        workers (mapv (fn [^long i]
                        (doto (Thread. ^Runnable
                               (fn []
                                 (try
                                   (.await start)
                                   (let [b0 (thread-allocated-bytes)
                                         c0 (thread-cpu-nanos)
                                         r (long (body i n))]
                                     (aset cpus i (- (thread-cpu-nanos) c0))
                                     (aset allocs i (- (thread-allocated-bytes) b0))
                                     (aset results i r))
                                   (catch Throwable e (aset errors i e))))
                               (str "bench-" i))
                          (.start)))
                      (range t))
        [gc0 gt0] (gc-counts)
        t0 (System/nanoTime)]
    (.countDown start)
    (run! #(.join ^Thread %) workers)
    (let [t1 (System/nanoTime)
          [gc1 gt1] (gc-counts)]
      (when-let [e (some identity errors)] (throw (ex-info "benchmark body failed" {} e)))
      (consume! (areduce results i acc 0 (bit-xor acc (aget results i))))
      {:ops (* t n)
       :nanos (- t1 t0)
       :cpu-nanos (areduce cpus i acc 0 (+ acc (aget cpus i)))
       :alloc-bytes (areduce allocs i acc 0 (+ acc (aget allocs i)))
       :gc-count (- (long gc1) (long gc0))
       :gc-ms (- (long gt1) (long gt0))})))

(defn- ops-per-s ^double [{:keys [^long ops ^long nanos]}]
  (/ (* 1e9 ops) (max 1 nanos)))

(defn- ops-per-cpu-s ^double [{:keys [^long ops ^long cpu-nanos]}]
  (/ (* 1e9 ops) (max 1 cpu-nanos)))

;; --- warmup and calibration ------------------------------------------------------------

(defn warm-up
  "Runs bench for about warmup-ms, growing n until a round lasts about
  round-ms. Returns the n to measure with."
  ^long [bench ^long warmup-ms ^long round-ms]
  (let [deadline (+ (System/nanoTime) (* 1000000 warmup-ms))]
    (loop [n 1000]
      (let [{:keys [^long nanos]} (run-round bench n)
            n' (if (< nanos (* 1000000 round-ms))
                 (min (* n 4) (max n (long (/ (* (double n) round-ms 1e6) (max 1 nanos)))))
                 n)]
        (if (< (System/nanoTime) deadline)
          (recur (max 1000 n'))
          (max 1000 n'))))))

;; --- statistics -----------------------------------------------------------------------

(defn- median ^double [xs]
  (let [v (vec (sort xs)) c (count v)]
    (if (odd? c)
      (double (v (quot c 2)))
      (/ (+ (double (v (dec (quot c 2)))) (double (v (quot c 2)))) 2.0))))

(defn summarize
  "Summary of the measured rounds of one benchmark."
  [bench rounds]
  (let [rates (map ops-per-s rounds)
        med (median rates)
        lo (double (apply min rates))
        hi (double (apply max rates))
        ops (reduce + (map :ops rounds))]
    {:name (:name bench)
     :threads (or (:threads bench) 1)
     :rounds (count rounds)
     :ops-per-round (:ops (first rounds))
     :median-ops-s med
     :min-ops-s lo
     :max-ops-s hi
     :spread-pct (* 100.0 (/ (- hi lo) med))
     :median-ops-cpu-s (median (map ops-per-cpu-s rounds))
     :alloc-bytes-per-op (/ (double (reduce + (map :alloc-bytes rounds))) (double ops))
     :gc-count (reduce + (map :gc-count rounds))
     :gc-ms (reduce + (map :gc-ms rounds))
     :seconds (/ (double (reduce + (map :nanos rounds))) 1e9)}))

;; --- suites -------------------------------------------------------------------------------

(defn run-suite
  "Warms up each benchmark, then runs `rounds` measured rounds of every
  benchmark interleaved. Returns one summary per benchmark, in order."
  [benches {:keys [warmup-ms rounds round-ms] :or {warmup-ms 3000 rounds 10 round-ms 500}}]
  (let [ns (mapv (fn [b]
                   (print (str "  warming up " (:name b) " (" (or (:threads b) 1) " thread(s)) ... "))
                   (flush)
                   (let [n (warm-up b warmup-ms round-ms)]
                     (println "n =" n)
                     n))
                 benches)
        results (reduce (fn [acc r]
                          (print (str "  round " (inc (long r)) "/" rounds "\r"))
                          (flush)
                          (mapv (fn [acc b n] (conj acc (run-round b n))) acc benches ns))
                        (vec (repeat (count benches) []))
                        (range rounds))]
    (println)
    (mapv summarize benches results)))

;; --- reporting ------------------------------------------------------------------------------

(defn environment
  "A one-line description of the JVM and machine."
  []
  (format "JDK %s (%s), %d cores, max heap %d MiB, GC: %s, Clojure %s"
          (System/getProperty "java.version")
          (System/getProperty "java.vm.name")
          (.availableProcessors (Runtime/getRuntime))
          (quot (.maxMemory (Runtime/getRuntime)) (* 1024 1024))
          (str/join "+" (map #(.getName ^GarbageCollectorMXBean %) (ManagementFactory/getGarbageCollectorMXBeans)))
          (clojure-version)))

(defn- fmt-rate [^double x]
  (cond (>= x 1e9) (format "%.2f G" (/ x 1e9))
        (>= x 1e6) (format "%.2f M" (/ x 1e6))
        (>= x 1e3) (format "%.1f k" (/ x 1e3))
        :else (format "%.0f" x)))

(defn markdown-table
  "The summaries as a markdown table; with :baseline-of, a function from a
  summary to the summary it is compared with, adds a ratio column."
  [summaries & {:keys [baseline-of]}]
  (let [header (cond-> ["benchmark" "threads" "ops/s (median)" "min – max" "spread"]
                 baseline-of (conj "vs baseline")
                 true (conj "ops/CPU-s")
                 baseline-of (conj "vs baseline (CPU)")
                 true (into ["heap B/op" "GCs" "GC ms"]))
        ratio (fn [k s base] (if base (format "%.2fx" (/ (double (k s)) (double (k base)))) ""))
        row (fn [s]
              (let [base (when baseline-of (baseline-of s))]
                (cond-> [(:name s) (str (:threads s)) (fmt-rate (:median-ops-s s))
                         (str (fmt-rate (:min-ops-s s)) " – " (fmt-rate (:max-ops-s s)))
                         (format "%.1f%%" (:spread-pct s))]
                  baseline-of (conj (ratio :median-ops-s s base))
                  true (conj (fmt-rate (:median-ops-cpu-s s)))
                  baseline-of (conj (ratio :median-ops-cpu-s s base))
                  true (into [(format "%.1f" (:alloc-bytes-per-op s)) (str (:gc-count s)) (str (:gc-ms s))]))))
        line (fn [cells] (str "| " (str/join " | " cells) " |"))]
    (str/join "\n" (concat [(line header)
                            (line (map (fn [_] "---") header))]
                           (map (comp line row) summaries)))))
