(ns slab.audit-test
  "Proves the leak audit names a block that keeps a count nobody holds, and
  that a handle release which throws is recorded on the codec."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab]
            [slab.audit :as audit]
            [slab.map-leak-test :refer [settle!]])
  (:import (slab.mem Segment)
           (slab.codec Codec Root SharedColl)))

(set! *warn-on-reflection* true)

(defn- root-node ^long [m] (.node ^Root (.slabRoot ^SharedColl m)))

(deftest the-audit-finds-an-extra-count
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        codec (Codec/of seg)]
    (slab/with-segment seg
      (slab/hash-map :a 1 :b 2)
      (let [baseline (settle! seg -1)
            m (slab/share {:a (str "a string long enough for a blob " 1) :b {:a 2}})
            node (root-node m)]
        (is (= [node] (map :offset (:mismatch (audit/audit seg))))
            "a live handle's count is not in the graph, so its root shows while it is held")
        (.retain codec node)                       ; a count nobody will give back
        (slab/release! m)
        (let [{:keys [mismatch counted walked]} (audit/audit seg)]
          (is (== counted walked))
          (is (= [{:offset node :type :map-node :refcount 1 :in-degree 0}]
                 (map #(dissoc % :size) mismatch))
              "the stranded root is the one block whose count exceeds its in-degree"))
        (.releaseRef codec node)
        (is (== baseline (settle! seg baseline)))
        (is (empty? (:mismatch (audit/audit seg))))))
    (.close seg)))

(deftest a-release-that-throws-is-recorded
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)
        codec (Codec/of seg)]
    (slab/with-segment seg
      (let [m (slab/hash-map :a 1)]
        (.releaseRef codec (root-node m))          ; takes the handle's own count away
        (is (zero? (.cleanupFailures codec)))
        (is (thrown? IllegalStateException (slab/release! m)))
        (is (== 1 (.cleanupFailures codec)))
        (is (instance? IllegalStateException (.lastCleanupFailure codec)))))
    (.close seg)))
