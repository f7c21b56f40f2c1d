(ns attack.closeopen
  (:require [slab.core :as slab])
  (:import (slab.mem HeapAudit)))

(defn val-for [t i] {:t t :i i :s (str "value-" t "-" i)})

(defn -main [path rounds]
  (.delete (java.io.File. ^String path))
  (let [bad (atom 0)]
    (dotimes [round (parse-long rounds)]
      (let [seg (slab/open-segment path {:capacity "1g"})
            _ (slab/set-root! seg :old (slab/with-segment seg (slab/vec (for [i (range 200000)] (str "old-string-" i)))))
            held (slab/with-segment seg (slab/vec (for [i (range 200000)] (str "held-string-" i))))   ; this process's spans, live
            closer (future (Thread/sleep 20) (try (slab/close-segment! seg) :closed (catch Throwable e (println "CLOSE THREW" (.getMessage e)) :close-threw)))
            opener (future
                     (let [s2 (loop [] (let [s (try (slab/open-segment path) (catch IllegalStateException e (println "open threw:" (.getMessage e)) seg))] (if (identical? s seg) (recur) s)))]
                       [s2 (slab/with-segment s2 (vec (for [i (range 30000)] (slab/share (val-for 1 i)))))]))
            c (deref closer 60000 :hang)
            o (deref opener 60000 :hang)
            _ (when (or (= c :hang) (= o :hang)) (println "round" round "HANG closer" c "opener" (if (= o :hang) :hang :done)) (flush) (System/exit 3))
            [s2 vs] o
            _ (println "round" round c)
            ok (every? (fn [[i m]] (= m (val-for 1 i))) (map-indexed vector vs))
            old-ok (= (slab/root s2 :old) (vec (for [i (range 200000)] (str "old-string-" i))))
            audit (try (str (HeapAudit/check s2)) (catch Throwable e (str "AUDIT FAILED " (.getMessage e))))
            ;; keep allocating: does anything overwrite vs?
            more (slab/with-segment s2 (vec (for [i (range 30000)] (slab/share (val-for 2 i)))))
            ok2 (every? (fn [[i m]] (= m (val-for 1 i))) (map-indexed vector vs))
            ok3 (every? (fn [[i m]] (= m (val-for 2 i))) (map-indexed vector more))]
        (when (or (not ok) (not ok2) (not ok3) (not old-ok) (re-find #"FAILED" audit))
          (swap! bad inc)
          (println "round" round "ok" ok ok2 ok3 "old-ok" old-ok audit))
        (slab/close-segment! s2)))
    (println "bad rounds" @bad)
    (.delete (java.io.File. ^String path))
    (shutdown-agents)))
