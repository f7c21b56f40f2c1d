(ns slab.vector.allocation-test
  "Proves that a walk over a vector's seq that unboxes each element at once
  allocates no Long per element: a stored long is boxed when asked for, so
  the JIT can drop the box (LeafChunk)."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)
           (clojure.lang ISeq Seqable)))

(set! *warn-on-reflection* true)

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

;; One walk function per side, so each call site sees one kind of seq, as
;; a user's loop over one kind of vector does.
(defmacro ^:private defwalk [nm]
  `(defn- ~nm ^long [v#]
     (loop [s# (.seq ^Seqable v#), acc# 0]
       (if s# (recur (.next ^ISeq s#) (unchecked-add acc# (.longValue ^Number (.first ^ISeq s#)))) acc#))))

(defwalk walk-core)
(defwalk walk-slab)

(defn- bytes-per-element
  "Heap bytes allocated per element by walk over v, after warming the JIT up."
  [walk v]
  (dotimes [_ 200] (walk v))
  (let [before (allocated-bytes)
        sum (walk v)
        after (allocated-bytes)]
    [(double (/ (- after before) (count v))) sum]))

(deftest a-seq-walk-allocates-no-box-per-long
  (let [xs (range 1000 11000)           ; none in the JVM's cache of small Longs
        cv (vec xs)
        sv (slab/vec xs)
        [core-bytes core-sum] (bytes-per-element walk-core cv)
        [slab-bytes slab-sum] (bytes-per-element walk-slab sv)]
    (is (= core-sum slab-sum (reduce + xs)))
    ;; both make one seq object per element; slab's also reads each leaf into an
    ;; array (11 bytes per element); a Long per element would add 16 more
    (is (< (- slab-bytes core-bytes) 16.0)
        (str "slab " slab-bytes " against clojure.core's " core-bytes " heap bytes per element"))))
