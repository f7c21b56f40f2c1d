(ns attack.kchild
  (:require [slab.core :as slab]
            [attack.churn :as ch])
  (:import (java.util SplittableRandom ArrayList)))

(defn table-ok? [t]
  (or (nil? t)
      (let [i (get t :i)]
        (and (= 301 (count t))
             (every? #(= (str "row " % " of " i) (get t %)) (range 300))))))

(defn check-roots [seg roots]
  (let [a (get roots :shared) t (get roots :table)]
    (println "ROOTCHECK" (if (and (or (nil? a) (ch/atom-ok? a)) (table-ok? t)) "OK" (str "BROKEN " (pr-str (keys roots)))))))

(defn -main [path cap nthreads mode]
  (let [cap (Long/parseLong cap) nthreads (Long/parseLong nthreads)
        segv (volatile! (slab/open-segment path {:capacity cap}))]
    (println "working") (flush)
    (let [fs (doall
              (for [t (range nthreads)]
                (future
                  (let [r (SplittableRandom. (+ (System/nanoTime) t))
                        held (ArrayList.)]
                    (while true
                      (let [seg @segv]
                        (try
                          (let [a (slab/atom seg :shared {})]
                            (dotimes [_ 20]
                              (let [x (.nextInt r 100)]
                                (cond
                                  (and (= t 0) (< x 3) (= mode "close"))
                                  (do (slab/close-segment! seg)
                                      (vreset! segv (slab/open-segment path)))
                                  (and (= t 0) (< x 6) (#{"recover" "close"} mode))
                                  (slab/recover! seg)
                                  (< x 12) (let [i (.nextInt r 1000)]
                                             (slab/set-root! seg :table (persistent! (reduce #(assoc! %1 %2 (str "row " %2 " of " i))
                                                                                             (transient (slab/with-segment seg (slab/hash-map :i i)))
                                                                                             (range 300)))))
                                  :else (ch/one-op seg a r held 30000)))))
                          (catch clojure.lang.ExceptionInfo e
                            (if (= :segment-full (:slab/error (ex-data e)))
                              (.clear held)
                              (binding [*out* *err*] (println "CHILD-EX" (.getMessage e)))))
                          (catch IllegalStateException e
                            (.clear held)
                            (when-not (re-find #"closed" (str (.getMessage e)))
                              (binding [*out* *err*] (println "CHILD-ISE" (.getMessage e))))))))))))]
      (doseq [f fs] @f))))
