;; Proves freed memory serves any size later: a segment filled with small blocks and emptied takes large ones and vice versa, and random churn with live data under half the capacity never fails an allocation.
(ns slab.mem.fragmentation-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u :refer [temp-path]])
  (:import (java.util ArrayList SplittableRandom TreeMap)
           (slab.mem Allocator Segment SizeClasses)))

(set! *warn-on-reflection* true)

(defn- in-use ^long [seg] (u/bytes-in-use seg))

(deftest small-blocks-freed-serve-large-ones
  (let [seg (slab/open-segment (temp-path "frag-small") {:capacity (* 64 u/MiB)})]
    (try
      (slab/release! (slab/with-segment seg (slab/hash-map :big 1)))   ; interns :big (never freed)
      (let [base (in-use seg)
            v (slab/with-segment seg (slab/vec (map #(str "short string number " %) (range 800000))))]
        (is (> (in-use seg) (* 40 u/MiB)) "the vector fills most of the segment")
        (slab/release! v)
        (is (= base (in-use seg)))
        (testing "one 8 MiB string"
          (let [s (apply str (repeat (* 8 u/MiB) \x))
                m (slab/with-segment seg (slab/hash-map :big s))]
            (is (= (count s) (count (:big m))))
            (slab/release! m)))
        (testing "a 300,000-entry map"
          (let [m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i (str "v" i)])) (range 300000))))]
            (is (= 300000 (count m)))
            (is (= "v299999" (get m 299999)))
            (slab/release! m)))
        (is (= base (in-use seg)))
        (is (map? (u/audit seg nil nil))))
      (finally (slab/close-segment! seg)))))

(deftest large-blocks-freed-serve-small-ones
  (let [seg (slab/open-segment (temp-path "frag-large") {:capacity (* 64 u/MiB)})]
    (try
      (slab/release! (slab/with-segment seg (slab/hash-map :s 1)))   ; interns :s (never freed)
      (let [base (in-use seg)
            v (slab/with-segment seg (slab/vec (map #(apply str (repeat (+ 100000 (* 1500 %)) (char (+ 65 (mod % 26))))) (range 180))))]
        (is (> (in-use seg) (* 40 u/MiB)) "the strings fill most of the segment")
        (slab/release! v)
        (is (= base (in-use seg)))
        (testing "hundreds of thousands of small nodes and strings"
          (let [m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i {:s (str "s" i)}])) (range 250000))))]
            (is (= 250000 (count m)))
            (is (= {:s "s12345"} (get m 12345)))
            (slab/release! m)))
        (is (= base (in-use seg)))
        (is (map? (u/audit seg nil nil))))
      (finally (slab/close-segment! seg)))))

;; --- random churn against a model ----------------------------------------------------------------

(defn- log-uniform-size
  "A payload between 8 bytes and max-bytes, uniform in log2 (so every size class is hit)."
  ^long [^SplittableRandom rnd ^long max-bytes]
  (let [lo (Math/log 8.0) hi (Math/log (double max-bytes))]
    (long (Math/exp (+ lo (* (.nextDouble rnd) (- hi lo)))))))

(defn churn!
  "steps random allocations and frees on seg's allocator, keeping the live
  bytes (block sizes) under budget by freeing random blocks first. Returns
  {:failures [...] :live [[off size] ...] :max-live bytes :largest size}."
  [^Segment seg steps seed budget max-bytes]
  (let [steps (long steps) budget (long budget) max-bytes (long max-bytes)
        a (.allocator seg)
        rnd (SplittableRandom. (long seed))
        live (ArrayList.)
        total (long-array 1)
        failures (ArrayList.)
        drop! (fn [i]
                (let [[off size] (.get live (int i))
                      last-i (dec (.size live))]
                  (.set live (int i) (.get live last-i))
                  (.remove live (int last-i))
                  (.free a (long off))
                  (aset total 0 (- (aget total 0) (long size)))))]
    (loop [step 0 max-live 0 largest 0]
      (if (= step steps)
        {:failures (vec failures) :live (vec live) :max-live max-live :largest largest}
        (let [n (log-uniform-size rnd max-bytes)
              size (SizeClasses/sizeOf (SizeClasses/classFor (+ n 8)))]
          (while (and (pos? (.size live)) (> (+ (aget total 0) size) budget))
            (drop! (.nextInt rnd (.size live))))
          (when (and (pos? (.size live)) (< (.nextDouble rnd) 0.3))
            (drop! (.nextInt rnd (.size live))))
          (let [r (u/error-of #(.allocateIfRoom a n 0))
                off (long (or (:value r) 0))]
            (if (pos? off)
              (do (.add live [off size])
                  (aset total 0 (+ (aget total 0) size)))
              (.add failures {:step step :payload n :live-bytes (aget total 0) :error (:error r)}))
            (recur (inc step) (max max-live (aget total 0)) (max largest n))))))))

(deftest churn-under-half-the-capacity-never-fails
  (testing "one thread, sizes from 8 bytes to 16 MiB, live data at most half of 256 MiB"
    (with-open [s (u/anonymous (* 256 u/MiB))]
      (let [a (.allocator s)
            base (.bytesInUse (.stats a))
            r (churn! s 20000 42 (* 128 u/MiB) (* 16 u/MiB))]
        (println (format "churn: %d live blocks, peak live %.1f MiB, largest request %.1f MiB, %d failures"
                         (count (:live r)) (/ (:max-live r) 1048576.0) (/ (:largest r) 1048576.0)
                         (count (:failures r))))
        (is (empty? (:failures r)) (pr-str (take 3 (:failures r))))
        (is (= (+ base (reduce + (map second (:live r)))) (.bytesInUse (.stats a))) "every byte accounted for")
        (is (map? (u/audit s (:live r) nil)) "no block overlaps another; every live block is one handed out")
        (doseq [[off] (:live r)] (.free a (long off)))
        (is (= base (.bytesInUse (.stats a)))))))
  (testing "two threads churning one segment, each under a quarter of it"
    (with-open [s (u/anonymous (* 256 u/MiB))]
      (let [a (.allocator s)
            base (.bytesInUse (.stats a))
            fs (mapv #(future (churn! s 15000 % (* 64 u/MiB) (* 8 u/MiB))) [1 2])
            rs (mapv deref fs)
            live (mapcat :live rs)]
        (is (every? empty? (map :failures rs)) (pr-str (map #(take 2 (:failures %)) rs)))
        (is (= (+ base (reduce + (map second live))) (.bytesInUse (.stats a))))
        (is (map? (u/audit s live nil)))
        (doseq [[off] live] (.free a (long off)))
        (is (= base (.bytesInUse (.stats a))))))))

;; --- another process's frees ---------------------------------------------------------------------

(defn hoarding-child
  "Run in a child JVM: fills 3/4 of the segment at path with 64-byte blocks,
  writes their offsets to offs-file, says ready and idles until told to exit."
  [path offs-file]
  (let [s (Segment/open (java.nio.file.Path/of ^String path (make-array String 0)) (* 64 u/MiB) 5 5)
        a (.allocator s)
        n (quot (* 48 u/MiB) 64)]
    (with-open [o (java.io.DataOutputStream. (java.io.BufferedOutputStream. (java.io.FileOutputStream. ^String offs-file)))]
      (dotimes [_ n] (.writeLong o (.allocate a 50 1))))
    (println "ready")
    (flush)
    (read-line)
    (.close s)
    (println "bye")
    (flush)))

(deftest blocks-another-process-freed-come-back-while-it-idles
  ;; The child's spans take every free page; this process frees all their blocks
  ;; (remote frees onto the child's spans), then needs a quarter of the segment.
  (u/with-temp-dir [dir "slab-hoard"]
    (let [file (str (.resolve dir "h.slab"))
          offs (str (.resolve dir "offs"))
          s (u/open-named file (* 64 u/MiB))
          a (.allocator s)
          base (.bytesInUse (.stats a))
          child (u/start-child (format "(require 'slab.mem.fragmentation-test) (slab.mem.fragmentation-test/hoarding-child %s %s)"
                                       (pr-str file) (pr-str offs)))]
      (try
        (is (= "ready" (u/read-line! child 120000)))
        (with-open [in (java.io.DataInputStream. (java.io.BufferedInputStream. (java.io.FileInputStream. ^String offs)))]
          (dotimes [_ (quot (.length (java.io.File. ^String offs)) 8)] (.free a (.readLong in))))
        (is (= base (.bytesInUse (.stats a))) "every block the child made is free")
        (let [r (u/error-of #(.allocate a (* 16 u/MiB) 1))]
          (is (contains? r :value) (str "a quarter of the segment while the child idles: " (pr-str r)))
          (when-let [off (:value r)] (.free a (long off))))
        (u/send-line! child "exit")
        (is (= "bye" (u/read-line! child 30000)))
        (is (map? (u/audit s [] nil)))
        (finally
          (u/destroy! child)
          (.close s))))))
