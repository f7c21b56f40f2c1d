(ns attack.bigstr
  (:require [slab.core :as slab]))

(defn -main [& _]
  (let [f "/dev/shm/attack-bigstr.slab"
        _ (.delete (java.io.File. f))
        seg (slab/open-segment f {:capacity "16m"})]
    (doseq [n [15000000 7000000 15000000]]
      (let [s (apply str (repeat n \a))]
        (try (let [v (slab/share [s] {:segment seg})]
               (println n "ok" (:bytes-in-use (slab/stats seg)))
               (slab/release! v))
             (catch Exception e (println n "FAIL" (:slab/error (ex-data e)) (.getMessage e))))))
    (slab/close-segment! seg)
    (.delete (java.io.File. f))
    (shutdown-agents)))
