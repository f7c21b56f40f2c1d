(ns slab.demo-reader
  "Process B of slab.demo: obtains the orders map from a named root in a
  segment file and from a data.fressian file, reduces over each, and prints
  its measurements as one EDN map on the last line of stdout.

    java -cp ... clojure.main -m slab.demo-reader SEGMENT-FILE ROOT-NAME FRESSIAN-FILE"
  (:require [clojure.data.fressian :as fressian]
            [clojure.java.io :as io]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (org.fressian.handlers ReadHandler)))

(set! *warn-on-reflection* true)

(defn- now-ns ^long [] (System/nanoTime))

(defn- heap-after-gc
  "Heap in use after a GC, once seg's Cleaner has run for the handles the
  GC found dropped (their cleanup records are on the heap until then)."
  (^long [] (heap-after-gc nil))
  (^long [seg]
   (loop [i 0, prev nil]
     (System/gc)
     (let [now (if seg (:live-versions (slab/stats seg)) 0)]
       (if (or (= now prev) (> i 50))
         (.getUsed (.getHeapMemoryUsage (ManagementFactory/getMemoryMXBean)))
         (do (Thread/sleep 50) (recur (inc i) now)))))))

(defn- total-qty ^long [m]
  (reduce-kv (fn [^long acc _ v] (+ acc (long (:qty v)))) 0 m))

(def ^:private read-handlers
  "data.fressian's Clojure handlers, plus sets read as Clojure sets (fressian
  reads them as java.util.HashSet otherwise, which is not = to a set)."
  (fressian/associative-lookup
   (assoc fressian/clojure-read-handlers
          "set" (reify ReadHandler
                  (read [_ rdr _ _] (set (.readObject rdr)))))))

(defn -main [seg-path root-name fressian-path]
  (let [startup-ns (* 1000000 (- (System/currentTimeMillis)
                                 (.getStartTime (ManagementFactory/getRuntimeMXBean))))
        heap0 (heap-after-gc)
        t0 (now-ns)
        seg (slab/open-segment seg-path)
        t1 (now-ns)
        m (slab/root seg (keyword root-name))
        t2 (now-ns)
        sum (total-qty m)
        t3 (now-ns)
        again (slab/root seg (keyword root-name))
        t4 (now-ns)
        _ (slab/release! again)
        heap-root (- (heap-after-gc seg) heap0)
        root-result {:count (count m) :sum sum :hash (hash m)}
        _ (slab/release! m)
        heap1 (heap-after-gc)
        t5 (now-ns)
        fm (with-open [in (io/input-stream fressian-path)]
             (fressian/read-object (fressian/create-reader in :handlers read-handlers)))
        t6 (now-ns)
        fsum (total-qty fm)
        t7 (now-ns)
        heap-fressian (- (heap-after-gc) heap1)]
    (prn (merge root-result
                {:startup-ns startup-ns
                 :open-ns (- t1 t0)
                 :root-ns (- t2 t1)
                 :reduce-ns (- t3 t2)
                 :root-again-ns (- t4 t3)
                 :fressian-read-ns (- t6 t5)
                 :fressian-reduce-ns (- t7 t6)
                 :heap-root heap-root
                 :heap-fressian heap-fressian
                 :fressian-sum fsum
                 :fressian-hash (hash fm)}))
    (flush)
    (System/exit 0)))
