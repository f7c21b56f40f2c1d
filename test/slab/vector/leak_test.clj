;; Proves: every node, blob and nested collection a vector version holds is freed once no version needs it.
(ns slab.vector.leak-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core]
            [slab.vector :as sv]
            [slab.support.util :refer [bytes-in-use settle!]])
  (:import (java.util Random)
           (slab.ref Handle Heap SharedColl)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defn- release! [v] (.release ^Handle (.slabHandle ^SharedColl v)))

(def ^:private keywords [:a :b :c :ns/d])

(defn- value
  "A value of a kind chosen by rnd: longs, short and long strings, keywords,
  doubles, nil, nested plain vectors and lists, and shared vectors."
  [^Random rnd c shared]
  (case (.nextInt rnd 9)
    0 (.nextLong rnd)
    1 (str "s" (.nextInt rnd 1000))
    2 (str "a string longer than eight chars " (.nextInt rnd 1000))
    3 (keywords (.nextInt rnd 4))
    4 (.nextDouble rnd)
    5 nil
    6 [(.nextInt rnd 10) "another long string, nested"]
    7 (list 1 (str "listed long string " (.nextInt rnd 9)))
    8 shared))

(defn- warm-up!
  "Interns the keywords (never freed) and allocates the intern table, so the
  baseline taken after it is what an empty segment settles to."
  [c]
  (release! (sv/vec-in c keywords)))

(deftest explicit-release-returns-every-byte
  ;; No GC involved: releasing every version by hand must give back exactly what was allocated.
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 2)
        c (Heap/of seg)
        _ (warm-up! c)
        base (bytes-in-use seg)
        rnd (Random. 42)
        shared (sv/vec-in c (range 50))
        versions (loop [v (sv/vector-in c), acc [], i 0]
                   (if (= i 5000)
                     acc
                     (let [n (count v)
                           v' (case (.nextInt rnd 5)
                                (0 1) (conj v (value rnd c shared))
                                2 (if (pos? n) (assoc v (.nextInt rnd n) (value rnd c shared)) v)
                                3 (if (pos? n) (pop v) v)
                                4 (let [t (transient v)]
                                    (dotimes [_ (.nextInt rnd 20)] (conj! t (value rnd c shared)))
                                    (when (pos? (count t)) (assoc! t (.nextInt rnd (count t)) (value rnd c shared)))
                                    (when (pos? (count t)) (pop! t))
                                    (persistent! t)))]
                       (recur v' (conj acc v') (inc i)))))]
    (is (> (bytes-in-use seg) base))
    (run! release! versions)
    (release! shared)
    (is (= base (bytes-in-use seg)))))

(deftest a-million-versions-leave-nothing
  (let [seg (Segment/anonymous (* 256 1024 1024) 5 5)
        c (Heap/of seg)
        _ (warm-up! c)
        base (bytes-in-use seg)
        rnd (Random. 7)]
    (testing "persistent updates"
      (let [shared (sv/vec-in c (range 100))]
        (loop [v (sv/vec-in c (range 1000)), i 0]
          (when (< i 500000)
            (let [n (count v)]
              (recur (case (.nextInt rnd 4)
                       0 (conj v (value rnd c shared))
                       1 (assoc v (.nextInt rnd n) (value rnd c shared))
                       2 (if (> n 1) (pop v) v)
                       3 (conj (pop v) (.nextLong rnd)))
                     (inc i)))))))
    (testing "transients, some dropped without persistent!"
      (loop [v (sv/vec-in c (range 40)), i 0]
        (when (< i 300000)
          (let [t (transient v)]
            (conj! t (value rnd c nil))
            (assoc! t (.nextInt rnd (count t)) (value rnd c nil))
            (when (> (count t) 50) (pop! t) (pop! t))
            (recur (if (zero? (.nextInt rnd 5)) v (persistent! t)) (inc i))))))
    (testing "nested shared vectors and bulk builds"
      (loop [outer (sv/vector-in c), i 0]
        (when (< i 200000)
          (let [inner (sv/vec-in c [i (str "nested long string " i) [i]])]
            (recur (if (> (count outer) 64) (sv/vector-in c inner) (conj outer inner)) (inc i))))))
    (is (= base (settle! seg base)))))

(deftest a-nested-value-borrows-its-parent-version
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        c (Heap/of seg)
        _ (warm-up! c)
        base (bytes-in-use seg)
        made #(.handlesMade (.ownership c))]
    (let [outer (sv/vec-in c (mapv (fn [i] {:a i :b [i (str "a long string in a nested vector " i)]}) (range 100)))
          before (made)
          ms (vec (seq outer))
          firsts (mapv #(nth outer %) (range 100))
          summed (reduce (fn [acc m] (+ acc (:a m))) 0 outer)]
      (is (== before (made)) "seq, nth and reduce read nested maps without a handle of their own each")
      (is (= (mapv (fn [i] {:a i :b [i (str "a long string in a nested vector " i)]}) (range 100)) ms firsts))
      (is (== 4950 summed))
      (let [held (nth outer 7)]
        (dotimes [_ 5] (System/gc) (Thread/sleep 20))
        (is (= [7 "a long string in a nested vector 7"] (:b held)) "a nested value keeps the outer version alive")
        (release! outer)
        (is (thrown-with-msg? IllegalStateException #"released" (count (:b held)))
            "releasing the outer version makes the values read from it unusable, never dangling")))
    (is (= base (settle! seg base)))
    (.close seg)))

(deftest vector-of-versions-leave-nothing
  ;; Every element type, on 2-bit tries (deep, many branches over primitive leaves).
  (let [seg (Segment/anonymous (* 128 1024 1024) 5 2)
        c (Heap/of seg)
        _ (warm-up! c)
        base (bytes-in-use seg)
        rnd (Random. 11)]
    (doseq [t [:long :double :int :float :short :char :byte :boolean]
            :let [x (fn [] (case t :char (char (+ 97 (.nextInt rnd 26))) :boolean (.nextBoolean rnd) (.nextInt rnd 100)))]]
      (testing (str t ": explicit release returns every byte")
        ;; the previous type's dropped versions go back through the Cleaner: wait for them first,
        ;; or they are freed while this type measures
        (let [before (settle! seg base)
              init (sv/vector-of-in c t (repeatedly 10 x))
              versions (loop [v init, acc [init], i 0]
                         (if (= i 3000)
                           acc
                           (let [n (count v)
                                 v' (case (.nextInt rnd 5)
                                      (0 1) (conj v (x))
                                      2 (if (pos? n) (assoc v (.nextInt rnd n) (x)) v)
                                      3 (if (pos? n) (pop v) v)
                                      4 (let [tv (transient v)]
                                          (dotimes [_ (.nextInt rnd 20)] (conj! tv (x)))
                                          (when (pos? (count tv)) (assoc! tv (.nextInt rnd (count tv)) (x)))
                                          (when (pos? (count tv)) (pop! tv))
                                          (persistent! tv)))]
                             (recur v' (conj acc v') (inc i)))))]
          (is (> (bytes-in-use seg) before))
          (run! release! versions)
          (is (= before (bytes-in-use seg)))))
      (testing (str t ": dropped versions, nested copies and refused elements")
        (loop [v (sv/vector-of-in c t (repeatedly 100 x)), i 0]
          (when (< i 20000)
            (let [n (count v)]
              (recur (case (.nextInt rnd 6)
                       0 (conj v (x))
                       1 (assoc v (.nextInt rnd n) (x))
                       2 (if (> n 1) (pop v) v)
                       3 (let [tv (transient v)] (conj! tv (x)) (if (zero? (.nextInt rnd 3)) v (persistent! tv)))
                       4 (do (sv/vector-in c v (apply vector-of t (take 40 v))) v)   ; stored by reference, and converted
                       5 (do (try (conj v (if (= t :boolean) (x) "not a number")) (catch Exception _)) v))
                     (inc i)))))))
    (is (= base (settle! seg base)))))
