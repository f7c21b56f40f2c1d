(ns attack.closeopen1
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)))

(defn -main [path]
  (.delete (java.io.File. ^String path))
  (let [seg (slab/open-segment path {:capacity "1g"})
        _ (slab/set-root! seg :old (slab/with-segment seg (slab/vec (for [i (range 200000)] (str "old-string-" i)))))
        held (slab/with-segment seg (slab/vec (for [i (range 200000)] (str "held-string-" i))))
        closer (future (Thread/sleep 20) (try (slab/close-segment! seg) :closed (catch Throwable e (str "CLOSE THREW " e))))
        opener (future
                 (try
                   (let [s2 (loop [] (let [s (try (slab/open-segment path) (catch IllegalStateException e seg))] (if (identical? s seg) (recur) s)))]
                     (slab/set-root! s2 :new (slab/with-segment s2 (vec (for [i (range 30000)] (slab/share {:i i :s (str "new-" i)})))))
                     [s2 :ok])
                   (catch Throwable e [nil (str "OPENER THREW " e)])))
        c (deref closer 60000 :hang)
        [s2 o] (deref opener 60000 [nil :hang])]
    (println "closer:" c "opener:" o)
    (when s2
      (println "audit in process:" (try (str (HeapAudit/check s2)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e)))))
      (println "close s2:" (try (slab/close-segment! s2) :ok (catch Throwable e (str e)))))
    (flush)
    (System/exit 0)))
