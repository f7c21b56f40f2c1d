(ns attack.fragmp
  (:require [slab.mem.fragmentation-test :as ft]
            [slab.core :as slab])
  (:import (slab.mem Segment)))

(defn -main [path seed budget-mib max-mib steps]
  (let [seg (slab/open-segment path {:capacity "256m"})
        r (ft/churn! seg (parse-long steps) (parse-long seed) (* (parse-long budget-mib) 1048576) (* (parse-long max-mib) 1048576))]
    (println "seed" seed "failures" (count (:failures r)) (pr-str (take 2 (:failures r))) "peak live MiB" (/ (:max-live r) 1048576.0))
    (doseq [[off] (:live r)] (.free (.allocator seg) (long off)))
    (slab/close-segment! seg)
    (shutdown-agents)))
