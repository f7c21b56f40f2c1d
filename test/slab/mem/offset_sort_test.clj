(ns slab.mem.offset-sort-test
  "OffsetSort (the order MapLayout frees in) sorts as Arrays.sort does."
  (:require [clojure.test :refer [deftest is]]
            [clojure.test.check.clojure-test :refer [defspec]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop])
  (:import (slab.mem OffsetSort)))

(defn- sorted-by-radix [offsets]
  (let [a (long-array offsets)]
    (vec (take (count offsets) (OffsetSort/sort a (count offsets))))))

;; distinct offsets at least 16 apart below 1 TiB, as blocks are; small and big arrays (the radix path starts at 2048)
(def ^:private gen-offsets
  (gen/fmap (fn [[xs extra seed]]
              (let [r (java.util.Random. seed)
                    more (repeatedly extra #(* 16 (long (.nextInt r 100000))))]
                (vec (distinct (concat (map #(* 16 %) xs) more)))))
            (gen/tuple (gen/vector (gen/large-integer* {:min 0 :max (dec (bit-shift-left 1 36))}))
                       (gen/elements [0 10 3000 20000])
                       gen/large-integer)))

(defspec radix-sorts-as-arrays-sort 60
  (prop/for-all [offsets gen-offsets]
    (= (vec (sort offsets)) (sorted-by-radix offsets))))

(deftest the-extremes-sort
  (let [offsets (vec (distinct (concat (range 0 (* 16 5000) 16) [(- (bit-shift-left 1 40) 16)] (range (* 16 90000) (* 16 85000) -16))))]
    (is (= (sort offsets) (sorted-by-radix (shuffle offsets))))))
