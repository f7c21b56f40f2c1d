(ns slab.stress.alloc-soak
  "A long churn of the allocator in shapes that change over time, as a
  service's data would: each round picks a size range (small nodes, mid-size
  strings, large blobs, or all of them), allocates and frees at random with
  live data kept under a budget, then reports bytes in use against the
  pages the allocator holds (fragmentation) and the largest block it can
  still hand out.

    bin/lein run -m slab.stress.alloc-soak [rounds] [steps-per-round] [capacity-mib]

  Defaults: 40 rounds of 50,000 steps on 512 MiB (a few minutes); hours:
  e.g. 2000 rounds."
  (:import (java.util ArrayList SplittableRandom)
           (slab.mem AllocatorDescriptor HeaderDescriptor HeapAudit Segment SizeClasses)))

(set! *warn-on-reflection* true)

(def ^:private shapes
  [[:small-nodes 8 600]
   [:strings 600 40000]
   [:large-blobs 40000 (* 8 1024 1024)]
   [:everything 8 (* 8 1024 1024)]])

(defn- size-in ^long [^SplittableRandom rnd ^long lo ^long hi]
  (long (Math/exp (+ (Math/log lo) (* (.nextDouble rnd) (- (Math/log hi) (Math/log lo)))))))

(defn- largest-possible
  "The largest payload allocateIfRoom still grants (binary search, each try freed at once)."
  ^long [^Segment s]
  (let [a (.allocator s)]
    (loop [lo 0 hi (.capacity s)]
      (if (>= lo (dec hi))
        lo
        (let [mid (quot (+ lo hi) 2)
              off (.allocateIfRoom a mid 0)]
          (if (pos? off)
            (do (.free a off) (recur mid hi))
            (recur lo mid)))))))

(defn -main [& [rounds steps cap-mib]]
  (let [rounds (long (or (some-> rounds parse-long) 40))
        steps (long (or (some-> steps parse-long) 50000))
        capacity (* (long (or (some-> cap-mib parse-long) 512)) 1024 1024)
        budget (quot capacity 2)
        s (Segment/anonymous capacity 5 5)
        a (.allocator s)
        _ (.onPressure a (fn []))
        rnd (SplittableRandom. 7)
        live (ArrayList.)
        total (long-array 1)
        drop! (fn []
                (let [i (.nextInt rnd (.size live))
                      [off size] (.get live i)
                      last-i (dec (.size live))]
                  (.set live i (.get live last-i))
                  (.remove live (int last-i))
                  (.free a (long off))
                  (aset total 0 (- (aget total 0) (long size)))))
        base (HeaderDescriptor/heapBase capacity)]
    (println (format "allocator soak: %d rounds x %,d steps on %d MiB, live data under half" rounds steps (quot capacity 1048576)))
    (println "round | shape        | live MiB | held MiB | held/live | largest possible MiB | failures")
    (dotimes [r rounds]
      (let [[shape lo hi] (shapes (mod r (count shapes)))
            failures (long-array 1)]
        (dotimes [_ steps]
          (let [n (size-in rnd lo hi)
                size (SizeClasses/sizeOf (SizeClasses/classFor (+ n 8)))]
            (while (and (pos? (.size live)) (> (+ (aget total 0) size) budget)) (drop!))
            (when (and (pos? (.size live)) (< (.nextDouble rnd) 0.45)) (drop!))
            (let [off (.allocateIfRoom a n 0)]
              (if (pos? off)
                (do (.add live [off size]) (aset total 0 (+ (aget total 0) size)))
                (aset failures 0 (inc (aget failures 0)))))))
        (let [report (HeapAudit/check s)
              frontier (.getLongVolatile s HeaderDescriptor/FRONTIER_OFFSET)
              held (- frontier base (* (.freePages report) AllocatorDescriptor/PAGE_LENGTH))
              in-use (.bytesInUse (.stats a))]
          (println (format "%5d | %-12s | %8.1f | %8.1f | %9.2f | %20.1f | %d"
                           r (name shape) (/ in-use 1048576.0) (/ held 1048576.0)
                           (/ (double held) (max 1 in-use))
                           (/ (largest-possible s) 1048576.0) (aget failures 0))))))
    (doseq [[off] live] (.free a (long off)))
    (println (format "after freeing everything: %d bytes in use; audit %s" (.bytesInUse (.stats a)) (HeapAudit/check s)))
    (.close s)
    (shutdown-agents)))
