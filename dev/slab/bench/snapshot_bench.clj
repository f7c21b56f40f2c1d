(ns slab.bench.snapshot-bench
  "The cost of slab/snapshot! and of opening its file read-only, per entry
  and per GiB of snapshot, on a map of long keys to short and long strings.

    bin/lein run -m slab.bench.snapshot-bench            ; 1M entries
    bin/lein run -m slab.bench.snapshot-bench 4000000

  Reported: the source's bytes in use, the snapshot's size, the median time
  of snapshot! (and MB/s of snapshot written), of a read-only opening (the
  whole-file checksum), and of :verify :full."
  (:require [slab.core :as slab])
  (:import (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

(set! *warn-on-reflection* true)

(defn- ms [^long t0] (/ (- (System/nanoTime) t0) 1e6))

(defn- median [xs] (let [v (vec (sort xs))] (v (quot (count v) 2))))

(defn -main [& [n]]
  (let [n (if n (Long/parseLong n) 1000000)
        dir (Files/createTempDirectory "snapshot-bench" (make-array FileAttribute 0))
        seg (slab/open-segment (.resolve dir "src.slab") {:capacity (* 64 (max n 100000) 100)})
        m (slab/with-segment seg
            (persistent! (reduce (fn [t i] (assoc! t i (if (zero? (mod i 10)) (str "a longer string, stored as a blob: " i) (str "v" i))))
                                 (transient (slab/hash-map)) (range n))))]
    (slab/set-root! seg :m m)
    (let [in-use (:bytes-in-use (slab/stats seg))
          runs (vec (for [i (range 5)]
                      (let [p (.resolve dir (str "snap-" i ".slab"))
                            t0 (System/nanoTime)
                            r (slab/snapshot! seg p)
                            t-snap (ms t0)
                            t1 (System/nanoTime)
                            ro (slab/open-segment p {:read-only true})
                            t-open (ms t1)
                            _ (slab/close-segment! ro)
                            t2 (System/nanoTime)
                            ro (slab/open-segment p {:read-only true :verify :full})
                            t-verify (ms t2)]
                        (when (zero? i) (assert (= m (slab/root ro :m))))
                        (slab/close-segment! ro)
                        (Files/delete p)
                        {:bytes (:bytes r) :snap t-snap :open t-open :verify t-verify})))
          bytes (long (:bytes (first runs)))
          snap (median (map :snap runs))
          gib (/ bytes (double (* 1024 1024 1024)))]
      (println (format "%,d entries: source %,d bytes in use; snapshot %,d bytes (%.1f%% of it)"
                       n in-use bytes (* 100.0 (/ bytes (double in-use)))))
      (println (format "snapshot!             %8.0f ms  (%.0f ns/entry, %.0f MB/s, %.1f s per GiB of snapshot)"
                       snap (/ (* snap 1e6) n) (/ bytes 1e3 snap) (/ snap 1e3 gib)))
      (println (format "open read-only        %8.0f ms  (whole-file CRC32C: %.1f s per GiB)"
                       (median (map :open runs)) (/ (median (map :open runs)) 1e3 gib)))
      (println (format "open :verify :full    %8.0f ms  (%.1f s per GiB)"
                       (median (map :verify runs)) (/ (median (map :verify runs)) 1e3 gib))))
    (slab/close-segment! seg)
    (Files/delete (.resolve dir "src.slab"))
    (Files/delete dir)
    (shutdown-agents)))
