;; Proves a slab map's keySet, values and entrySet are views as APersistentMap's are: same contents, sizes and membership as the clojure.core twin's, nothing copied, and immutable.
(ns slab.map.java-views-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab])
  (:import (java.util Map Map$Entry AbstractMap$SimpleEntry)))

(set! *warn-on-reflection* true)

(deftest views-match-clojure-core
  (doseq [n [0 1 7 100 5000]]
    (let [c (into {} (map (fn [i] [i (str "v" (mod i 13))])) (range n))
          ^Map s (slab/share c)
          ^Map c c]
      (testing (str n " entries")
        (is (= (.size (.keySet c)) (.size (.keySet s))))
        (is (= (set (.keySet c)) (set (.keySet s))))
        (is (= (.keySet c) (.keySet s)))
        (is (= (.hashCode (.keySet c)) (.hashCode (.keySet s))))
        (is (= (.size (.values c)) (.size (.values s))))
        (is (= (frequencies (.values c)) (frequencies (.values s))))
        (is (= (.entrySet c) (.entrySet s)))
        (is (= (.hashCode (.entrySet c)) (.hashCode (.entrySet s))))
        (doseq [k [0 1 (dec n) n -1 "0" nil]]
          (is (= (.contains (.keySet c) k) (.contains (.keySet s) k)) (pr-str k))
          (is (= (.contains (.entrySet c) (AbstractMap$SimpleEntry. k (str "v" (mod (long (or (and (number? k) k) 0)) 13))))
                 (.contains (.entrySet s) (AbstractMap$SimpleEntry. k (str "v" (mod (long (or (and (number? k) k) 0)) 13)))))
              (pr-str k)))
        (doseq [v ["v0" "v12" "v13" nil]]
          (is (= (.contains (.values c) v) (.contains (.values s) v)))
          (is (= (.containsValue c v) (.containsValue s v))))))))

(deftest contains-value-uses-java-equals-as-clojure-core
  (let [^Map s (slab/hash-map :a 1)
        ^Map c (hash-map :a 1)]
    (is (= (.containsValue c (int 1)) (.containsValue s (int 1))))
    (is (= (.containsValue c 1) (.containsValue s 1)))))

(deftest views-are-views
  (let [^Map s (slab/share (zipmap (range 100000) (range)))]
    (testing "membership is a lookup: it works without walking (and is true for a key in a 100k map)"
      (is (.contains (.keySet s) 99999))
      (is (.contains (.entrySet s) (first (seq {99999 99999})))))
    (testing "making a view copies nothing: well under a KiB allocated for a 100k-entry map"
      (let [^com.sun.management.ThreadMXBean mx (java.lang.management.ManagementFactory/getThreadMXBean)
            tid (.getId (Thread/currentThread))
            allocated (fn [f] (let [b (.getThreadAllocatedBytes mx tid)] (f) (- (.getThreadAllocatedBytes mx tid) b)))]
        (dotimes [_ 3] (.keySet s) (.values s) (.entrySet s))   ; load and link the classes first
        (is (< (allocated #(.size (.keySet s))) 1024))
        (is (< (allocated #(.size (.values s))) 1024))
        (is (< (allocated #(.size (.entrySet s))) 1024))))
    (testing "the views are immutable"
      (is (thrown? UnsupportedOperationException (.add (.keySet s) 1)))
      (is (thrown? UnsupportedOperationException (.clear (.values s))))
      (is (thrown? UnsupportedOperationException (.remove (.iterator (.entrySet s))))))
    (testing "iteration gives map entries whose keys are the map's"
      (is (every? #(instance? Map$Entry %) (.entrySet s)))
      (is (= (set (range 100000)) (set (map #(.getKey ^Map$Entry %) (.entrySet s))))))))
