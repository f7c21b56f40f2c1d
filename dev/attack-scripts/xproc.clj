(ns attack.xproc
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)
           (java.util.concurrent CountDownLatch)))

(defn val-for [r i] {:r r :i i :s (str "value-" r "-" i) :v [i (str i)]})

(defn -main [mode path]
  (case mode
    "build" (let [seg (slab/open-segment path {:capacity "512m"})]
              (doseq [r (range 8)]
                (slab/set-root! seg (keyword (str "r" r)) (vec (for [i (range 3000)] (val-for r i)))))
              (slab/close-segment! seg))
    "race" (let [seg (slab/open-segment path)
                 latch (CountDownLatch. 1)
                 fs (vec (concat
                          (for [r (range 8)] (future (.await latch) (slab/set-root! seg (keyword (str "r" r)) nil) :cleared))
                          (for [t (range 3)] (future (.await latch)
                                               (let [vs (slab/with-segment seg (vec (for [i (range 6000)] (slab/share (val-for (+ 100 t) i)))))]
                                                 [t vs])))))
                 _ (.countDown latch)
                 res (mapv deref fs)
                 ok (every? (fn [x] (or (= x :cleared) (let [[t vs] x] (every? (fn [[i m]] (= m (val-for (+ 100 t) i))) (map-indexed vector vs))))) res)
                 audit (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e))))]
             (println "values-ok" ok audit)
             (let [more (slab/with-segment seg (vec (for [i (range 40000)] (slab/share [i (str "filler" i)]))))
                   big (slab/with-segment seg (vec (for [i (range 100)] (slab/share (apply str (repeat 50000 (char (+ 65 (mod i 26)))))))))
                   ok2 (every? (fn [x] (or (= x :cleared) (let [[t vs] x] (every? (fn [[i m]] (= m (val-for (+ 100 t) i))) (map-indexed vector vs))))) res)
                   ok3 (every? (fn [[i m]] (= m [i (str "filler" i)])) (map-indexed vector more))
                   ok4 (every? (fn [[i s]] (= s (apply str (repeat 50000 (char (+ 65 (mod i 26))))))) (map-indexed vector big))]
               (println "after more allocation: old values ok" ok2 "fillers ok" ok3 "big ok" ok4))
             (slab/close-segment! seg)))
  (shutdown-agents))
