(ns slab.map.layout-test
  "persistent! lays the nodes a transient made, and the small nested maps
  and sets only it holds, out in the order a walk reads them (MapLayout):
  a walk then reads memory front to back instead of in the order the
  entries were added. Only blocks nothing else can name may move."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as tu])
  (:import (slab.mem Allocator Segment)
           (slab.ref Handle SharedColl)))

(set! *warn-on-reflection* true)

(defn- node-of ^long [x] (.node ^Handle (.slabHandle ^SharedColl x)))

(defn- walk-offsets
  "The root node offsets of the nested collections of m, in reduce-kv order (keys, then values)."
  [m]
  (persistent! (reduce-kv (fn [acc k v]
                            (cond-> acc
                              (instance? SharedColl k) (conj! (node-of k))
                              (instance? SharedColl v) (conj! (node-of v))))
                          (transient []) m)))

(defn- ascending-share
  "The share of neighbours in offsets that go up in memory."
  ^double [offsets]
  (/ (double (count (filter true? (map < offsets (rest offsets))))) (max 1 (dec (count offsets)))))

(defn- build [empty f n]
  (persistent! (reduce (fn [t i] (f t i)) (transient empty) (range n))))

(deftest nested-maps-follow-the-walk
  (let [seg (tu/anonymous (* 256 tu/MiB))]
    (slab/with-segment seg
      (let [n 20000
            m (build (slab/hash-map) (fn [t i] (assoc! t i {:id i :n (* 3 i)})) n)
            sets (build (slab/hash-map) (fn [t i] (assoc! t (str "k" i) #{i (str i)})) n)
            keyed (build (slab/hash-set) (fn [t i] (conj! t {:k i})) n)]
        (testing "they read as built"
          (is (= (into {} (map (fn [i] [i {:id i :n (* 3 i)}])) (range n)) m))
          (is (= (into {} (map (fn [i] [(str "k" i) #{i (str i)}])) (range n)) sets))
          (is (= (into #{} (map (fn [i] {:k i})) (range n)) keyed)))
        ;; in build order (hashed keys) about half the neighbours would go up
        (testing "a walk meets their nodes in ascending memory"
          (is (< 0.95 (ascending-share (walk-offsets m))))
          (is (< 0.95 (ascending-share (walk-offsets sets))))
          (is (< 0.95 (ascending-share (persistent! (reduce (fn [acc k] (conj! acc (node-of k))) (transient []) keyed))))))
        (is (empty? (:damage (slab/verify seg))))))))

(deftest what-others-can-name-stays-put
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [shared (slab/hash-map :shared 1)
            t (reduce (fn [t i] (assoc! t i (if (even? i) shared {:own i}))) (transient (slab/hash-map)) (range 2000))
            held (get t 7)                      ; a handle the user holds on a nested map
            held-node (node-of held)
            m (persistent! t)]
        (testing "a nested map also held elsewhere keeps its place"
          (is (= (node-of shared) (node-of (get m 0)) (node-of (get m 1998))))
          (is (= held-node (node-of held) (node-of (get m 7)))))
        (testing "and everything reads as built"
          (is (= {:own 7} held))
          (is (= (into {} (map (fn [i] [i (if (even? i) {:shared 1} {:own i})])) (range 2000)) m)))
        (is (empty? (:damage (slab/verify seg))))))))

(deftest laying-out-gives-every-byte-back
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [warm (slab/hash-map :a {:b #{:c}})   ; keywords stay interned once stored
            before (tu/bytes-in-use seg)]
        (dotimes [round 20]
          (let [m (build (slab/hash-map) (fn [t i] (assoc! t i {:a i :b #{:c round}})) 500)]
            (is (= {:a 9 :b #{:c round}} (get m 9)))
            (slab/release! m)))
        (is (= before (tu/settle! seg before)) "every moved-from block and every version given back")
        (is (= {:b #{:c}} (:a warm)))
        (is (empty? (:damage (slab/verify seg))))))))

(deftest a-full-segment-leaves-the-layout-as-built
  (let [seg (tu/anonymous (* 16 tu/MiB))
        a (.allocator ^Segment seg)]
    (tu/quiet-pressure! a)
    (slab/with-segment seg
      (let [n 3000
            t (reduce (fn [t i] (assoc! t i {:id i})) (transient (slab/hash-map)) (range n))
            ;; no room left for a single move: persistent! must still end the edit
            fillers (loop [acc []]
                      (let [off (.allocateIfRoom ^Allocator a 16 0)]
                        (if (zero? off) acc (recur (conj acc off)))))
            m (persistent! t)]
        (is (seq fillers))
        (is (= (into {} (map (fn [i] [i {:id i}])) (range n)) m))
        (doseq [off fillers] (.free ^Allocator a (long off)))
        (is (= {:id 5} (get (assoc m 5 {:id 5}) 5)) "the segment works on once room is back")
        (is (empty? (:damage (slab/verify seg))))))))
