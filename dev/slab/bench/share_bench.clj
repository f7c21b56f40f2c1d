(ns slab.bench.share-bench
  "Cross-process benchmarks: swap! latency on a named-root atom (one process,
  and two processes contending), and handing a big map to another JVM
  through a named root versus a data.fressian or pr-str round trip.

    bin/lein run -m slab.bench.share-bench          ; full run
    bin/lein run -m slab.bench.share-bench quick    ; smaller sizes"
  (:require [clojure.data.fressian :as fress]
            [clojure.edn :as edn]
            [clojure.java.io :as io]
            [slab.core :as slab])
  (:import (java.io BufferedReader File InputStreamReader)
           (java.util Arrays)))

(set! *warn-on-reflection* true)

(defn- temp-path ^String [prefix]
  (let [f (File/createTempFile prefix ".slab" (io/file (if (.isDirectory (io/file "/dev/shm")) "/dev/shm" (System/getProperty "java.io.tmpdir"))))]
    (.delete f)
    (.deleteOnExit f)
    (str f)))

(defn- child
  "Starts a JVM on this classpath evaluating expr; returns [process line-reader]."
  [expr]
  (let [cmd [(str (System/getProperty "java.home") "/bin/java") "-cp" (System/getProperty "java.class.path")
             "-XX:+UseG1GC" "-Xmx4g" "clojure.main" "-e" expr]
        p (.start (doto (ProcessBuilder. ^java.util.List cmd) (.redirectError (java.lang.ProcessBuilder$Redirect/INHERIT))))]
    [p (BufferedReader. (InputStreamReader. (.getInputStream p)))]))

(defn- read-edn-line [^BufferedReader r]
  (loop []
    (let [l (.readLine r)]
      (cond (nil? l) (throw (ex-info "child ended" {}))
            (and (pos? (count l)) (#{\{ \[ \:} (.charAt l 0))) (edn/read-string l)
            :else (recur)))))

(defn- percentiles [^longs xs]
  (let [a (Arrays/copyOf xs (alength xs))]
    (Arrays/sort a)
    (let [at (fn [^double q] (/ (aget a (min (dec (alength a)) (long (* q (alength a))))) 1000.0))]
      {:p50-us (at 0.5) :p99-us (at 0.99) :max-us (at 1.0)})))

(defn- time-swaps
  "Latency of n swap!s of f on atom a, in nanoseconds each."
  ^longs [a f ^long n]
  (let [out (long-array n)]
    (dotimes [i n]
      (let [t0 (System/nanoTime)]
        (swap! a f i)
        (aset out i (- (System/nanoTime) t0))))
    out))

(defn- bump [m i] (assoc m (mod (* (long i) 7919) 1000) i))

(defn swap-latency
  "p50/p99 of swap! (assoc of one key) on maps of `size` entries: a slab
  named-root atom uncontended, contended by a second JVM, and a clojure.core
  atom for reference."
  [size n]
  (let [path (temp-path "swapbench")
        seg (slab/open-segment path {:capacity (* 4 1024 1024 1024)})
        base (into {} (map (fn [i] [i i])) (range size))
        a (slab/atom seg :m base)
        c (atom base)]
    (time-swaps a bump 2000)                              ; warm up
    (time-swaps c bump 2000)
    (let [slab-alone (percentiles (time-swaps a bump n))
          core (percentiles (time-swaps c bump n))
          [p r] (child (pr-str `(do (require '[slab.core :as ~'slab])
                                    (let [a# (slab/atom (slab/open-segment ~path) :m)]
                                      (println :ready)
                                      (loop [i# 0]
                                        (swap! a# assoc (+ 1000 (mod i# 1000)) i#)
                                        (recur (inc i#)))))))]
      (read-edn-line r)
      (Thread/sleep 1000)
      (let [contended (percentiles (time-swaps a bump n))]
        (.destroyForcibly ^Process p)
        (.waitFor ^Process p)
        (slab/close-segment! seg)
        (io/delete-file path true)
        {:size size :slab slab-alone :slab-contended contended :clojure-atom core}))))

(defn hand-off
  "Process A builds a map of `size` entries; process B obtains it and reduces
  over it. Through a named root versus data.fressian and pr-str files."
  [size]
  (let [path (temp-path "handoff")
        seg (slab/open-segment path {:capacity (* 8 1024 1024 1024)})
        plain (into {} (map (fn [i] [i {:qty i :sku (str "SKU-" i)}])) (range size))
        shared (slab/with-segment seg (slab/share plain))
        fress-file (temp-path "handoff-fressian")
        edn-file (temp-path "handoff-edn")
        t-fw (let [t0 (System/nanoTime)]
               (with-open [o (io/output-stream fress-file)]
                 (let [w (fress/create-writer o)] (fress/write-object w plain)))
               (- (System/nanoTime) t0))
        t-ew (when (<= size 1000000)
               (let [t0 (System/nanoTime)]
                 (spit edn-file (pr-str plain))
                 (- (System/nanoTime) t0)))
        _ (slab/set-root! seg :big shared)
        [p r] (child (pr-str
                      `(do (require '[slab.core :as ~'slab] '[clojure.data.fressian :as ~'fress]
                                    '[clojure.java.io :as ~'io] '[clojure.edn :as ~'edn])
                           (let [sum# (fn [m#] (reduce-kv (fn [acc# _# v#] (+ acc# (long (:qty v#)))) 0 m#))
                                 t0# (System/nanoTime)
                                 seg# (slab/open-segment ~path)
                                 m# (slab/root seg# :big)
                                 t1# (System/nanoTime)
                                 s# (sum# m#)
                                 t2# (System/nanoTime)
                                 f# (with-open [i# (io/input-stream ~fress-file)]
                                      (into {} (fress/read-object (fress/create-reader i#))))
                                 t3# (System/nanoTime)
                                 fs# (sum# f#)
                                 t4# (System/nanoTime)
                                 e# (when ~(boolean t-ew) (edn/read-string (slurp ~edn-file)))
                                 t5# (System/nanoTime)]
                             (println {:obtain (- t1# t0#) :reduce (- t2# t1#) :sum s#
                                       :fressian-read (- t3# t2#) :fressian-reduce (- t4# t3#) :fsum fs#
                                       :edn-read (when e# (- t5# t4#))})
                             (shutdown-agents)))))
        out (read-edn-line r)]
    (.waitFor ^Process p)
    (slab/close-segment! seg)
    (doseq [f [path fress-file edn-file]] (io/delete-file f true))
    (assoc out :size size :fressian-write t-fw :edn-write t-ew)))

(defn -main [& args]
  (let [quick (= "quick" (first args))
        ms (fn [^long ns] (format "%.3f ms" (/ ns 1e6)))]
    (println "# swap! latency (assoc of one key), microseconds")
    (println "| entries | slab p50 | slab p99 | slab, 2 processes contending p50 | p99 | clojure.core atom p50 | p99 |")
    (println "|---:|---:|---:|---:|---:|---:|---:|")
    (doseq [size (if quick [10000] [10000 1000000])]
      (let [{:keys [slab slab-contended clojure-atom]} (swap-latency size (if quick 5000 20000))]
        (println (format "| %,d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |" size
                         (:p50-us slab) (:p99-us slab) (:p50-us slab-contended) (:p99-us slab-contended)
                         (:p50-us clojure-atom) (:p99-us clojure-atom)))))
    (println)
    (println "# hand-off to a second JVM")
    (doseq [size (if quick [100000] [100000 1000000])]
      (let [r (hand-off size)]
        (assert (= (:sum r) (:fsum r)))
        (println (format "%,d entries: named root: obtain %s, reduce %s | fressian: write %s, read %s, reduce %s | pr-str: write %s, read-string %s | obtain vs fressian write+read: %.0fx"
                         size (ms (:obtain r)) (ms (:reduce r)) (ms (:fressian-write r)) (ms (:fressian-read r))
                         (ms (:fressian-reduce r)) (if (:edn-write r) (ms (:edn-write r)) "-")
                         (if (:edn-read r) (ms (:edn-read r)) "-")
                         (/ (double (+ (:fressian-write r) (:fressian-read r))) (:obtain r))))))
    (shutdown-agents)))
