(ns slab.map.primitive-get-test
  "Proves slab/get-long and slab/nth-long are (long (get m k nf)) and
  (long (nth v i)): the same result, or the same exception, as clojure.core
  on its twin, for every kind of value; and that a lookup of a stored long
  allocates nothing."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check.clojure-test :refer [defspec]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)))

(set! *warn-on-reflection* true)

(defn- outcome
  "f's value, or the class of what it threw."
  [f]
  (try (f) (catch Throwable t (class t))))

(def ^:private value-gen
  (gen/one-of [gen/large-integer gen/small-integer (gen/double* {:NaN? false :infinite? false})
               (gen/return nil) gen/string-alphanumeric gen/keyword gen/ratio
               (gen/return 5N) (gen/return (int 7)) (gen/return (byte -3))
               (gen/return {:a 1}) (gen/return [1 2])]))

(defspec get-long-is-long-of-get 200
  (prop/for-all [m (gen/map (gen/one-of [gen/large-integer gen/keyword gen/string-alphanumeric]) value-gen {:max-elements 40})
                 probes (gen/vector (gen/one-of [gen/large-integer gen/keyword gen/string-alphanumeric]) 0 10)
                 ;; not-found is cast only when the key is absent, as (long (get m k nf)) does
                 nf (gen/one-of [gen/large-integer value-gen])]
    (let [sm (slab/share m)
          ks (concat (keys m) probes)
          ok (every? (fn [k] (= (outcome #(long (get m k nf))) (outcome #(slab/get-long sm k nf))))
                     ks)]
      (slab/release! sm)
      ok)))

(defspec nth-long-is-long-of-nth 200
  (prop/for-all [v (gen/vector value-gen 0 80)
                 extra (gen/vector gen/large-integer 0 5)]
    (let [sv (slab/share v)
          idx (concat (range (count v)) [-1 (count v) Integer/MAX_VALUE Long/MAX_VALUE Long/MIN_VALUE] extra)
          ;; past an int, nth's index cast throws, on both sides
          ok (every? (fn [i] (= (outcome #(long (nth v i)))
                                (outcome #(slab/nth-long sv i))))
                     idx)]
      (slab/release! sv)
      ok)))

(deftest vector-of-and-other-colls
  (doseq [t [:long :double :int :float :short :char :byte :boolean]
          :let [xs (case t
                     :char [\a \b \z] :boolean [true false]
                     (:double :float) [1.5 -2.75 1e10]
                     [1 -2 127])
                cv (apply vector-of t xs)
                sv (apply slab/vector-of t xs)]]
    (testing (str "vector-of " t)
      (doseq [i (range (count xs))]
        (is (= (outcome #(long (nth cv i))) (outcome #(slab/nth-long sv i)))))))
  (testing "a clojure.core map, vector and transient go through get and nth"
    (is (= 3 (slab/get-long {:a 3} :a 0)))
    (is (= -1 (slab/get-long {:a 3} :b -1)))
    (is (= 2 (slab/nth-long [1 2] 1)))
    (is (= 1 (slab/get-long (slab/hash-map :a 1) :a nil)) "a not-found that is no number is not cast when the key is there")
    (is (= 1 (slab/get-long (slab/hash-set 1) 1 "x")))
    (let [t (transient (slab/hash-map :a 9))]
      (is (= 9 (slab/get-long t :a 0))))))

(deftest released-and-big
  (let [m (slab/hash-map 1 2), v (slab/vector 1 2)]
    (slab/release! m)
    (slab/release! v)
    (is (thrown? IllegalStateException (slab/get-long m 1 0)))
    (is (thrown? IllegalStateException (slab/nth-long v 0))))
  (testing "a big map (lookups read ahead) and a deep vector"
    (let [n 50000
          m (slab/share (zipmap (range n) (map #(* 7 %) (range n))))
          v (slab/share (vec (range n)))]
      (is (every? #(= (* 7 %) (slab/get-long m % -1)) (range 0 n 97)))
      (is (= -1 (slab/get-long m n -1)))
      (is (every? #(= % (slab/nth-long v %)) (range 0 n 89)))
      (is (= (dec n) (slab/nth-long v (dec n))))
      (slab/release! m)
      (slab/release! v))))

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

(deftest a-stored-long-comes-back-unboxed
  (let [n 2000
        m (slab/share (zipmap (range n) (map #(+ 1000 (* 3 %)) (range n))))
        v (slab/share (vec (map #(+ 1000 %) (range n))))
        ks (object-array (range n))
        by-get (fn ^long [] (areduce ks i acc 0 (+ acc (slab/get-long m (aget ks i) -1))))
        by-nth (fn ^long [] (loop [i 0, acc 0] (if (< i n) (recur (inc i) (+ acc (slab/nth-long v i))) acc)))
        per (fn [f] (dotimes [_ 300] (f))
              (let [before (allocated-bytes)] (f) (/ (double (- (allocated-bytes) before)) n)))]
    (is (= (reduce + (map #(+ 1000 (* 3 %)) (range n))) (by-get)))
    (is (= (reduce + (map #(+ 1000 %) (range n))) (by-nth)))
    (is (< (per by-get) 1.0) "heap bytes per get-long")
    (is (< (per by-nth) 1.0) "heap bytes per nth-long")
    (slab/release! m)
    (slab/release! v)))
