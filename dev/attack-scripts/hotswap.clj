(ns attack.hotswap
  (:require [slab.core :as slab]
            [attack.churn :as ch])
  (:import (slab.mem HeapAudit) (java.util SplittableRandom)))

(defn -main [path cap secs]
  (.delete (java.io.File. ^String path))
  (let [seg (slab/open-segment path {:capacity cap})
        a (slab/atom seg :hot {:n 0 :s "0:"})
        anon (slab/with-segment seg (slab/atom {:n 0}))
        _ (do (swap! a assoc :s "x") (swap! anon assoc :s "x") (reset! a {:n 0 :s "0:"}) (reset! anon {:n 0}))
        base (ch/settle seg)
        deadline (+ (System/currentTimeMillis) (* 1000 (parse-long secs)))
        errs (atom [])
        swaps (atom 0)
        fs (vec (for [t (range 5)]
                  (future
                    (let [r (SplittableRandom. t)]
                      (try
                        (while (< (System/currentTimeMillis) deadline)
                          (let [x (.nextInt r 10)]
                            (cond
                              (< x 5) (let [s (ch/rstr r 400000)]
                                        (swap! a (fn [m] (-> m (update :n inc) (assoc :s s :v (vec (range (.nextInt r 200))))))))
                              (< x 8) (swap! anon (fn [m] (assoc m :n (inc (:n m)) :big (ch/rstr r 100000))))
                              :else (let [m @a] (when-not (and (ch/str-ok? (:s m)) (= (count (:v m)) (count (set (:v m))))) (swap! errs conj :bad-read))))
                            (swap! swaps inc)))
                        (catch Throwable e (swap! errs conj (str e))))))))]
    (run! deref fs)
    (println "swaps" @swaps "n" (:n @a) "anon n" (:n @anon) "errs" (take 3 @errs))
    (reset! a {:n 0 :s "0:"}) (reset! anon {:n 0})
    (let [after (ch/settle seg)]
      (println "base" base "after" after "diff" (- after base))
      (println "verify" (slab/verify seg))
      (println "audit" (try (str (HeapAudit/check seg)) (catch Throwable e (str "AUDIT FAILED " e)))))
    (slab/close-segment! seg)
    (.delete (java.io.File. ^String path))
    (shutdown-agents)))
