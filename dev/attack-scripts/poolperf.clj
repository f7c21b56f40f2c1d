(ns attack.poolperf
  (:import (slab.mem Segment Allocator HeapAudit)))

(defn anon ^Segment [cap] (Segment/anonymous (long cap) 5 5))

(defmacro timed [label & body]
  `(let [t# (System/nanoTime) r# (do ~@body)]
     (println ~label (format "%.1f ms" (/ (- (System/nanoTime) t#) 1e6)))
     r#))

(defn large-case [^long n ^long k frag?]
  (with-open [s (anon (* 8 1024 1024 1024))]
    (let [^Allocator a (.allocator s)
          offs (long-array n)]
      (timed (str "  alloc " n " x 2-page") (dotimes [i n] (aset offs i (.allocate a 20000 0))))
      (when frag? (timed "  free every other" (dotimes [i n] (when (even? i) (.free a (aget offs i))))))
      (timed (str "  then " k " x 3-page allocations (frag=" frag? ")")
             (dotimes [_ k] (.allocate a 40000 0)))
      (println "  audit" (str (HeapAudit/check s))))))

(defn span-case [^long m ^long k frag?]
  (with-open [s (anon (* 8 1024 1024 1024))]
    (let [^Allocator a (.allocator s)
          per 7
          offs (long-array (* per m))]
      (timed (str "  alloc " (* per m) " x 2040B (" m " one-page spans)") (dotimes [i (* per m)] (aset offs i (.allocate a 2040 0))))
      (when frag? (timed "  free all blocks of every other span"
                         (dotimes [i (* per m)]
                           (when (even? (quot (- (aget offs i) (aget offs 0)) 16384)) (.free a (aget offs i))))))
      (timed (str "  then " k " x 1000B allocations (frag=" frag? ")") (dotimes [_ k] (.allocate a 1000 0)))
      (println "  audit" (str (HeapAudit/check s))))))

(defn -main [& [n k]]
  (let [n (parse-long (or n "60000")) k (parse-long (or k "5000"))]
    (println "== large blocks")
    (large-case n k false)
    (large-case n k true)
    (println "== spans")
    (span-case n (* 15 k) false)
    (span-case n (* 15 k) true)
    (shutdown-agents)))
