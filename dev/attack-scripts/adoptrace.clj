(ns attack.adoptrace
  (:import (slab.mem Segment Allocator HeapAudit)
           (java.util.concurrent ConcurrentLinkedQueue CountDownLatch)
           (java.util SplittableRandom)))

(defn anon ^Segment [cap] (Segment/anonymous (long cap) 5 5))

(defn round [^long nblocks ^long nthreads payloads]
  (with-open [s (anon (* 512 1024 1024))]
    (let [^Allocator a (.allocator s)
          errs (ConcurrentLinkedQueue.)
          ;; phase 1: several threads (several arenas) allocate
          old (->> (range nthreads)
                   (mapv (fn [t] (future (let [r (SplittableRandom. t)]
                                           (vec (repeatedly nblocks #(.allocate a (long (rand-nth payloads)) 0)))))))
                   (mapcat deref) vec)
          _ (.rebuildAll a)           ; as recover!'s sweep does: every span abandoned, arena words left
          _ (when (System/getProperty "zeroarena")
              (let [base (slab.mem.HeaderDescriptor/heapBase (.capacity s))
                    fr (.getLong s slab.mem.HeaderDescriptor/FRONTIER_OFFSET)]
                (doseq [p (range (quot (- fr base) 16384))]
                  (let [w (.getLong s (+ slab.mem.HeaderDescriptor/PAGE_TABLE_OFFSET (* 8 p)))]
                    (when (= 0x22 (unsigned-bit-shift-right w 56))
                      (.putLong s (+ base (* p 16384) 40) 0))))))
          latch (CountDownLatch. 1)
          parts (partition-all (quot (count old) nthreads) (shuffle old))
          frees (mapv (fn [part] (future (.await latch)
                                   (doseq [o part] (try (.free a (long o)) (catch Throwable e (.add errs [:free o (str e)]))))))
                      parts)
          allocs (mapv (fn [t] (future (.await latch)
                                 (let [r (SplittableRandom. (+ 100 t))]
                                   (vec (for [_ (range nblocks)]
                                          (try (.allocate a (long (nth payloads (.nextInt r (count payloads)))) 0)
                                               (catch Throwable e (.add errs [:alloc (str e)]) 0)))))))
                       (range nthreads))
          _ (.countDown latch)
          _ (run! deref frees)
          new (vec (mapcat deref allocs))
          dup (- (count new) (count (set new)))
          audit (try (str (HeapAudit/check s)) (catch Throwable e (str "AUDIT FAILED " e)))]
      {:errs (vec (take 3 errs)) :nerrs (count errs) :dup dup
       :bad-audit (when (re-find #"FAILED" audit) audit)})))

(defn -main [& [rounds]]
  (let [rounds (parse-long (or rounds "50"))]
    (dotimes [i rounds]
      (let [r (round 20000 4 [8 24 40 100 200 500 1000])]
        (when (or (pos? (:nerrs r)) (pos? (:dup r)) (:bad-audit r))
          (println "round" i r))))
    (println "done")
    (shutdown-agents)))
