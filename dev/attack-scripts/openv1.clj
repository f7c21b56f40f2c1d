(ns attack.openv1 (:require [slab.core :as slab]))
(defn -main [path]
  (try (let [seg (slab/open-segment path)] (println "OPENED?!" (slab/root seg :x)) (slab/close-segment! seg))
       (catch Throwable e (println (class e) (.getMessage e) (ex-data e))))
  (shutdown-agents))
