(ns slab.map.leak-test
  "Proves that dropped map and set versions give all their memory back: a
  million versions built (persistent and transient, nested values) and
  dropped leave the segment's bytes in use at the baseline."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :refer [bytes-in-use settle!]])
  (:import (slab.mem Segment)
           (slab.ref Heap)))

(set! *warn-on-reflection* true)

(def ^:private ks (mapv #(keyword "k" (str %)) (range 64)))

(defn- value-for [^long i]
  (case (int (mod i 5))
    0 i
    1 (str "a string long enough to need a blob " i)
    2 {:nested i :name (str "nested-" i "-with-a-long-name") :tags #{:a :b i}}
    3 #{i (inc i) (str "s" i)}
    4 (ks (mod i 64))))

(defn- churn!
  "Builds and drops n versions of a map and of a set; returns nothing."
  [^long n]
  (let [base (persistent! (reduce (fn [m i] (assoc! m i (value-for i))) (transient (slab/hash-map)) (range 1000)))]
    (loop [m base, i 0]
      (when (< i n)
        (let [k (mod (* i 7919) 1500)
              m (cond
                  (zero? (mod i 97)) (persistent! (-> (transient m) (assoc! k (value-for i)) (dissoc! (inc k)) (assoc! (ks (mod i 64)) i)))
                  (even? i) (assoc m k (value-for i))
                  :else (dissoc m k))]
          (recur (if (zero? (mod i 10000)) base m) (inc i)))))
    (loop [s (slab/hash-set), i 0]
      (when (< i (quot n 10))
        (recur (if (odd? i) (conj s (value-for i)) (disj s (value-for (dec i)))) (inc i))))))

(deftest a-million-versions-leak-nothing
  (let [seg (Segment/anonymous (* 2048 1024 1024) 5 5)]
    (slab/with-segment seg
      (churn! 1000)                       ; interns the keywords used below, which are never freed
      (let [baseline (settle! seg -1)]
        (churn! 1000000)
        (is (== baseline (settle! seg baseline))
            "every block of every dropped version is freed")))
    (.close seg)))

(deftest release!-frees-at-once-and-is-safe-to-misuse
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)]
    (slab/with-segment seg
      (slab/hash-map :a 1 :b 2 :c 3)          ; interns the keywords used below (never freed)
      (let [baseline (settle! seg -1)
            m (slab/share {:a (str "long enough string " 1) :b {:c #{1 2 3}}})
            m2 (with-meta m {:x 1})]
        (is (> (bytes-in-use seg) baseline))
        (slab/release! m)
        (is (== baseline (bytes-in-use seg)) "release! gives the counts back without waiting for GC")
        (slab/release! m)
        (slab/release! m2)
        (is (== baseline (bytes-in-use seg)) "releasing twice is a no-op")
        (is (thrown-with-msg? IllegalStateException #"released" (get m :a)))
        (is (thrown-with-msg? IllegalStateException #"released" (count m2)) "a with-meta sibling shares the handle")
        (is (thrown-with-msg? IllegalStateException #"released" (seq m)))
        (is (thrown-with-msg? IllegalStateException #"released" (assoc m :z 1)))))
    (.close seg)))

(deftest an-iterator-keeps-its-version-alive
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)]
    (slab/with-segment seg
      (let [it (.iterator ^Iterable (slab/share (zipmap (range 1000) (map #(str "value number " %) (range 1000)))))]
        (dotimes [_ 5] (System/gc) (Thread/sleep 20))
        (is (= (set (map #(str "value number " %) (range 1000)))
               (set (map val (iterator-seq it)))))))
    (.close seg)))

(deftest a-closed-segment-refuses-reads
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        m (slab/with-segment seg (slab/hash-map :a 1))]
    (.close seg)
    (is (thrown-with-msg? IllegalStateException #"closed" (get m :a)))
    (is (thrown-with-msg? IllegalStateException #"closed"
                          (try @(future (count m))
                               (catch java.util.concurrent.ExecutionException e (throw (.getCause e)))))
        "from another thread too")))

(deftest a-nested-value-keeps-its-parent-version-alive
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)]
    (slab/with-segment seg
      (slab/hash-map :inner 1 :b 2)
      (let [baseline (settle! seg -1)
            inner (get (slab/share {:inner {:b (str "a string long enough for a blob " 42)}}) :inner)]
        (dotimes [_ 5] (System/gc) (Thread/sleep 20))
        (is (= {:b "a string long enough for a blob 42"} inner) "the outer map is unreachable, its nodes are not freed")
        (let [outer (slab/share {:inner {:b 2}})
              nested (:inner outer)]
          (slab/release! outer)
          (is (thrown-with-msg? IllegalStateException #"released" (get nested :b))
              "releasing the outer version makes the values read from it unusable, never dangling"))
        (is (== baseline (do (System/gc) (settle! seg baseline))))))
    (.close seg)))

(deftest equality-of-nested-values-makes-no-handles
  ;; = reads nested collections through the version that holds them: no count,
  ;; no Cleaner registration, nothing left for the GC to give back.
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        ownership (.ownership (Heap/of seg))]
    (slab/with-segment seg
      (let [twin (into {} (map (fn [i] [i {:n i :v [i (str "entry " i)] :s #{i}}])) (range 300))
            a (slab/share twin)
            b (slab/share twin)                                    ; same values, separate nodes
            c2 (assoc a 7 {:n 7 :v [7 "changed"] :s #{7}})
            d (assoc a 7 {:n 7 :v '(7 "entry 7") :s #{7}})
            made (.handlesMade ownership)]
        (is (= a twin) "shared against on-heap")
        (is (= twin a) "on-heap against shared")
        (is (.equals ^Object a twin) "Java equals")
        (is (= a b) "two shared versions whose nested values are separate nodes")
        (is (not= a c2) "a nested difference is found")
        (is (= d a) "a nested list = a nested vector")
        (is (== made (.handlesMade ownership)) "and none of it made a handle")))
    (.close seg)))
