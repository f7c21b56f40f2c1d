(ns slab.bench.vector-of-bench
  "reduce over 1M (or n) doubles, side by side in one JVM: slab's vector-of
  :double, clojure.core's vector-of :double, a PersistentVector of boxed
  Doubles and a double[] loop; each with clojure.core/+ and with a function
  compiled with ^double hints (which slab calls without boxing).

    bin/lein run -m slab.bench.vector-of-bench            ; 1M elements
    bin/lein run -m slab.bench.vector-of-bench 10000000   ; 10M (JVM_OPTS=-Xmx4g)

  Each line is the median of 15 passes after 15 warm-up passes, in
  milliseconds per pass and nanoseconds per element. Not a test: numbers
  depend on the machine; results go to doc/benchmarks.md."
  (:require [slab.core :as slab]))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(defn- median-ms
  "Median wall time of f over 15 passes, after 15 warm-up passes, in ms;
  every result goes to a sink so no pass is optimized away."
  ^double [f]
  (let [sink (volatile! nil)]
    (dotimes [_ 15] (vreset! sink (f)))
    (let [times (sort (for [_ (range 15)]
                        (let [t0 (System/nanoTime)]
                          (vreset! sink (f))
                          (/ (- (System/nanoTime) t0) 1e6))))]
      (when (nil? @sink) (println "no result"))
      (double (nth times 7)))))

(defn- add ^double [^double a ^double b] (+ a b))

(defn -main [& [n]]
  (let [n (long (if n (parse-long n) 1000000))
        xs (mapv double (range n))
        slab-v (slab/with-segment (slab/default-segment) (apply slab/vector-of :double xs))
        core-v (apply vector-of :double xs)
        pv xs
        arr (double-array xs)
        row (fn [what f]
              (let [ms (median-ms f)]
                (println (format "| %-46s | %9.2f | %7.2f |" what ms (/ (* ms 1e6) n)))))]
    (println (format "reduce over %,d doubles (median of 15 passes)" n))
    (println "| what | ms per pass | ns per element |")
    (println "|---|---:|---:|")
    (row "slab vector-of :double, (reduce + 0.0 v)" #(reduce + 0.0 slab-v))
    (row "clojure.core vector-of :double, (reduce + 0.0 v)" #(reduce + 0.0 core-v))
    (row "PersistentVector of Doubles, (reduce + 0.0 v)" #(reduce + 0.0 pv))
    (row "slab vector-of :double, ^double fn" #(reduce add 0.0 slab-v))
    (row "clojure.core vector-of :double, ^double fn" #(reduce add 0.0 core-v))
    (row "PersistentVector of Doubles, ^double fn" #(reduce add 0.0 pv))
    (row "double[] loop" #(loop [i 0 acc 0.0] (if (< i (alength arr)) (recur (inc i) (+ acc (aget arr i))) acc)))
    (shutdown-agents)))
