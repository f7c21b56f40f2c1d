(ns slab.map.small-map-test
  "A small heap map stored as a value (nested, in a box) is written as its
  one node straight, without a transient, when its keys fall at different
  positions of a root node: it must read back, hash, order and verify
  exactly as the same map built by a transient."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check.clojure-test :refer [defspec]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core :as slab]
            [slab.support.generators :as g]
            [slab.support.util :as tu]))

(set! *warn-on-reflection* true)

(def ^:private seg (tu/anonymous (* 256 tu/MiB)))

(def ^:private small-map
  (gen/one-of [(gen/map g/key-gen g/value-gen {:max-elements 9})
               (gen/map g/any-key g/any-value {:max-elements 9})
               ;; keys that share a root position: the general path
               (gen/map g/collision-key gen/small-integer {:max-elements 9})]))

(defspec small-nested-maps-read-as-built 300
  (prop/for-all [m small-map]
    (slab/with-segment seg
      (let [outer (slab/hash-map :x m)
            nested (get outer :x)
            ;; built by a transient (the top level always is)
            built (slab/share m)]
        ;; slab's = holds a stored NaN equal to a NaN (clojure.core's does not): compared
        ;; from slab's side
        (and (= nested m) (= built nested)
             (= (hash m) (hash nested))
             (= (count m) (count nested))
             ;; the same trie: the same order of entries (a slab vector of them holds
             ;; the NaN rule)
             (= (slab/vec (keys built)) (vec (keys nested)))
             (= (slab/vec (vals built)) (vec (vals nested)))
             ;; a value read back is compared as stored (a list reads back as a
             ;; heap list, whose = compares a NaN in it by identity)
             (every? (fn [[k v]] (= (slab/vector (get nested k)) [v])) m)
             (= (meta m) (meta nested)))))))

(deftest small-maps-leave-nothing-behind
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [base (slab/hash-map :a 1)
            ;; keywords stay interned once stored: store these before measuring
            warm (slab/hash-map :b {:s "" :n 0 :kw :k :v [] :m {:deeper 0}})
            before (tu/bytes-in-use seg)]
        (dotimes [i 200]
          (let [v (assoc base :b {:s (str "a string too long to sit inline " i) :n i :kw :k
                                  :v [i] :m {:deeper i}})]
            (is (= i (get-in v [:b :m :deeper])))
            (slab/release! v)))
        (testing "every version and its nested maps given back"
          (is (= before (tu/settle! seg before)))
          (is (= 0 (get-in warm [:b :n]))))
        (is (nil? (tu/verify-values seg base warm)))))))
