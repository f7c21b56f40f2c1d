(ns attack.stats2
  (:require [slab.core :as slab]))
(defn -main [path role]
  (let [seg (slab/open-segment path {:capacity "64m"})]
    (when (= role "a")
      (def keep1 (slab/with-segment seg (slab/share (vec (for [i (range 50000)] (str "s" i))))))
      (slab/set-root! seg :x (slab/with-segment seg (slab/share {:a (vec (range 10000))})))
      (dotimes [_ 5] (System/gc) (Thread/sleep 100)))
    (Thread/sleep (if (= role "a") 6000 0))
    (let [st (.stats (.allocator seg))]
      (println role "bytesInUse" (.bytesInUse st) "frontier" (.frontier st) "blocks" (vec (keep-indexed #(when (pos? %2) [%1 %2]) (.blocksInUse st)))))
    (Thread/sleep (if (= role "a") 0 0))
    (slab/close-segment! seg)
    (shutdown-agents)))
