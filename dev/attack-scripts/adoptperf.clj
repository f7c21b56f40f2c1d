(ns attack.adoptperf
  (:import (slab.mem Segment Allocator HeapAudit)))

(defmacro timed [label & body]
  `(let [t# (System/nanoTime) r# (do ~@body)]
     (println ~label (format "%.1f ms" (/ (- (System/nanoTime) t#) 1e6)))
     r#))

(defn run [^long spans rebuild?]
  (with-open [s (Segment/anonymous (* 4 1024 1024 1024) 5 5)]
    (let [^Allocator a (.allocator s)
          per 510
          n (* spans per)
          offs (long-array n)]
      (timed (str " alloc " n) (dotimes [i n] (aset offs i (.allocate a 24 0))))
      (timed " free every other" (dotimes [i n] (when (even? i) (.free a (aget offs i)))))
      (when rebuild? (timed " rebuildAll" (.rebuildAll a)))
      (timed (str " re-allocate " (quot n 2) " (rebuild=" rebuild? ")") (dotimes [i (quot n 2)] (.allocate a 24 0)))
      (println " audit" (str (HeapAudit/check s))))))

(defn -main [& [spans]]
  (let [spans (parse-long (or spans "5000"))]
    (run spans false)
    (run spans true)
    (shutdown-agents)))
