(ns attack.recclose
  (:require [slab.core :as slab]
            [attack.churn :as ch])
  (:import (java.util SplittableRandom ArrayList)))

(defn -main [path ms]
  (let [seg (slab/open-segment path {:capacity "64m"})
        a (slab/atom seg :shared {})
        stop (atom false)
        odd (java.util.concurrent.ConcurrentLinkedQueue.)
        ws (vec (for [t (range 3)]
                  (future (let [r (SplittableRandom. t) held (ArrayList.)]
                            (while (not @stop)
                              (try (ch/one-op seg a r held 20000)
                                   (catch IllegalStateException e (when-not (re-find #"closed" (str (.getMessage e))) (.add odd (str e))) (reset! stop true))
                                   (catch Throwable e (when-not (re-find #"closed" (str (.getMessage e))) (.add odd (str e))) (reset! stop true))))))))
        rf (future (while (not @stop) (try (slab/recover! seg) (catch Throwable e (when-not (re-find #"closed" (str (.getMessage e))) (.add odd (str "recover: " e))) (reset! stop true)))))]
    (Thread/sleep (parse-long ms))
    (let [t0 (System/nanoTime)]
      (try (slab/close-segment! seg) (catch Throwable e (.add odd (str "close: " e))))
      (println "close took ms" (/ (- (System/nanoTime) t0) 1e6)))
    (reset! stop true)
    (run! #(deref % 60000 :hang) (conj ws rf))
    (println "odd exceptions:" (vec (take 5 odd)) "errors" (vec (take 3 ch/errors)))
    (shutdown-agents)))
