(ns attack.check
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)))

(defn -main [path & [expect]]
  (let [t0 (System/nanoTime)
        seg (slab/open-segment path)
        t1 (System/nanoTime)
        roots (into {} (for [k (slab/roots seg)] [k (slab/root seg k)]))
        st0 (.bytesInUse (.stats (.allocator seg)))
        rec (slab/recover! seg)
        v (slab/verify seg)
        audit (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " e)))]
    (println "open ms" (/ (- t1 t0) 1e6))
    (println "roots" (into {} (for [[k r] roots] [k (if (coll? r) (count r) r)])))
    (println "inuse-before-recover" st0)
    (println "recover" rec)
    (println "verify" v)
    (println "audit" audit)
    (println "stats" (select-keys (slab/stats seg) [:bytes-in-use :high-water :live-versions]))
    (when expect
      ((requiring-resolve (symbol expect)) seg roots))
    ;; allocation goes on
    (let [m (slab/with-segment seg (slab/share (into {} (for [i (range 20000)] [i (str "x" i)]))))
          big (slab/with-segment seg (slab/share (apply str (repeat 300000 \z))))]
      (println "alloc-after ok" (= 20000 (count m)) (= 300000 (count big)))
      (slab/release! m) (slab/release! big))
    (println "audit2" (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " e))))
    (slab/close-segment! seg)
    (shutdown-agents)))
