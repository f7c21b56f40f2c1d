(ns attack.churn
  (:require [slab.core :as slab])
  (:import (java.util SplittableRandom ArrayList)
           (java.util.concurrent.atomic AtomicLong)
           (slab.mem Segment HeapAudit)))

(def errors (java.util.concurrent.ConcurrentLinkedQueue.))
(def counts (java.util.concurrent.ConcurrentHashMap.))
(defn bump! [k] (.merge ^java.util.concurrent.ConcurrentHashMap counts k 1 +))

(defn rstr [^SplittableRandom r ^long max]
  (let [n (long (Math/exp (* (.nextDouble r) (Math/log (double max)))))
        c (char (+ 97 (.nextInt r 26)))]
    (str n ":" (apply str (repeat n c)))))

(defn str-ok? [^String s]
  (let [i (.indexOf s ":")
        n (Long/parseLong (subs s 0 i))]
    (and (= (count s) (+ i 1 n))
         (or (zero? n) (let [c (.charAt s (inc i))] (every? #(= c %) (subs s (inc i))))))))

(defn rvalue [^SplittableRandom r depth maxs]
  (case (int (if (pos? depth) (.nextInt r 6) (.nextInt r 3)))
    0 (.nextLong r)
    1 (rstr r maxs)
    2 (.nextDouble r)
    3 (into {} (for [i (range (.nextInt r 12))] [(if (.nextBoolean r) i (str "k" i)) (rvalue r (dec depth) maxs)]))
    4 (vec (for [_ (range (.nextInt r 40))] (rvalue r (dec depth) maxs)))
    5 (into #{} (for [_ (range (.nextInt r 10))] (rvalue r (dec depth) maxs)))))

(defn fail! [what & more]
  (.add errors (into [what] more))
  (binding [*out* *err*] (println "FAIL" what (pr-str (take 3 more)))))

(defn atom-ok? [m]
  (every? (fn [[k v]] (and (string? v) (.startsWith ^String v (str k "=")) (str-ok? (subs v (inc (count (str k))))))) m))

(defn one-op [seg a ^SplittableRandom r ^ArrayList held maxs]
  (let [op (.nextInt r 100)]
    (cond
      (< op 20) (let [v (rvalue r 3 maxs)
                      s (slab/share v {:segment seg})]
                  (bump! :share)
                  (when-not (= s v) (fail! :share-mismatch))
                  (.add held [v s]))
      (< op 35) (let [[hv sv] (reduce (fn [[hv sv] i]
                                         (let [k (.nextInt r 50)]
                                           (if (.nextBoolean r)
                                             (let [x (rstr r maxs)] [(assoc hv k x) (assoc sv k x)])
                                             [(dissoc hv k) (dissoc sv k)])))
                                       [{} (slab/with-segment seg (slab/hash-map))] (range (.nextInt r 60)))]
                  (bump! :chain)
                  (when-not (and (= hv sv) (= sv hv)) (fail! :chain-mismatch))
                  (.add held [hv sv]))
      (< op 45) (let [n (.nextInt r 3000)
                      sv (slab/with-segment seg (persistent! (reduce #(assoc! %1 %2 (str "v" %2)) (transient (slab/hash-map)) (range n))))]
                  (bump! :transient)
                  (when-not (and (= n (count sv)) (= (str "v" (dec n)) (get sv (dec n) (str "v" (dec n))))) (fail! :transient-mismatch))
                  (.add held [nil sv]))
      (< op 55) (let [hv (vec (for [_ (range (.nextInt r 20))] (rstr r (* 4 maxs))))
                      sv (slab/with-segment seg (slab/vec hv))]
                  (bump! :bigvec)
                  (when-not (= hv sv) (fail! :vec-mismatch))
                  (.add held [hv sv]))
      (< op 80) (let [k (.nextInt r 64)
                      x (rstr r maxs)
                      del (.nextInt r 3)]
                  (swap! a (fn [m] (if (zero? del) (dissoc m k) (assoc m k (str k "=" x)))))
                  (bump! :swap)
                  (let [m @a] (when-not (atom-ok? m) (fail! :atom-broken))))
      (< op 90) (when (pos? (.size held))
                  (let [i (.nextInt r (.size held))
                        [hv sv] (.get held i)]
                    (when (and hv (not= hv sv)) (fail! :held-changed))
                    (slab/release! sv)
                    (.set held i (.get held (dec (.size held))))
                    (.remove held (int (dec (.size held))))
                    (bump! :release)))
      :else (when (> (.size held) 30)
              (.clear held)
              (bump! :drop)))))

(defn settle [^Segment seg]
  (loop [i 0 prev -1 same 0]
    (System/gc) (Thread/sleep 50)
    (let [now (.bytesInUse (.stats (.allocator seg)))
          same (if (= now prev) (inc same) 0)]
      (if (or (>= same 4) (> i 300)) now (recur (inc i) now same)))))

(defn run-threads [seg a nthreads secs maxs seed]
  (let [deadline (+ (System/currentTimeMillis) (* 1000 secs))
        fs (doall (for [t (range nthreads)]
                    (future
                      (let [r (SplittableRandom. (+ seed (* 1000 t)))
                            held (ArrayList.)]
                        (try
                          (while (< (System/currentTimeMillis) deadline)
                            (try (one-op seg a r held maxs)
                                 (catch clojure.lang.ExceptionInfo e
                                   (if (= :segment-full (:slab/error (ex-data e)))
                                     (do (bump! :full) (.clear held))
                                     (fail! :ex (.getMessage e) (ex-data e))))))
                          (catch Throwable e (fail! :thread-died (str e)) (.printStackTrace e)))
                        (doseq [[_ sv] held] (when (.nextBoolean r) (slab/release! sv)))))))]
    (doseq [f fs] (deref f))))

(defn -main [path cap nthreads secs maxs & [mode]]
  (let [cap (Long/parseLong cap) nthreads (Long/parseLong nthreads) secs (Long/parseLong secs) maxs (Long/parseLong maxs)
        seg (slab/open-segment path {:capacity cap})
        a (slab/atom seg :shared {})
        _ (run-threads seg a 2 1 100 7)       ; warm up: intern keywords, grow things
        _ (reset! a {})
        base (settle seg)
        t0 (System/nanoTime)]
    (println "base" base (pr-str (slab/stats seg)))
    (let [stop (atom false)
          rf (when (= mode "recover")
               (future (loop [n 0] (if @stop n (do (Thread/sleep 150)
                                                   (try (slab/recover! seg) (catch Throwable e (fail! :recover (str e))))
                                                   (recur (inc n)))))))]
      (run-threads seg a nthreads secs maxs (System/nanoTime))
      (reset! stop true)
      (when rf (println "recovers" @rf)))
    (println "ran" (/ (- (System/nanoTime) t0) 1e9) "s" (into (sorted-map) counts))
    (when-not (atom-ok? @a) (fail! :final-atom-broken))
    (reset! a {})
    (let [after (settle seg)]
      (println "base" base "after" after "diff" (- after base))
      (when (and (not= mode "multi") (not= after base)) (fail! :leak base after (slab/stats seg))))
    (when (not= mode "multi")
      (println "verify" (slab/verify seg))
      (try (println "audit" (str (HeapAudit/check seg))) (catch Throwable e (fail! :audit (str e)))))
    (println "ERRORS" (count errors) (pr-str (take 5 errors)))
    (slab/close-segment! seg)
    (shutdown-agents)
    (System/exit (if (empty? errors) 0 1))))
