(ns slab.bench.contention-bench
  "Throughput of swap! on one atom under contention: two threads of one
  process, and two processes mapping the same file, each doing one assoc
  per swap! on a 10k-entry map; a clojure.core atom with two threads for
  reference. Prints total swaps per second.

  bin/lein with-profile +bench run -m slab.bench.contention-bench [size=10000] [swaps=200000] [rounds=3] [procs-only=1]"
  (:require [clojure.java.io :as io]
            [slab.core :as slab]))

(set! *warn-on-reflection* true)

(defn- swaps!
  "n swaps of one assoc each on a; keys spread over 2*size so half are new."
  [a ^long n ^long size ^long seed]
  (dotimes [i n]
    (swap! a assoc (mod (+ seed (* i 7919)) (* 2 size)) i)))

(defn- threads-rate
  "Swaps per second of two threads doing n swaps each on a."
  [a n size]
  (let [go (promise)
        fs (mapv (fn [t] (future @go (swaps! a n size (* t 104729)))) (range 2))
        t0 (System/nanoTime)]
    (deliver go true)
    (run! deref fs)
    (/ (* 2.0 n) (/ (- (System/nanoTime) t0) 1e9))))

(defn- child-cmd [file n size]
  [(str (io/file (System/getProperty "java.home") "bin" "java"))
   "-cp" (System/getProperty "java.class.path")
   "clojure.main" "-m" "slab.bench.contention-bench" "child" file (str n) (str size)])

(defn- processes-rate
  "Swaps per second of this process and a child process doing n swaps
  each on the named atom :bench of file. The child waits for the root
  :go, so both start together once its JVM is warm, and the clock stops
  when both have done their swaps (not when the child JVM has exited)."
  [file n size]
  (let [seg (slab/open-segment file)
        a (slab/atom seg :bench)
        p (.start (doto (ProcessBuilder. ^java.util.List (child-cmd file n size)) (.inheritIO)))]
    (try
      (while (not= :ready (slab/root seg :child)) (Thread/sleep 10))
      (let [t0 (System/nanoTime)]
        (slab/set-root! seg :go true)
        (swaps! a n size 0)
        (while (not= :done (slab/root seg :child)) (Thread/sleep 1))
        (let [secs (/ (- (System/nanoTime) t0) 1e9)]
          (.waitFor p)
          (when-not (zero? (.exitValue p)) (throw (ex-info "child failed" {:exit (.exitValue p)})))
          (slab/set-root! seg :go false)
          (slab/set-root! seg :child nil)
          (/ (* 2.0 n) secs)))
      (finally (slab/close-segment! seg)))))

(defn- child [file n size]
  (let [seg (slab/open-segment file)
        a (slab/atom seg :bench)
        n (parse-long n) size (parse-long size)]
    (swaps! a 20000 size 7)                     ; warm the JIT before the timed run
    (slab/set-root! seg :child :ready)
    (while (not (slab/root seg :go)) (Thread/sleep 1))
    (swaps! a n size 104729)
    (slab/set-root! seg :child :done)         ; the parent stops its clock here, not at this JVM's exit
    (slab/close-segment! seg)
    (shutdown-agents)))

(defn -main [& args]
  (if (= "child" (first args))
    (apply child (rest args))
    (let [opts (into {} (map #(let [[k v] (.split ^String % "=")] [(keyword k) (parse-long v)])) args)
          size (:size opts 10000), n (:swaps opts 200000), rounds (:rounds opts 3)
          file (str (java.io.File/createTempFile "contention-bench" ".slab"))
          init (into {} (map (fn [i] [i i])) (range size))]
      (println (format "contention-bench: JDK %s, %d cores, %d-entry map, %d swaps per thread or process"
                       (System/getProperty "java.version") (.availableProcessors (Runtime/getRuntime)) size n))
      (let [seg (slab/open-segment file {:capacity (* 2 1024 1024 1024)})]
        (slab/atom seg :bench init)
        (swaps! (slab/atom seg :bench) 50000 size 3)   ; warm-up
        (slab/close-segment! seg))
      (dotimes [r rounds]
        (let [procs-only (= 1 (:procs-only opts))
              core (if procs-only 0.0 (threads-rate (atom init) n size))
              seg (slab/open-segment file)
              threads (if procs-only 0.0 (try (threads-rate (slab/atom seg :bench) n size) (finally (slab/close-segment! seg))))
              procs (processes-rate file n size)]
          (println (format "round %d: clojure.core atom, 2 threads %,10.0f swaps/s | slab, 2 threads %,10.0f swaps/s | slab, 2 processes %,10.0f swaps/s"
                           r core threads procs))
          (flush)))
      (.delete (java.io.File. file))
      (shutdown-agents))))
