;; Proves that a segment file damaged anywhere past its header (one byte, bit or word, or an offset redirected) never hangs, crashes or throws a non-slab exception, in reads or in updates, and is either reported as :damaged-segment or reads back and updates exactly as what was written; a change a seal covers is always reported.
(ns slab.share.corruption-fuzz-test
  "Random corruptions of a cleanly written segment (see
  slab.support.corruption). What is asserted, for every trial:

  - no hang (each trial runs under a generous timeout), no JVM crash, no
    OutOfMemoryError and no exception other than slab's :damaged-segment;
  - open, the reads (count, seq, get of every key, reduce-kv, nth, rseq,
    =, hash), verify and updates of every root (assoc, dissoc, update,
    conj, disj, pop, and transients; each result compared with the same
    update of what was written) together either report :damaged-segment or
    give exactly what was written and its updates;
  - damage to a block's header word, a node's bitmaps or capacity word, a
    collection block's kind, metadata tag or shift, or the page table is
    never read as other data by the reads alone: they throw, or read
    back what was written (verify may then report it).

  - a change to any byte a block's seal covers (FORMAT.md, Seals: node
    contents, collection blocks, boxes, blobs, interned names, symbols
    with metadata) is reported as damage: it is never read back as if
    nothing happened (:equal), since verify checks every seal.

  What is not asserted: that the default reads alone catch every
  corruption. A changed value payload (a long's bits, a string's chars),
  or an offset redirected to another well-formed block of the right type
  leaves a well-formed segment that holds other data; verify finds those
  by their seals (counted as :misread-verified), and so do reads under
  {:verify :on-read}. The outcome counts are printed.

  SLAB_FUZZ_TRIALS sets the number of trials (default 300); dev/slab/fuzz.clj
  runs thousands."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.support.corruption :as c]
            [slab.support.util :as u])
  (:import (java.util Random)))

(set! *warn-on-reflection* true)

(def ^:private trials
  (or (some-> (System/getenv "SLAB_FUZZ_TRIALS") parse-long) 300))

(deftest random-corruptions-are-reported-or-harmless
  (u/with-temp-dir [dir "slab-fuzz"]
    (let [results (c/run-trials dir {:trials trials :seed 42 :data-seed 7 :timeout-ms 60000})
          by (group-by :outcome results)]
      (println "corruption fuzz," trials "trials:" (into (sorted-map) (frequencies (map :outcome results)))
               "by field:" (into (sorted-map) (frequencies (map (juxt :field :outcome) results))))
      (testing "no trial hangs or throws anything but :damaged-segment"
        (is (empty? (by :hang)) (pr-str (map c/describe (by :hang))))
        (is (empty? (by :foreign)) (pr-str (map c/describe (by :foreign)))))
      (testing "every trial is reported as damaged or reads back what was written"
        (is (empty? (by :misread)) (pr-str (map c/describe (by :misread)))))
      (testing "damage to headers, shapes and the page table is never read as other data"
        (let [strict (filter #(and (#{:header :shape :page-table} (:field %)) (= :misread-verified (:outcome %))) results)]
          (is (empty? strict) (pr-str (map c/describe strict)))))
      (testing "a change inside a sealed block's covered range is always reported as damage"
        (let [missed (filter #(and (:sealed %) (#{:equal :misread} (:outcome %))) results)]
          (is (empty? missed) (pr-str (map c/describe missed))))
        (is (< 20 (count (filter :sealed results))) "the trials hit sealed ranges"))
      (testing "the trials exercised the reads, not only open"
        (is (< 20 (count (by :read-damaged))))
        (is (< 20 (count (by :equal))))))))
