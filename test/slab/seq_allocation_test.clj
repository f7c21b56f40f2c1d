(ns slab.seq-allocation-test
  "Proves that a loop over the seq of a vector or map that takes a long out
  of each element at once allocates no Long and no map entry per element:
  seqs box a stored long (and make an entry) only when asked for, so the
  JIT can drop them. Measured in a JVM of its own: the JIT compiles for what
  it has seen, and in this one every other test's seqs have handed out
  values of every kind."
  (:require [clojure.test :refer [deftest is]]
            [slab.support.util :as u]))

(deftest seq-walks-allocate-no-box-per-long
  (let [child (u/start-child (pr-str '(do (require 'slab.support.seq-walks)
                                          (prn (slab.support.seq-walks/measure))
                                          (System/exit 0))))
        {:keys [vector-core vector-slab map-core map-slab vector-sum map-sum]} (u/read-edn! child 120000)]
    (is (= vector-sum (second vector-core) (second vector-slab)))
    (is (= map-sum (second map-core) (second map-slab)))
    ;; each side makes a seq object per element (40 bytes); slab's vector seq
    ;; also reads each leaf into arrays (about 12 bytes per element). A Long
    ;; would add 16 more.
    (is (< (- (first vector-slab) (first vector-core)) 16.0)
        (str "vector: slab " (first vector-slab) " against clojure.core's " (first vector-core) " heap bytes per element"))
    ;; the map seq: its object (40 bytes) and the chunks' arrays (about 22);
    ;; a MapEntry and two Longs would add 56. clojure.core's makes an entry per element.
    (is (< (first map-slab) 80.0)
        (str "map: slab " (first map-slab) " (clojure.core's " (first map-core) ") heap bytes per element"))
    (u/await-exit child 30000)))
