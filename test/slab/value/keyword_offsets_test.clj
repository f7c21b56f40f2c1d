(ns slab.value.keyword-offsets-test
  "Proves that lookups and updates of keyword keys give clojure.core's
  answers both when this process knows a keyword's interned offset (it
  interned or found it, so a probe compares offsets) and when it does not (a
  fresh opening of the file, where a probe compares the stored keyword
  itself), beside symbols and strings of the same names, and while other
  threads intern thousands of new keywords."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as tu])
  (:import (slab.ref Heap)))

(set! *warn-on-reflection* true)

(def ^:private n 3000)   ; past the first growths of the keyword table (1,024 slots, half full)

(def ^:private expected
  (merge (into {} (map (fn [i] [(keyword (str "k" i)) i])) (range n))
         (into {} (map (fn [i] [(keyword "ns" (str "k" i)) (- i)])) (range 0 n 10))
         (into {} (map (fn [i] [(symbol (str "k" i)) (str "sym " i)])) (range 0 n 7))
         (into {} (map (fn [i] [(str "k" i) [:str i]])) (range 0 n 11))))

(def ^:private probes
  (concat (keys expected)
          [:k-1 :never-stored-anywhere :ns/never (keyword "k" "0") 'never-a-symbol "never" nil 0]))

(defn- answers [m]
  (mapv (fn [k] [(get m k ::none) (contains? m k) (find m k)]) probes))

(defn- updated [m]
  (as-> m m
    (reduce (fn [m i] (assoc m (keyword (str "k" i)) :replaced)) m (range 0 n 13))
    (reduce (fn [m i] (dissoc m (keyword (str "k" i)))) m (range 5 n 17))
    (assoc m :k-new 1 'k1 :symbol-replaced)))

(defn- built-by-transient [m]
  (as-> (transient m) t
    (reduce (fn [t i] (assoc! t (keyword (str "k" i)) :t)) t (range 0 n 3))
    (reduce (fn [t i] (dissoc! t (keyword "ns" (str "k" i)))) t (range 0 n 20))
    (persistent! t)))

(defn- same-as-core? [m]
  (and (= (answers expected) (answers m))
       (= (updated expected) (updated m))
       (= (built-by-transient expected) (built-by-transient m))))

(deftest keyword-keys-are-found-with-and-without-their-offsets-known
  (tu/with-temp-dir [dir "keyword-offsets"]
    (let [p (.resolve dir "k.slab")]
      (let [seg (slab/open-segment p {:capacity "64m"})]
        (try
          (slab/set-root! seg :m expected)
          (testing "in the process that interned every key: probes compare offsets"
            (is (same-as-core? (slab/root seg :m))))
          (finally (slab/close-segment! seg))))
      (let [seg (slab/open-segment p)
            m (slab/root seg :m)]
        (try
          (testing "reopened: no keyword's offset is known until it is interned or found again"
            (is (= (answers expected) (answers m))))
          (testing "some keys interned again (by the updates), the others still unknown"
            (is (same-as-core? m))
            (is (= (answers expected) (answers m))))
          (finally (slab/close-segment! seg)))))))

(deftest keyword-lookups-stay-right-while-other-threads-intern
  (let [seg (tu/anonymous (* 64 1024 1024))
        m (slab/share expected {:segment seg})
        stop (atom false)
        interners (doall (for [t (range 3)]
                           (future
                             (loop [i 0 acc (slab/with-segment seg (slab/hash-map))]
                               (if (or @stop (= i 20000))
                                 (count acc)
                                 ;; new keywords grow the table that the reader probes
                                 (recur (inc i) (assoc acc (keyword (str "t" t "-" i)) i)))))))
        wrong (future
                (loop [rounds 0 wrong 0]
                  (if (or (= rounds 30) (and @stop (pos? rounds)))
                    [rounds wrong]
                    (recur (inc rounds)
                           (+ wrong (count (remove true? (map (fn [k] (= (get expected k ::none) (get m k ::none)))
                                                               probes))))))))]
    (let [[rounds bad] @wrong]
      (reset! stop true)
      (is (every? pos? (map deref interners)))
      (is (pos? rounds))
      (is (zero? bad) "every lookup gave clojure.core's answer"))))

(deftest walks-over-many-distinct-keywords-give-clojure-cores-answers
  ;; past 65,536 decoded keywords a walk reads the decode table ahead (Interner/warm)
  (let [seg (tu/anonymous (* 128 1024 1024))
        expected (into {} (map (fn [i] [(keyword (str "w" i)) i])) (range 70000))
        m (slab/share expected {:segment seg})
        pairs (fn [m] (reduce-kv (fn [acc k v] (conj acc [k v])) [] m))]
    (dotimes [_ 2]                                       ; the second time, with the table grown
      (is (= (pairs expected) (pairs m)) "reduce-kv, in clojure.core's order")
      (is (= (seq expected) (seq m)) "seq")
      (is (= (keys expected) (keys m)) "keys")
      (is (= (reduce + (vals expected)) (reduce + (vals m))) "vals"))
    (is (.worthWarming (.interner (Heap/of seg))) "the walk read the table ahead")))
