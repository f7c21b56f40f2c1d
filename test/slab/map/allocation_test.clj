(ns slab.map.allocation-test
  "Proves that looking up scalar keys in a slab map allocates nothing on the
  heap (the probe is compared in the segment, not decoded)."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)))

(set! *warn-on-reflection* true)

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

(defn- bytes-per-lookup
  "Heap bytes allocated per (get m k) over ks, after warming the JIT up."
  [m ks]
  (let [^objects probes (object-array ks)
        n (alength probes)
        run (fn [] (loop [i 0 hits 0]
                     (if (< i n)
                       (recur (inc i) (if (get m (aget probes i)) (inc hits) hits))
                       hits)))]
    (dotimes [_ 60] (run))
    (let [before (allocated-bytes)
          hits (run)
          after (allocated-bytes)]
      [(double (/ (- after before) n)) hits])))

(deftest scalar-lookups-allocate-nothing
  (let [kws (mapv #(keyword "k" (str %)) (range 2000))
        m (slab/share (zipmap kws (cycle [:x :y :z true nil])))
        longs (vec (range 2000))
        ml (slab/share (zipmap longs (cycle [:x :y :z true false])))
        strs (mapv #(str "s" %) (range 2000))
        ms (slab/share (zipmap strs (cycle [:x :y :z true false])))]
    (doseq [[what m ks] [["keyword keys" m (concat kws (map #(keyword "miss" (str %)) (range 100)))]
                         ["long keys" ml (concat longs (range 5000 5100))]
                         ["short string keys" ms strs]]]
      (let [[per-lookup hits] (bytes-per-lookup m ks)]
        (is (pos? hits))
        (is (< per-lookup 1.0) (str what ": " per-lookup " heap bytes per lookup"))))))
