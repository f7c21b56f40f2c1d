(ns slab.support.seq-walks
  "Loops over seqs that take a long out of each element at once, and the heap
  bytes they allocate per element; run in a JVM of its own by
  slab.seq-allocation-test, so the JIT has seen nothing but these loops."
  (:require [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)
           (clojure.lang ISeq Seqable)
           (java.util Map$Entry)))

(set! *warn-on-reflection* true)

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

;; One loop per side and kind, so each call site sees one kind of seq, as a
;; user's loop over one kind of collection does (written out: a macro would
;; lose the hints on the forms passed in).
(defn- vector-core ^long [v]
  (loop [s (.seq ^Seqable v), acc 0]
    (if s (recur (.next ^ISeq s) (unchecked-add acc (.longValue ^Number (.first ^ISeq s)))) acc)))

(defn- vector-slab ^long [v]
  (loop [s (.seq ^Seqable v), acc 0]
    (if s (recur (.next ^ISeq s) (unchecked-add acc (.longValue ^Number (.first ^ISeq s)))) acc)))

(defn- map-core ^long [m]
  (loop [s (.seq ^Seqable m), acc 0]
    (if s (recur (.next ^ISeq s) (unchecked-add acc (.longValue ^Number (.getValue ^Map$Entry (.first ^ISeq s))))) acc)))

(defn- map-slab ^long [m]
  (loop [s (.seq ^Seqable m), acc 0]
    (if s (recur (.next ^ISeq s) (unchecked-add acc (.longValue ^Number (.getValue ^Map$Entry (.first ^ISeq s))))) acc)))

(defn- bytes-per-element
  "[heap bytes per element of one walk, after warming the JIT up, and the walk's sum]"
  [walk coll]
  (dotimes [_ 300] (walk coll))
  (let [before (allocated-bytes)
        sum (walk coll)]
    [(/ (- (allocated-bytes) before) (double (count coll))) sum]))

(defn measure
  "Per walk, [bytes per element, sum], for a vector of 10k longs and a map of
  10k long keys to long values (none in the JVM's cache of small Longs)."
  []
  (let [xs (range 1000 11000)
        cm (into {} (map (fn [i] [i (* 3 i)])) xs)]
    {:vector-core (bytes-per-element vector-core (vec xs))
     :vector-slab (bytes-per-element vector-slab (slab/vec xs))
     :map-core (bytes-per-element map-core cm)
     :map-slab (bytes-per-element map-slab (slab/share cm))
     :vector-sum (reduce + xs)
     :map-sum (reduce + (vals cm))}))
