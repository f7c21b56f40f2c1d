(ns slab.mem.pressure-test
  "Proves that a full segment is the last resort: an allocation keeps waiting
  while dropped versions are still being given back, a stream of dropped
  versions many times the segment's size never fills it, and a process keeps
  making new handles when there is no room to grow its ledger."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as tu :refer [temp-path settle!]])
  (:import (java.util ArrayList)
           (java.util.concurrent.atomic AtomicLong)
           (slab.ref Heap)
           (slab.mem Allocator Segment)))

(set! *warn-on-reflection* true)

(defn- fill!
  "Allocates blocks of (next-size) bytes until one does not fit; returns their offsets."
  [^Allocator a next-size]
  (let [out (ArrayList.)]
    (loop []
      (let [off (.allocateIfRoom a (long (next-size)) 0)]
        (when-not (zero? off)
          (.add out off)
          (recur))))
    (vec out)))

(deftest a-full-allocation-waits-while-memory-comes-back
  (with-open [s (tu/anonymous (* 2 tu/MiB))]
    (let [a (.allocator s)
          progress (AtomicLong.)
          collections (atom 0)
          _ (.onPressure a #(swap! collections inc) #(.get progress))
          blocks (fill! a (constantly 1000))
          before (tu/stats a)]
      (is (zero? (.allocateIfRoom a 1000 0)) "allocateIfRoom does not wait")
      (is (= before (tu/stats a)) "and changes nothing")
      ;; A stand-in for a Cleaner with a long queue: for 1.5 s (three times
      ;; the idle back-off) it gives back nothing this request can use, then
      ;; frees one block of the right size.
      (let [cleaner (future
                      (dotimes [_ 150]
                        (Thread/sleep 10)
                        (.incrementAndGet progress))
                      (.free a (long (peek blocks)))
                      (.incrementAndGet progress))
            off (.allocate a 1000 0)]
        @cleaner
        (is (= (peek blocks) off) "the allocation waited and got the block given back")
        (is (pos? (long @collections)) "it asked the JVM to collect first"))
      (testing "with nothing coming back it still reports :segment-full"
        (let [e (tu/error-of #(.allocate a 1000 0))]
          (is (= :segment-full (:error e)))))
      (doseq [off blocks] (.free a (long off)))
      (is (zero? (.bytesInUse (.stats a)))))))

(deftest dropped-versions-many-times-the-segment-never-fill-it
  (let [path (temp-path "churn")
        seg (slab/open-segment path {:capacity (* 32 1024 1024)})]
    (try
      (let [baseline (do (slab/with-segment seg (slab/hash-map :k 1)) (settle! seg -1))
            twin (into {} (map (fn [i] [i (- i)])) (range 20000))
            base (slab/with-segment seg (slab/share twin))
            n 300000
            ;; each step drops the version before it: about 1 KiB of path copy,
            ;; so some 300 MB pass through a 32 MiB segment
            end (reduce (fn [m i] (assoc m (mod (* i 7919) 20000) i)) base (range n))
            expected (reduce (fn [m i] (assoc m (mod (* i 7919) 20000) i)) twin (range n))]
        (is (= expected end))
        (is (zero? (.cleanupFailures (.ownership (Heap/of seg)))))
        (slab/release! end)
        (slab/release! base)
        (is (== baseline (settle! seg baseline)) "every dropped version was given back"))
      (finally
        (slab/close-segment! seg)))))

(deftest handles-keep-coming-when-the-ledger-cannot-grow
  (let [path (temp-path "ledger")
        seg (slab/open-segment path {:capacity (* 4 1024 1024)})
        a (.allocator seg)]
    (try
      (let [base (slab/with-segment seg (slab/hash-map :k 0 :s "a string"))
            baseline (settle! seg -1)
            _ (tu/quiet-pressure! a)
            reserve (mapv (fn [_] (.allocate a 200000 0)) (range 4))
            ;; two-page blocks, every other one given back: free runs of two
            ;; pages, room for spans of small nodes, none for a larger ledger
            ;; table (three pages)
            filler (sort (fill! a (constantly 17000)))   ; every other one by address
            ;; what is left (single pages between spans) taken too, so no
            ;; freed pair of pages can join a free page beside it
            singles (fill! a (constantly 8))
            given (take-nth 2 filler)
            kept (take-nth 2 (rest filler))
            _ (doseq [off given] (.free a (long off)))
            _ (is (zero? (.allocateIfRoom a 33000 0)) "no room for a larger table")
            ;; the ledger starts with 1024 entries and grows past half full;
            ;; each version derived by assoc is one handle and one record, and
            ;; past 7/8 full a handle goes unrecorded
            handles (mapv #(assoc base :k %) (range 1 1001))]
        (is (= (range 1 1001) (map :k handles)) "1000 handles made though the ledger could not grow")
        (is (zero? (:reclaimed (slab/recover! seg))) "recover! does not sweep with an incomplete ledger...")
        (is (= (range 1 1001) (map :k handles)) "...so what the unrecorded handles hold is intact")
        (doseq [off (concat reserve kept singles)] (.free a (long off)))
        (let [more (mapv #(assoc base :k %) (range 800 1600))]
          (is (= (range 800 1600) (map :k more)) "with room again, the ledger grows")
          (run! slab/release! (concat handles more)))
        (is (== baseline (settle! seg baseline))
            "every count came back, and the ledger shrank to its first size")
        (is (= {:k 0 :s "a string"} base) "the version they came from is intact"))
      (finally
        (slab/close-segment! seg)))))
