(ns slab.map.seq-chunk-test
  "Proves that the seq of a map or set hands out its elements as
  clojure.core's chunked seqs do and decodes a value other than a long
  once (EntryChunk, MapSeq)."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab])
  (:import (clojure.lang ArrayChunk IChunk)))

(set! *warn-on-reflection* true)

(defmacro ^:private thrown
  "The class of what body throws, or :none."
  [& body]
  `(try ~@body :none (catch Throwable e# (class e#))))

(defn- check-chunks
  "Each chunk of (seq x) against clojure.core's ArrayChunk over the same elements."
  [x]
  (let [expected (vec (seq x))]
    (loop [a (seq x), at 0]
      (if (nil? a)
        (is (= at (count x)))
        (let [ca (chunk-first a)
              cb (ArrayChunk. (object-array (subvec expected at (+ at (count ca)))))]
          (is (pos? (count ca)))
          (is (= (vec (for [i (range (count cb))] (nth cb i))) (vec (for [i (range (count ca))] (nth ca i)))))
          (is (= (thrown (nth cb (count cb))) (thrown (nth ca (count ca)))))
          (is (= (thrown (nth cb -1)) (thrown (nth ca -1))))
          (is (= ::none (nth ca (count ca) ::none) (nth ca -1 ::none)))
          (is (= (.reduce cb conj []) (.reduce ^IChunk ca conj [])))
          (let [r (.reduce ^IChunk ca (fn [_ x] (reduced [x])) nil)]
            (is (and (reduced? r) (= [(nth ca 0)] @r))))
          (let [da (nth (iterate #(.dropFirst ^IChunk %) ca) (count ca))]
            (is (zero? (count da)))
            (is (= IllegalStateException (thrown (.dropFirst ^IChunk da)))))
          (recur (chunk-next a) (+ at (count ca))))))))

(deftest chunks-read-as-clojure-core's
  (let [m {1 2, -5 "a string longer than eight", nil :nil-key, "k" [1 2], :kw {:a 1}, 3.5 nil, 7 -1000000}
        big (into {} (map (fn [i] [i (if (even? i) (* 3 i) (str "v" i))]) (range 1000 1300)))]
    (doseq [x [(slab/share m) (slab/share big) (slab/share (set (keys big))) (slab/share #{nil 1 "a"})]]
      (check-chunks x)
      (is (= (seq x) (seq (if (map? x) (into {} x) (into #{} x)))) "walk order as clojure.core's"))
    (testing "keys and vals"
      (let [s (slab/share big)]
        (is (= (keys big) (keys s)))
        (is (= (vals big) (vals s)))))
    (testing "the head decodes one element: a seq tested for emptiness reads no more"
      (is (= 1 (count (chunk-first (seq (slab/share big)))))))
    (testing "a value other than a long is decoded once: every read of it is the same object"
      (let [q (seq (slab/share big))
            strs (filter #(string? (val %)) (take 64 q))]
        (is (seq strs))
        (is (every? true? (map #(identical? (val %1) (val %2)) strs (filter #(string? (val %)) (take 64 q)))))))))
