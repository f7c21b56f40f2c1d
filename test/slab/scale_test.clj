(ns slab.scale-test
  "Issue 15 at 10M entries: a map (long keys, small-map values) and a vector
  built with transients, read back and reduced, and a segment that verify
  finds sound. Minutes and a few GB of /dev/shm, so it is behind the :scale
  selector, which CI's `bin/lein test` leaves out:

    bin/lein test :scale
    SLAB_SCALE_N=100000 bin/lein test :scale   ; the same test on fewer entries"
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import (java.util Random)))

(set! *warn-on-reflection* true)

(def ^:private n
  (if-let [s (System/getenv "SLAB_SCALE_N")] (Long/parseLong s) 10000000))

(defn- value-of [^long i] {:id i :n (* 3 i)})

(deftest ^:scale ten-million-entries
  ;; a fresh segment: 16 GiB of address space, of which ~3 GB are touched at 10M
  (let [seg (u/anonymous (* 16 1024 1024 1024))
        sum-to (fn [^long k] (quot (* k (dec k)) 2))
        rnd (Random. 15)
        samples (repeatedly 1000 #(.nextLong rnd n))]
    (try
      (slab/with-segment seg
        (let [m (persistent! (reduce (fn [t ^long i] (assoc! t i (value-of i))) (transient (slab/hash-map)) (range n)))
              v (persistent! (reduce conj! (transient (slab/vector)) (range n)))]
          (testing "the map"
            (is (= n (count m)))
            (is (every? (fn [^long i] (= (value-of i) (get m i))) samples) "sampled gets give the stored values")
            (is (every? (fn [^long i] (= (* 3 i) (get-in m [i :n]))) samples))
            (is (every? (fn [^long i] (nil? (get m (+ n i)))) samples) "absent keys miss")
            (is (= (sum-to n) (reduce-kv (fn [^long acc k _] (+ acc (long k))) 0 m)) "reduce-kv sees every key once")
            (is (= (* 3 (sum-to n)) (reduce-kv (fn [^long acc _ v] (+ acc (long (:n v)))) 0 m))
                "reduce-kv reads every nested :n"))
          (testing "the vector"
            (is (= n (count v)))
            (is (every? (fn [^long i] (= i (nth v i))) samples))
            (is (= (sum-to n) (reduce + 0 v))))
          (testing "the segment is sound with both published"
            (slab/set-root! seg :map m)
            (slab/set-root! seg :vec v)
            (slab/release! m)
            (slab/release! v)
            (u/wait-for-no-versions! seg)
            (let [r (slab/verify seg)]
              (is (= [] (:damaged r)) (pr-str r))
              (is (zero? (long (:unreachable r))) (pr-str r))
              (is (:counts-add-up r) (pr-str r))
              (is (zero? (long (:count-surplus r))) (pr-str r))))))
      (finally (.close seg)))))
