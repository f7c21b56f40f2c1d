;; Proves: threads deriving versions from one shared vector never change what other threads read, and leak nothing.
(ns slab.vector.concurrency-test
  (:require [clojure.test :refer [deftest is]]
            [slab.vector :as sv]
            [slab.support.util :refer [bytes-in-use settle!]])
  (:import (java.util Random)
           (slab.ref Handle Heap Ownership SharedColl)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defn- model-value [^long i]
  (case (int (mod i 4))
    0 i
    1 (str "element number " i " (a blob)")
    2 [i (str i)]
    3 (keyword (str "k" (mod i 7)))))

(defn- worker
  "Derives versions from `shared` (persistent and transient), checking each
  against a clojure.core twin, and re-reads `shared` between steps."
  [shared model seed]
  (let [rnd (Random. seed)
        n (count model)]
    (loop [mine shared, twin model, i 0]
      (when (< i 3000)
        (let [k (.nextInt rnd n)]
          (when-not (= (nth shared k) (nth model k))
            (throw (ex-info "shared version changed under a reader" {:index k}))))
        (when (zero? (mod i 500))
          (when-not (and (= shared model) (= (hash shared) (hash model)))
            (throw (ex-info "shared version changed under a reader" {:step i}))))
        (let [x (model-value (.nextInt rnd 1000))
              j (.nextInt rnd (count twin))
              [mine twin] (case (.nextInt rnd 4)
                            0 [(conj mine x) (conj twin x)]
                            1 [(assoc mine j x) (assoc twin j x)]
                            2 (if (> (count twin) 1) [(pop mine) (pop twin)] [mine twin])
                            3 [(persistent! (-> (transient mine) (conj! x) (assoc! j x)))
                               (persistent! (-> (transient twin) (conj! x) (assoc! j x)))])]
          (when (zero? (mod i 100))
            (when-not (= mine twin)
              (throw (ex-info "derived version differs from its twin" {:step i}))))
          ;; Restart from the shared version now and then, so threads keep copying shared nodes.
          (if (zero? (.nextInt rnd 50))
            (recur shared model (inc i))
            (recur mine twin (inc i))))))
    true))

(deftest threads-share-one-version
  (let [seg (Segment/anonymous (* 256 1024 1024) 5 3)
        c (Heap/of seg)
        ^Ownership ownership (.ownership c)
        _ (.release ^Handle (.slabHandle ^SharedColl (sv/vec-in c (map model-value (range 28)))))   ; interns keywords
        base (bytes-in-use seg)
        failures (.cleanupFailures ownership)
        model (mapv model-value (range 5000))]
    (let [shared (sv/vec-in c model)
          hash-before (hash shared)
          results (doall (for [t (range 4)] (future (worker shared model t))))]
      (is (every? true? (map deref results)))
      (is (= model shared))
      (is (= hash-before (hash model))))
    (is (= base (settle! seg base)))
    (is (== failures (.cleanupFailures ownership)) "every dropped version gave its counts back without an error")))

(deftest readers-of-an-atom-see-whole-versions
  ;; One writer swaps new versions into an atom; readers check each version they see is internally consistent.
  (let [seg (Segment/anonymous (* 256 1024 1024) 5 5)
        c (Heap/of seg)
        base (bytes-in-use seg)
        a (atom (sv/vector-in c))
        done (promise)
        reader (fn []
                 (loop [seen 0]
                   (if (realized? done)
                     seen
                     (let [v @a, n (count v)]
                       ;; element i of every version is i: any torn or freed node shows up here
                       (when-not (= (reduce + v) (quot (* n (dec n)) 2))
                         (throw (ex-info "a version read inconsistently" {:count n})))
                       (when (pos? n)
                         (when-not (= (dec n) (peek v) (nth v (dec n)))
                           (throw (ex-info "a version read inconsistently" {:count n}))))
                       (recur (inc seen))))))
        readers (doall (repeatedly 3 #(future (reader))))]
    (dotimes [i 20000]
      (if (and (pos? (count @a)) (zero? (mod i 7)))
        (swap! a pop)
        (swap! a #(conj % (count %)))))
    (deliver done true)
    (is (every? pos? (map deref readers)))
    (reset! a nil)
    (is (= base (settle! seg base)))))
