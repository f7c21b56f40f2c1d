(ns attack.reaudit
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)))
(defn -main [path]
  (let [seg (slab/open-segment path)]
    (println "reopen audit:" (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e)))))
    (println "verify:" (slab/verify seg))
    ;; allocate lots and see whether live data survives
    (let [big (slab/with-segment seg (vec (for [i (range 300)] (slab/share (apply str (repeat 30000 (char (+ 65 (mod i 26)))))))))
          small (slab/with-segment seg (slab/share (vec (for [i (range 100000)] (str "filler-" i)))))]
      (println "big ok" (every? (fn [[i s]] (= s (apply str (repeat 30000 (char (+ 65 (mod i 26))))))) (map-indexed vector big))
               "small ok" (= small (vec (for [i (range 100000)] (str "filler-" i)))))
      (println "audit after alloc:" (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e))))))
    (slab/close-segment! seg))
  (shutdown-agents))
