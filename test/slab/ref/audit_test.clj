(ns slab.ref.audit-test
  "Proves the leak audit names a block that keeps a count nobody holds, and
  that a handle release which throws is recorded on the heap's ownership."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.util :refer [settle!]])
  (:import (slab.mem Segment)
           (slab.ref Handle Heap Ownership RefCounts SharedColl)))

(set! *warn-on-reflection* true)

(defn- root-node ^long [m] (.node ^Handle (.slabHandle ^SharedColl m)))

(deftest the-audit-finds-an-extra-count
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        heap (Heap/of seg)]
    (slab/with-segment seg
      (slab/hash-map :a 1 :b 2)
      (let [baseline (settle! seg -1)
            m (slab/share {:a (str "a string long enough for a blob " 1) :b {:a 2}})
            node (root-node m)]
        (is (= [node] (map :offset (:mismatch (audit/audit seg))))
            "a live handle's count is not in the graph, so its root shows while it is held")
        (RefCounts/retain heap node)              ; a count nobody will give back
        (slab/release! m)
        (let [{:keys [mismatch counted walked]} (audit/audit seg)]
          (is (== counted walked))
          (is (= [{:offset node :type :map-node :refcount 1 :in-degree 0}]
                 (map #(dissoc % :size) mismatch))
              "the stranded root is the one block whose count exceeds its in-degree"))
        (RefCounts/release heap node)
        (is (== baseline (settle! seg baseline)))
        (is (empty? (:mismatch (audit/audit seg))))))
    (.close seg)))

(deftest a-release-that-throws-is-recorded
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        heap (Heap/of seg)
        ^Ownership ownership (.ownership heap)]
    (slab/with-segment seg
      (let [m (slab/hash-map :a 1)]
        (RefCounts/release heap (root-node m))    ; takes the handle's own count away
        (is (zero? (.cleanupFailures ownership)))
        (is (thrown? IllegalStateException (slab/release! m)))
        (is (== 1 (.cleanupFailures ownership)))
        (is (instance? IllegalStateException (.lastCleanupFailure ownership)))))
    (.close seg)))
