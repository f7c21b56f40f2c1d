(ns slab.bench.layout-bench
  "Where the blocks of a map sit, and what that costs a walk: reduce-kv over
  a 1M-entry map of small maps, summing :n, for clojure.core's map before
  and after full GCs, slab's map as persistent! left it (laid out in walk
  order), the same entries added by persistent assoc (each nested map where
  it was made: nothing lays that map out), and the first map after
  snapshot!, which copies node by node in walk order.

    bin/lein run -m slab.bench.layout-bench          ; 1M entries
    bin/lein run -m slab.bench.layout-bench 100000"
  (:require [clojure.java.io :as io]
            [slab.core :as slab])
  (:import (java.io File)
           (java.lang.management ManagementFactory)))

(set! *warn-on-reflection* true)

(def ^:private ^com.sun.management.ThreadMXBean thread-mx (ManagementFactory/getThreadMXBean))

(defn- sum-n [^longs acc _ v]
  (aset acc 0 (+ (aget acc 0) (.longValue ^Number (.valAt ^clojure.lang.ILookup v :n))))
  acc)

(defn- cpu-ns-per-entry
  "CPU ns per entry of reduce-kv over m: 5 passes after 3 warm-up passes."
  ^double [m]
  (dotimes [_ 3] (reduce-kv sum-n (long-array 1) m))
  (let [c0 (.getCurrentThreadCpuTime thread-mx)]
    (dotimes [_ 5] (reduce-kv sum-n (long-array 1) m))
    (/ (double (- (.getCurrentThreadCpuTime thread-mx) c0)) 5.0 (count m))))

(defn- build [empty-map ^long n]
  (persistent! (reduce (fn [t i] (assoc! t i {:id i :n (* 3 (long i))})) (transient empty-map) (range n))))

(defn- temp-path ^String [prefix]
  (let [f (File/createTempFile prefix ".slab" (io/file (if (.isDirectory (io/file "/dev/shm")) "/dev/shm" (System/getProperty "java.io.tmpdir"))))]
    (.delete f)
    (.deleteOnExit f)
    (str f)))

(defn -main [& args]
  (let [n (long (if-let [a (first args)] (Double/parseDouble a) 1e6))
        core (build {} n)
        before-gc (cpu-ns-per-entry core)
        _ (dotimes [_ 2] (System/gc))
        after-gc (cpu-ns-per-entry core)
        a (temp-path "layout"), b (temp-path "layout-snapshot")
        seg (slab/open-segment a {:capacity (* 8 1024 1024 1024)})
        m (slab/with-segment seg (build (slab/hash-map) n))
        _ (slab/set-root! seg :m m)
        as-built (cpu-ns-per-entry m)
        by-assoc (slab/with-segment seg (reduce (fn [m i] (assoc m i {:id i :n (* 3 (long i))})) (slab/hash-map) (range n)))
        assoc-built (cpu-ns-per-entry by-assoc)
        _ (slab/release! by-assoc)
        _ (slab/snapshot! seg b)
        ro (slab/open-segment b {:read-only true})
        copied (cpu-ns-per-entry (slab/root ro :m))]
    (println (format "reduce-kv over %,d small maps, CPU ns per entry:" n))
    (println (format "  clojure.core, before any full GC   %7.1f" before-gc))
    (println (format "  clojure.core, after full GCs       %7.1f" after-gc))
    (println (format "  slab, as persistent! left it       %7.1f" as-built))
    (println (format "  slab, built by persistent assoc    %7.1f" assoc-built))
    (println (format "  slab, after snapshot! (walk order) %7.1f" copied))
    (slab/close-segment! ro)
    (slab/close-segment! seg)
    (doseq [f [a b]] (io/delete-file f true))
    (shutdown-agents)))
