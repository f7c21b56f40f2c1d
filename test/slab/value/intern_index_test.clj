(ns slab.value.intern-index-test
  "Proves that interning through each process's index of the bucket chains
  keeps a name to exactly one block: two interners on one segment (as two
  processes have) intern overlapping names concurrently, each catches up
  with the blocks the other linked since its last walk, find and linked
  agree with intern, and a keyword, a symbol and a namespaced keyword of
  one name stay three blocks."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.support.util :as tu])
  (:import (slab.ref Heap)
           (slab.value Interner Tags)))

(set! *warn-on-reflection* true)

(defn- names [prefix n]
  (vec (for [i (range n)
             x [(keyword (str prefix i)) (symbol (str prefix i)) (keyword "ns" (str prefix i))]]
         x)))

(deftest two-interners-keep-one-block-per-name
  (let [seg (tu/anonymous (* 256 1024 1024))
        ^Interner a (.interner (Heap/of seg))
        ^Interner b (Interner. seg)               ; another process's view: its own caches and index
        shared (names "s" 20000)                  ; about 3.7 blocks per bucket chain
        only-a (names "a" 5000)
        only-b (names "b" 5000)
        intern-all (fn [^Interner in xs] (mapv #(.intern in %) xs))
        ;; both intern the shared names at once, in opposite orders
        fa (future (intern-all a (concat shared only-a)))
        fb (future (intern-all b (concat (rseq shared) only-b)))
        oa (zipmap (concat shared only-a) @fa)
        ob (zipmap (concat (rseq shared) only-b) @fb)]
    (testing "a name interned by both has the same block"
      (is (every? #(= (oa %) (ob %)) shared)))
    (testing "different names have different blocks"
      (is (= (count (set (concat (vals oa) (vals ob)))) (+ (count shared) (count only-a) (count only-b)))))
    (testing "each finds the names the other interned after its own walks"
      (is (every? #(= (ob %) (.find a %)) only-b))
      (is (every? #(= (oa %) (.find b %)) only-a))
      (is (every? #(= (ob %) (.intern a %)) only-b) "interning again gives the other's block"))
    (testing "every block is linked, seen from either interner"
      (is (every? #(.linked a (long %)) (vals ob)))
      (is (every? #(.linked b (long %)) (vals oa))))
    (testing "a name neither interned is not found"
      (is (zero? (.find a :never-interned)))
      (is (zero? (.find b 'never-interned))))
    (testing "decoding gives the names back"
      (is (every? #(= % (.decode b (long (oa %)) (if (keyword? %) Tags/KEYWORD Tags/SYMBOL))) (take 3000 shared)))
      (is (= :damaged-segment (:slab/error (ex-data (try (.decode b (long (oa :s1)) Tags/SYMBOL) nil
                                                         (catch clojure.lang.ExceptionInfo e e)))))
          "a keyword's block read as a symbol is damage"))))

(deftest an-index-catches-up-with-blocks-linked-since-its-last-walk
  (let [seg (tu/anonymous (* 64 1024 1024))
        ^Interner a (Interner. seg)
        ^Interner b (Interner. seg)]
    ;; a walks every bucket it touches, then b links more blocks at those heads
    (let [first-round (mapv #(.intern a %) (names "x" 3000))
          second-round (mapv #(.intern b %) (names "y" 3000))]
      (is (= first-round (mapv #(.find b %) (names "x" 3000))))
      (is (= second-round (mapv #(.intern a %) (names "y" 3000))) "a finds b's blocks, and links no second one")
      (is (every? #(.linked a (long %)) second-round)))))
