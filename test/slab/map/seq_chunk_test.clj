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

(defn- in-thread
  "What f returns on a thread with a stack of the given bytes, or [:threw class]."
  [^long stack f]
  (let [p (promise)
        t (Thread. nil ^Runnable (fn [] (deliver p (try (f) (catch Throwable e [:threw (class e)])))) "seq-test" stack)]
    (.start t)
    @p))

(deftest a-seq-whose-chunk-failed-fails-again
  (testing "walked again after a read that failed part-way, the seq fails alike instead of skipping elements"
    (let [deep (loop [x () i 0] (if (= i 3000) x (recur (list x) (inc i))))
          d (into {} (map (fn [i] [i (if (= i 40) deep i)])) (range 100))
          big (bit-shift-left 1 30)
          m (in-thread big #(slab/share d))
          s (seq m)]
      (is (not= 40 (key (first s))) "the failing entry lies past the seq's head")
      (is (= [:threw StackOverflowError] (in-thread (* 256 1024) #(count (vec s)))))
      (is (= [:threw StackOverflowError] (in-thread big #(count (vec s)))))
      (is (= 100 (in-thread big #(count (vec (seq m))))) "a fresh seq reads every entry"))))

(deftest seqs-serialize-as-lists-of-their-elements
  (let [round-trip (fn [x]
                     (let [bo (java.io.ByteArrayOutputStream.)]
                       (with-open [o (java.io.ObjectOutputStream. bo)] (.writeObject o x))
                       (with-open [i (java.io.ObjectInputStream. (java.io.ByteArrayInputStream. (.toByteArray bo)))]
                         (.readObject i))))]
    (doseq [x [(slab/share (zipmap (range 100) (map str (range 100)))) (slab/share (set (range 70)))
               (slab/share {1 2}) (slab/vec (range 100)) (slab/vector-of :double 1.5 2.5)]]
      (is (= (seq x) (round-trip (seq x))))
      (is (= (next (seq x)) (round-trip (next (seq x))))))))
