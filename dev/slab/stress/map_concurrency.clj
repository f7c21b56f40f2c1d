(ns slab.stress.map-concurrency
  "Repeats the scenario of slab.map.concurrency-test (futures and agents
  deriving versions from one shared map, then everything dropped) many times
  and audits the segment after each run, printing the blocks that leaked.

    bin/lein run -m slab.stress.map-concurrency [runs] [option ...]

  Options: futures=N ops=N (per worker), size=N (entries of the shared map),
  release (workers slab/release! a quarter of their intermediate versions),
  gc (workers call System.gc now and then, so the Cleaner runs beside them),
  yield (workers Thread/yield now and then), hop=N (workers move to a fresh
  java.lang.Thread every N updates, so threads that allocated die mid-run and
  their chunk tails are handed to later threads). Add JVM_OPTS=-Xmx400m for
  frequent collections."
  (:require [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.util :refer [settle!]])
  (:import (slab.mem Segment)
           (slab.ref Heap)))

(defn- on-new-thread [f]
  (let [p (promise)
        t (Thread. ^Runnable (fn [] (deliver p (try (f) (catch Throwable e e)))))]
    (.start t)
    (.join t)
    (let [v @p] (if (instance? Throwable v) (throw v) v))))

(defn- parse [args]
  (reduce (fn [o ^String a]
            (if-let [[_ k v] (re-matches #"(\w+)=(\d+)" a)]
              (assoc o (keyword k) (Long/parseLong v))
              (assoc o (keyword a) true)))
          {:futures 4 :ops 5000 :size 20000 :hop 0}
          args))

(defn run-once
  "One run; returns nil when the segment went back to its baseline, else the audit text."
  [{:keys [futures ops size release gc yield hop] :as _opts} seed]
  (let [seg (Segment/anonymous (* 1024 1024 1024) 5 5)]
    (try
      (slab/with-segment seg
        (slab/hash-map :owner 1 :i 2 :n 3 :name 4)
        (let [baseline (settle! seg -1)
              twin (into {} (map (fn [i] [i {:n i :name (str "entry number " i)}])) (range size))
              shared (slab/share twin)
              step (fn [m ^long owner ^long i ^java.util.Random rnd]
                     (let [k (mod (* (inc owner) i 31) (+ size (quot size 4)))
                           m2 (if (even? i) (assoc m k {:owner owner :i i}) (dissoc m k))]
                       (when (and release (not (identical? m shared)) (not (identical? m m2)) (zero? (.nextInt rnd 4)))
                         (slab/release! m))
                       (when (and gc (zero? (.nextInt rnd 1000))) (System/gc))
                       (when (and yield (zero? (.nextInt rnd 50))) (Thread/yield))
                       (when-not (= (get shared (mod (* i 17) size)) (get twin (mod (* i 17) size)))
                         (throw (IllegalStateException. "the shared version changed")))
                       m2))
              worker (fn [owner]
                       (let [rnd (java.util.Random. (+ owner (* 1000 seed)))]
                         (loop [m shared, i 0]
                           (cond
                             (>= i ops) (count m)
                             (pos? hop) (let [[m i] (on-new-thread
                                                     (fn [] (loop [m m, i i, j 0]
                                                              (if (or (>= j hop) (>= i ops))
                                                                [m i]
                                                                (recur (step m owner i rnd) (inc i) (inc j))))))]
                                          (recur m i))
                             :else (recur (step m owner i rnd) (inc i))))))
              fs (mapv #(future (worker %)) (range futures))
              agents (mapv agent (range 2))]
          (doseq [[i a] (map-indexed vector agents)]
            (send a (fn [_] (worker (+ 100 i))))
            (send-off a (fn [_] (count (reduce #(dissoc %1 %2) shared (range 0 size 7))))))
          (run! deref fs)
          (apply await agents)
          (when-let [e (some agent-error agents)] (throw e))
          (slab/release! shared)
          (let [end (settle! seg baseline)]
            (when (or (not= baseline end) (pos? (.cleanupFailures (.ownership (Heap/of seg)))))
              (str "baseline " baseline ", end " end "\n" (audit/describe seg))))))
      (finally (.close seg)))))

(defn -main [& args]
  (let [runs (if (and (seq args) (re-matches #"\d+" (first args))) (Long/parseLong (first args)) 20)
        opts (parse (if (and (seq args) (re-matches #"\d+" (first args))) (rest args) args))
        t0 (System/nanoTime)
        leaks (atom 0)]
    (println "runs" runs opts)
    (dotimes [i runs]
      (if-let [report (run-once opts i)]
        (do (swap! leaks inc) (println "\nLEAK in run" i "\n" report))
        (print "."))
      (flush))
    (println (format "\n%d runs, %d leaked, %.0f s" runs @leaks (/ (- (System/nanoTime) t0) 1e9)))
    (shutdown-agents)
    (System/exit (if (zero? @leaks) 0 1))))
