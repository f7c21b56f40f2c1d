(ns slab.bench.vector-bench
  "slab's shared vector against clojure.core's PersistentVector, side by side
  in one JVM: nth at random indexes, conj one by one, assoc at random
  indexes, transient bulk build, reduce, seq walk and = (two equal vectors
  that share no nodes), at 1k, 100k, 1M and 10M elements; then bytes per
  element and the full-GC pause with 10M elements live.

    bin/lein run -m slab.bench.vector-bench          ; full run (~20 min)
    bin/lein run -m slab.bench.vector-bench quick    ; 1k, 100k and 1M, fewer rounds
    bin/lein run -m slab.bench.vector-bench targets  ; the targeted operations at 1M,
                                                     ; each pair in 3 fresh JVMs (~8 min)

  Elements are the longs 0..n-1 (boxed Longs in the PersistentVector). The
  10M sizes need a heap of about 3 GiB (the default max heap is a quarter of
  RAM; set JVM_OPTS=-Xmx4g if it is smaller). Per-operation benchmarks use
  slab.bench.harness; whole-vector passes (reduce, seq, =) use the small
  pass runner below, since one pass over 10M elements is longer than a
  harness round."
  (:require [clojure.string :as str]
            [slab.bench.harness :as h]
            [slab.vector :as sv])
  (:import (clojure.lang PersistentVector)
           (java.lang.management ManagementFactory MemoryMXBean GarbageCollectorMXBean)
           (java.util Random)
           (slab.ref Heap)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(def ^:private seg (delay (Segment/anonymous (* 8 1024 1024 1024) 5 5)))
(defn- heap ^Heap [] (Heap/of ^Segment @seg))
(defn- in-use ^long [] (.bytesInUse (.stats (.allocator ^Segment @seg))))

(defn- pv ^PersistentVector [^long n] (persistent! (reduce conj! (transient []) (range n))))
(defn- slab-vec [^long n] (persistent! (reduce conj! (transient (sv/vector-in (heap))) (range n))))

(defn- random-indexes
  "2^20 random indexes below n (a fixed sequence, the same for both sides)."
  ^ints [^long n]
  (let [rnd (Random. 42)
        a (int-array (bit-shift-left 1 20))]
    (dotimes [i (alength a)] (aset a i (.nextInt rnd (int n))))
    a))

(def ^:private ^:const idx-mask 1048575)   ; 2^20 - 1

(defn- label [^long n]
  (cond (>= n 1000000) (str (quot n 1000000) "M")
        (>= n 1000) (str (quot n 1000) "k")
        :else (str n)))

;; --- per-operation benchmarks (harness) ---------------------------------------------

(defn- drain!
  "Collects until the Cleaner has given back every dropped version, so one
  benchmark's garbage is not reclaimed during the next one's rounds."
  []
  (loop [prev -1 tries 0]
    (System/gc)
    (Thread/sleep 100)
    (let [live (.liveVersions (.ownership (heap)))]
      (when (and (not= live prev) (< tries 50)) (recur live (inc tries))))))

(defn- release! [v] (.release ^slab.ref.Handle (.slabHandle ^slab.ref.SharedColl v)))

(defn- build-body
  "Transient build: one op = one conj!; persistent! every n elements and at
  the end; release? gives each built slab vector back at once."
  [base ^long n release?]
  (let [empty-v (empty base)
        done (fn ^long [t] (let [v (persistent! t), c (count v)]
                             (when release? (release! v))
                             c))]
    (fn [_ ^long ops]
      (loop [k 0 j 0 t (transient empty-v) acc 0]
        (cond (== k ops) (+ acc (long (done t)))
              (== j n) (recur k 0 (transient empty-v) (+ acc (long (done t))))
              :else (recur (inc k) (inc j) (conj! t k) acc))))))

(defn- op-benches
  "[core-bench slab-bench] pairs for the per-operation benchmarks at size n."
  [^long n core sl]
  (let [^ints idx (random-indexes n)
        pair (fn [what f]
               [{:name (str what " / core " (label n)) :body (f core)}
                {:name (str what " / slab " (label n)) :body (f sl)}])]
    [(pair "nth random"
           (fn [v] (fn [_ ^long ops]
                     (loop [k 0 acc 0]
                       (if (< k ops)
                         (recur (inc k) (+ acc (long (nth v (aget idx (bit-and k idx-mask))))))
                         acc)))))
     (pair "conj one by one"
           ;; 64 conjs from the base version, then start again: the size stays near n
           (fn [base] (fn [_ ^long ops]
                        (loop [k 0 v base acc 0]
                          (if (< k ops)
                            (let [v (if (zero? (bit-and k 63)) base v)]
                              (recur (inc k) (conj v k) (+ acc (count v))))
                            acc)))))
     (pair "assoc random"
           (fn [base] (fn [_ ^long ops]
                        (loop [k 0 acc 0]
                          (if (< k ops)
                            (recur (inc k) (+ acc (count (assoc base (aget idx (bit-and k idx-mask)) k))))
                            acc)))))
     (pair "transient build"
           ;; one op = one conj!; persistent! every n elements (and at the end);
           ;; the built vectors are dropped, for the GC (slab: the Cleaner) to reclaim
           (fn [base] (build-body base n false)))
     ;; the same, but slab gives each built vector back at once with release!,
     ;; so its blocks are reused while still in cache, as the JVM reuses its TLAB
     [{:name (str "transient build, slab release! / core " (label n)) :body (build-body core n false)}
      {:name (str "transient build, slab release! / slab " (label n)) :body (build-body sl n true)}]]))

;; --- whole-vector passes --------------------------------------------------------------

(defn- pass-round
  "Runs pass (which returns a long) until round-ms have passed; elements per
  pass is n. Returns {:ops :nanos :cpu-nanos :alloc-bytes :gc-count :gc-ms}."
  [pass ^long n ^long round-ms]
  (let [[gc0 gt0] (h/gc-counts)
        b0 (h/thread-allocated-bytes)
        c0 (h/thread-cpu-nanos)
        t0 (System/nanoTime)
        deadline (+ t0 (* 1000000 round-ms))]
    (loop [passes 1 acc (long (pass))]
      (if (< (System/nanoTime) deadline)
        (recur (inc passes) (bit-xor acc (long (pass))))
        (let [t1 (System/nanoTime)
              [gc1 gt1] (h/gc-counts)]
          (h/consume! acc)
          {:ops (* passes n) :nanos (- t1 t0) :cpu-nanos (- (h/thread-cpu-nanos) c0)
           :alloc-bytes (- (h/thread-allocated-bytes) b0)
           :gc-count (- (long gc1) (long gc0)) :gc-ms (- (long gt1) (long gt0))})))))

(defn- run-passes
  "Warms up then runs rounds of every pass benchmark interleaved; summaries as the harness makes them."
  [benches {:keys [warmup-ms rounds round-ms]}]
  (doseq [b benches]
    (print (str "  warming up " (:name b) " ... ")) (flush)
    (let [deadline (+ (System/currentTimeMillis) (long warmup-ms))]
      (loop [] (pass-round (:pass b) (:n b) 100) (when (< (System/currentTimeMillis) deadline) (recur))))
    (println "ok"))
  (let [results (reduce (fn [acc _] (mapv (fn [acc b] (conj acc (pass-round (:pass b) (:n b) round-ms))) acc benches))
                        (vec (repeat (count benches) []))
                        (range rounds))]
    (mapv h/summarize benches results)))

(defn- pass-benches [n core sl core2 sl2]
  (let [n (long n)
        pair (fn [what f]
               [{:name (str what " / core " (label n)) :n n :pass (f core core2)}
                {:name (str what " / slab " (label n)) :n n :pass (f sl sl2)}])]
    [(pair "reduce +" (fn [v _] (fn [] (long (reduce + 0 v)))))
     (pair "seq walk" (fn [v _] (fn [] (loop [s (seq v) acc 0]
                                         (if s (recur (next s) (+ acc (long (first s)))) acc)))))
     (pair "= (no shared nodes)" (fn [a b] (fn [] (if (= a b) 1 0))))]))

;; --- memory and GC ----------------------------------------------------------------------

(def ^:private ^MemoryMXBean memory (ManagementFactory/getMemoryMXBean))

(defn- full-gc! []
  (dotimes [_ 3] (System/gc) (Thread/sleep 50)))

(defn- heap-used
  "Heap bytes in use after collections, once two readings agree within 0.5 %."
  ^long []
  (loop [prev -1 tries 0]
    (full-gc!)
    (let [u (.getUsed (.getHeapMemoryUsage memory))]
      (if (or (> tries 10) (< (Math/abs (- u prev)) (* 0.005 u))) u (recur u (inc tries))))))

(defn- bytes-per-element
  "Heap bytes a PersistentVector of n boxed Longs retains, and segment bytes a
  slab vector of the same longs uses, per element."
  [^long n]
  (let [h0 (heap-used)
        v (pv n)
        h1 (heap-used)
        s0 (in-use)
        s (slab-vec n)
        s1 (in-use)]
    (h/consume! (+ (count v) (count s)))
    [(/ (double (- h1 h0)) n) (/ (double (- s1 s0)) n)]))

(defn- gc-pause-ms
  "Median wall time of a System.gc() (a full collection under G1) with x live."
  ^double [x]
  (full-gc!)
  (let [times (vec (sort (for [_ (range 7)]
                           (let [t0 (System/nanoTime)]
                             (System/gc)
                             (/ (double (- (System/nanoTime) t0)) 1e6)))))]
    (h/consume! (count x))
    (double (times 3))))

;; --- reporting ----------------------------------------------------------------------------

(declare full-run)

(defn- ns-per-op
  "Nanoseconds per operation from a summary's rate under key k."
  ^double [k s]
  (/ 1e9 (double (k s))))

(defn- ratio-table
  "One row per benchmark pair: core and slab ns/element (wall and CPU), the
  slab/core time ratios, heap bytes per op and GCs."
  [summaries]
  (let [ns-op ns-per-op
        rows (for [[c s] (partition 2 summaries)]
               (let [[what size] (str/split (str/replace (:name c) " / core" "") #" (?=[^ ]+$)")]
                 (format "| %s | %s | %.1f | %.1f | **%.2f** | %.1f | %.1f | %.2f | %.1f / %.1f | %d / %d |"
                         what size
                         (ns-op :median-ops-s c) (ns-op :median-ops-s s)
                         (/ (ns-per-op :median-ops-s s) (ns-per-op :median-ops-s c))
                         (ns-op :median-ops-cpu-s c) (ns-op :median-ops-cpu-s s)
                         (/ (ns-per-op :median-ops-cpu-s s) (ns-per-op :median-ops-cpu-s c))
                         (:alloc-bytes-per-op c) (:alloc-bytes-per-op s)
                         (long (:gc-count c)) (long (:gc-count s)))))]
    (str/join "\n" (concat ["| operation | size | core ns/op | slab ns/op | slab ÷ core (wall) | core CPU ns/op | slab CPU ns/op | slab ÷ core (CPU) | heap B/op core / slab | GCs core / slab |"
                            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
                           rows))))

;; --- targets: each pair alone in fresh JVMs ---------------------------------------------

(def ^:private target-ops ["nth random" "reduce +" "transient build" "transient build, slab release!" "seq walk"])

(declare run-pair)

(defn- run-one
  "Runs one core/slab pair at size n in this JVM and prints its result line."
  [op ^long n]
  (if (= op "full GC pause")
    (let [empty-ms (gc-pause-ms nil)
          core-ms (let [v (pv n)] (gc-pause-ms v))
          slab-ms (let [v (slab-vec n)] (gc-pause-ms v))]
      (println "RESULT" (pr-str {:op op :core-ms core-ms :slab-ms slab-ms :empty-ms empty-ms})))
    (run-pair op n)))

(defn- run-pair [op ^long n]
  (let [core (pv n), core2 (pv n), sl (slab-vec n), sl2 (slab-vec n)
        opts {:warmup-ms 3000 :rounds 15 :round-ms 400}
        named (fn [pairs] (first (filter #(str/starts-with? (:name (first %)) (str op " / ")) pairs)))
        [c s] (if-let [p (named (op-benches n core sl))]
                (do (drain!) (h/run-suite p opts))
                (do (drain!) (run-passes (named (pass-benches n core sl core2 sl2)) opts)))
        ns-op (fn [k x] (/ 1e9 (double (k x))))]
    (println "RESULT" (pr-str {:op op :core-ns (ns-op :median-ops-s c) :slab-ns (ns-op :median-ops-s s)
                               :core-cpu-ns (ns-op :median-ops-cpu-s c) :slab-cpu-ns (ns-op :median-ops-cpu-s s)}))))

(defn- child-result
  "Runs run-one in a fresh JVM on this classpath; its result map."
  [op n]
  (let [cmd [(str (System/getProperty "java.home") "/bin/java") "-cp" (System/getProperty "java.class.path")
             "-XX:+UseG1GC" "-Xmx4g" "-Xss4m" "clojure.main" "-m" "slab.bench.vector-bench" "one" op (str n)]
        p (.start (doto (ProcessBuilder. ^java.util.List cmd) (.redirectErrorStream true)))
        out (slurp (.getInputStream p))]
    (.waitFor p)
    (if-let [line (first (filter #(str/starts-with? % "RESULT ") (str/split-lines out)))]
      (read-string (subs line 7))
      (throw (ex-info (str "benchmark child failed:
" out) {:op op})))))

(defn- targets []
  (let [n 1000000
        median (fn [xs] (nth (sort xs) (quot (count xs) 2)))]
    (println "| operation (1M) | runs | core ns/op | slab ns/op | slab ÷ core (wall), median [min – max] | core CPU ns/op | slab CPU ns/op | slab ÷ core (CPU), median [min – max] |")
    (println "|---|---:|---:|---:|---:|---:|---:|---:|")
    (doseq [op target-ops]
      (let [rs (vec (for [_ (range 3)] (child-result op n)))
            wall (map #(/ (double (:slab-ns %)) (double (:core-ns %))) rs)
            cpu (map #(/ (double (:slab-cpu-ns %)) (double (:core-cpu-ns %))) rs)]
        (println (format "| %s | %d | %.1f | %.1f | **%.2f** [%.2f – %.2f] | %.1f | %.1f | **%.2f** [%.2f – %.2f] |"
                         op (count rs) (median (map :core-ns rs)) (median (map :slab-ns rs))
                         (median wall) (apply min wall) (apply max wall)
                         (median (map :core-cpu-ns rs)) (median (map :slab-cpu-ns rs))
                         (median cpu) (apply min cpu) (apply max cpu)))
        (flush)))
    (let [rs (vec (for [_ (range 3)] (child-result "full GC pause" 10000000)))]
      (println)
      (println "| full GC with 10M elements live (System.gc, median of 7 per JVM) | PersistentVector ms | slab ms | nothing live ms | slab ÷ core |")
      (println "|---|---:|---:|---:|---:|")
      (doseq [r rs]
        (println (format "| fresh JVM | %.1f | %.1f | %.1f | %.3f |" (:core-ms r) (:slab-ms r) (:empty-ms r)
                         (/ (double (:slab-ms r)) (double (:core-ms r)))))))))

(defn -main [& args]
  (case (first args)
    "one" (do (run-one (second args) (Long/parseLong (nth args 2))) (shutdown-agents))
    "targets" (do (println "#" (h/environment)) (targets) (shutdown-agents))
    (apply full-run args)))

(defn- full-run [& args]
  (let [quick (= "quick" (first args))
        sizes (if quick [1000 100000 1000000] [1000 100000 1000000 10000000])
        opts (if quick {:warmup-ms 1000 :rounds 5 :round-ms 300} {:warmup-ms 2000 :rounds 8 :round-ms 400})]
    (println "#" (h/environment))
    (when (< (.maxMemory (Runtime/getRuntime)) (* 3 1024 1024 1024))
      (println "WARNING: max heap below 3 GiB; the 10M sizes may not fit (set JVM_OPTS=-Xmx4g)"))
    (let [summaries
          (vec (mapcat (fn [^long n]
                         (println "size" n)
                         (let [core (pv n), core2 (pv n), sl (slab-vec n), sl2 (slab-vec n)]
                           (assert (= core sl) "the two sides hold the same elements")
                           ;; one suite per operation (core and slab interleaved), each after a drain
                           (let [ops (mapcat (fn [pair] (drain!) (h/run-suite pair opts)) (op-benches n core sl))
                                 passes (mapcat (fn [pair] (drain!) (run-passes pair opts)) (pass-benches n core sl core2 sl2))]
                             (doall (concat ops passes)))))
                       sizes))]
      (println)
      (println (ratio-table summaries))
      (println)
      (println (h/markdown-table summaries)))
    (println)
    (println "| elements | PersistentVector heap B/element | slab segment B/element | slab ÷ core |")
    (println "|---:|---:|---:|---:|")
    (doseq [n (if quick [1000000] [1000000 10000000])]
      (let [[c s] (bytes-per-element n)]
        (println (format "| %s | %.1f | %.1f | %.2f |" (label n) c s (/ (double s) (double c))))))
    (println)
    (let [n (if quick 1000000 10000000)
          base (gc-pause-ms nil)
          core-pause (let [v (pv n)] (gc-pause-ms v))
          slab-pause (let [v (slab-vec n)] (gc-pause-ms v))]
      (println (format "full GC (System.gc, median of 7) with %s elements live: PersistentVector %.1f ms, slab %.1f ms, nothing live %.1f ms; slab ÷ core %.3f, above the empty heap %.3f"
                       (label n) core-pause slab-pause base (/ slab-pause core-pause)
                       (/ (max 0.0 (- slab-pause base)) (max 1e-9 (- core-pause base))))))
    (shutdown-agents)))
