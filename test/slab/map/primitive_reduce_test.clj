(ns slab.map.primitive-reduce-test
  "Proves that reduce-kv over a slab map and reduce over a slab vector hand
  stored longs to a function with primitive long arguments unboxed: the
  results are clojure.core's, reduced stops them, and nothing is allocated
  per entry."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)))

(set! *warn-on-reflection* true)

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

(defn- bytes-per-call
  "Heap bytes f allocates per call, after warming the JIT up, divided by n entries."
  [f ^long n]
  (dotimes [_ 200] (f))
  (let [before (allocated-bytes)]
    (f)
    (/ (double (- (allocated-bytes) before)) n)))

(deftest reduce-kv-with-long-arguments
  (let [n 5000
        m (zipmap (range 1000 (+ 1000 n)) (map #(* 3 %) (range 1000 (+ 1000 n))))
        sum (fn [^longs acc ^long k ^long v] (aset acc 0 (+ (aget acc 0) (* k v))) acc)
        expected (reduce-kv (fn [^long acc k v] (+ acc (* (long k) (long v)))) 0 m)
        ;; a small BigInt is stored under its own tag: that entry takes the boxed path
        ;; (invoke), which a primitive function accepts as clojure.core's does
        with-bigint (slab/share (assoc m 7 5N))]
    (is (= (+ expected 35) (aget ^longs (reduce-kv sum (long-array 1) with-bigint) 0)))
    (let [longs-only (slab/share m)
          per (bytes-per-call #(reduce-kv sum (long-array 1) longs-only) n)]
      (is (= expected (aget ^longs (reduce-kv sum (long-array 1) longs-only) 0)))
      (is (< per 1.0) (str per " heap bytes per entry")))
    (is (= :stopped (reduce-kv (fn [acc ^long k ^long _] (if (>= k 2000) (reduced :stopped) acc)) 0
                               (slab/share (zipmap (range 3000) (range)))))
        "reduced stops it")))

(deftest vector-reduce-with-a-long-argument
  (let [n 5000
        v (slab/vec (map #(* 1000 %) (range n)))
        sum (fn [^longs acc ^long x] (aset acc 0 (+ (aget acc 0) x)) acc)]
    (is (= (reduce + (map #(* 1000 %) (range n))) (aget ^longs (reduce sum (long-array 1) v) 0)))
    (is (< (bytes-per-call #(reduce sum (long-array 1) v) n) 1.0))
    (is (= 7000 (reduce (fn [acc ^long x] (if (>= x 7000) (reduced x) acc)) 0 v)))
    (is (= [1 2 3] (reduce (fn [acc ^long x] (conj acc x)) [] (slab/vector 1 2N 3))) "a small BigInt, boxed")))
