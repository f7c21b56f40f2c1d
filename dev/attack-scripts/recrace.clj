(ns attack.recrace
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)
           (java.util.concurrent CountDownLatch)))

(defn build [seg t n]
  (slab/with-segment seg
    (vec (for [i (range n)] (slab/share {:t t :i i :s (str "value-" t "-" i) :v [i (inc i) (str i)]})))))

(defn ok? [t vs] (every? (fn [[i m]] (= m {:t t :i i :s (str "value-" t "-" i) :v [i (inc i) (str i)]})) (map-indexed vector vs)))

(defn -main [path rounds]
  (.delete (java.io.File. ^String path))
  (let [seg (slab/open-segment path {:capacity "512m"})
        bad (atom 0)]
    (dotimes [round (parse-long rounds)]
      (let [olds (mapv deref (mapv #(future (build seg % 3000)) (range 4)))
            rep (slab/recover! seg)
            latch (CountDownLatch. 1)
            fs (vec (concat
                     (for [t (range 4)] (future (.await latch) (doseq [v (olds t)] (slab/release! v)) :released))
                     (for [t (range 4)] (future (.await latch) (let [vs (build seg (+ 10 t) 3000)] [(+ 10 t) vs])))))
            _ (.countDown latch)
            res (mapv deref fs)
            news (filter vector? res)
            vals-ok (every? (fn [[t vs]] (ok? t vs)) news)
            audit (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e))))
            v (slab/verify seg)]
        (doseq [[_ vs] news, x vs] (slab/release! x))
        (when (or (not vals-ok) (re-find #"FAILED" audit) (not (:counts-add-up v)) (pos? (:unreachable v)))
          (swap! bad inc)
          (println "round" round "swept" (:swept rep) "vals-ok" vals-ok audit v))))
    (println "bad rounds" @bad "stats" (select-keys (slab/stats seg) [:bytes-in-use]))
    (try (slab/close-segment! seg) (catch Throwable e (println "close failed" e)))
    (.delete (java.io.File. ^String path))
    (shutdown-agents)))
