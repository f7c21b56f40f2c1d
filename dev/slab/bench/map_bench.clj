(ns slab.bench.map-bench
  "Slab's hash map side by side with clojure.core's PersistentHashMap, in one
  JVM run: get (hit and miss), persistent assoc and dissoc, transient bulk
  build, reduce-kv, iterator and seq walks, = (independent equal maps,
  versions sharing structure, unequal versions), hash of a new version,
  bytes per entry, heap garbage per assoc, and the full-GC pause with the
  largest map live.

    bin/lein with-profile +bench run -m slab.bench.map-bench          ; full run
    bin/lein with-profile +bench run -m slab.bench.map-bench quick    ; smoke run
    ... map-bench sizes=1000,1000000 keys=long,string rounds=7 out=target/x.edn

  Arguments: quick | sizes=a,b,.. | keys=long,keyword,string | rounds=n |
  round-ms=n | warmup-ms=n | gc=true/false (full-GC pause test at the
  largest size) | mem=true/false (bytes per entry) | kw10m=true (also
  keyword keys at 10M, skipped by default) | ops=get-hit,assoc,..
  (a subset of the operations, by id; see `cases`) | out=path (EDN
  results, default target/map-bench.edn) | report=path.edn (print the
  markdown tables of doc/benchmarks.md from a saved run; runs nothing).

  Method (criterium is not available): every operation is a pair of cases,
  PersistentHashMap and slab, over the same keys. Each case is warmed up
  (alternating with its twin) and calibrated so one timed call lasts at
  least ~1 ms, then measured for `rounds` rounds of about `round-ms` each,
  the two cases interleaved and their order alternating, so drift hits both
  alike. Reported: median ns/op with min-max over rounds, heap bytes
  allocated per op by the benchmark thread (ThreadMXBean; the Cleaner
  thread's work is not included), and GC time during the rounds. Every
  result feeds a blackhole. Ratios are slab time / PHM time: below 1 means
  slab is faster."
  (:require [clojure.string :as str]
            [clojure.pprint :as pp]
            [slab.core :as slab])
  (:import (clojure.lang ILookup IPersistentMap IPersistentCollection IKVReduce IHashEq IObj
                         ITransientMap IEditableCollection ISeq Seqable PersistentHashMap)
           (java.lang.management ManagementFactory GarbageCollectorMXBean MemoryMXBean)
           (java.util Iterator Map$Entry)
           (java.util.concurrent.atomic AtomicLong)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

;; --- harness ---------------------------------------------------------------------

(def ^:private ^AtomicLong sink (AtomicLong.))

(defn- consume!
  "Makes x observable, so the JIT cannot drop the work that produced it."
  [^long x]
  (.lazySet sink (bit-xor (.get sink) x)))

(def ^:private ^com.sun.management.ThreadMXBean thread-mx (ManagementFactory/getThreadMXBean))
(def ^:private ^MemoryMXBean memory-mx (ManagementFactory/getMemoryMXBean))

(def ^:private ^com.sun.management.OperatingSystemMXBean os-mx (ManagementFactory/getOperatingSystemMXBean))

(defn- allocated ^long [] (.getCurrentThreadAllocatedBytes thread-mx))
(defn- allocated-all ^long [] (.getTotalThreadAllocatedBytes thread-mx))
(defn- thread-cpu ^long [] (.getCurrentThreadCpuTime thread-mx))
(defn- process-cpu ^long [] (.getProcessCpuTime os-mx))

(defn- gc-ms ^long []
  (reduce (fn [^long t ^GarbageCollectorMXBean gc] (+ t (max 0 (.getCollectionTime gc))))
          0 (ManagementFactory/getGarbageCollectorMXBeans)))

(defmacro ^:private batch
  "Evaluates body (a long expression) reps times; returns the sum."
  [reps & body]
  `(let [reps# (long ~reps)]
     (loop [r# 0, acc# 0]
       (if (< r# reps#) (recur (inc r#) (+ acc# (long (do ~@body)))) acc#))))

(defn- to-long ^long [x]
  (if (instance? Number x) (.longValue ^Number x) (System/identityHashCode x)))

(def ^:private metrics
  "What is recorded per op: wall time and the benchmark thread's CPU time
  (per call); the whole process's CPU time, Cleaner, GC and JIT threads
  included (per round: the OS counts it in 10 ms ticks, and it includes the
  untimed `done` step, e.g. releasing a built slab map); heap bytes
  allocated by the benchmark thread and by every thread (per call)."
  [:wall :cpu :process-cpu :alloc :alloc-all])

(defn- timed-call
  "One call (f reps), measured; (done result) runs unmeasured. Returns
  [wall cpu alloc alloc-all]."
  [f done ^long reps]
  (let [aa0 (allocated-all), c0 (thread-cpu), a0 (allocated)
        t0 (System/nanoTime)
        r (f reps)
        t1 (System/nanoTime)
        a1 (allocated), c1 (thread-cpu), aa1 (allocated-all)]
    (consume! (to-long (done r)))
    [(- t1 t0) (- c1 c0) (- a1 a0) (- aa1 aa0)]))

(defn- run-round
  "Calls the case until round-ms have passed (at least once). Returns the
  summed metrics, :ops and :gc-ms."
  [{:keys [f done ^long ops]} ^long reps ^long round-ms]
  (let [deadline (+ (System/nanoTime) (* round-ms 1000000))
        g0 (gc-ms)
        p0 (process-cpu)]
    (loop [calls 0, sums [0 0 0 0]]
      (let [sums (mapv + sums (timed-call f done reps))
            calls (inc calls)]
        (if (< (System/nanoTime) deadline)
          (recur calls sums)
          (let [[wall cpu alloc alloc-all] sums]
            {:wall wall :cpu cpu :process-cpu (- (process-cpu) p0) :alloc alloc :alloc-all alloc-all
             :ops (* calls reps ops) :gc-ms (- (gc-ms) g0)}))))))

(defn- calibrate
  "Warms the case up for about warmup-ms (at least one call), starting from
  start-reps; returns [reps ns], the reps per call that make one call last
  at least ~1 ms (1 for cases that must run once per call) and the last
  call's wall time."
  [{:keys [f done once?]} ^long warmup-ms ^long start-reps]
  (let [deadline (+ (System/nanoTime) (* warmup-ms 1000000))]
    (loop [reps start-reps]
      (let [t (long (first (timed-call f done reps)))
            reps' (if (or once? (>= t 1000000)) reps
                      (min (* reps 16) (max (inc reps) (long (Math/ceil (/ (* reps 1.2e6) (max t 1)))))))]
        (if (< (System/nanoTime) deadline) (recur reps') [reps' t])))))

(defn- median ^double [xs]
  (let [v (vec (sort xs)), c (count v)]
    (if (odd? c) (double (v (quot c 2))) (/ (+ (double (v (dec (quot c 2)))) (double (v (quot c 2)))) 2.0))))

(defn- summarize
  "Per metric: the median over rounds of its value per op, with min and max."
  [rounds]
  (let [per-op (fn [k] (map (fn [r] (/ (double (get r k)) (double (:ops r)))) rounds))]
    (into {:gc-ms (reduce + (map :gc-ms rounds)) :rounds (count rounds)}
          (for [k metrics :let [xs (per-op k)]]
            [k {:median (median xs) :min (apply min xs) :max (apply max xs)}]))))

(defn- compare-pair
  "Measures the PHM case and the slab case interleaved; returns {:phm summary :slab summary}."
  [phm slab {:keys [warmup-ms rounds round-ms]}]
  (let [half (quot (long warmup-ms) 2)
        ;; Warm up and calibrate: a call that outlasts the warmup runs once in each step.
        ;; A second pass from the warmed-up reps, unless one call already outlasts a round.
        settle (fn [c] (let [[r ^long t] (calibrate c half 1)]
                         (if (> t (* (long round-ms) 1000000)) r (first (calibrate c 0 r)))))
        rp (settle phm)
        rs (settle slab)
        results (reduce (fn [acc ^long i]
                          (if (even? i)
                            (let [p (run-round phm rp round-ms) s (run-round slab rs round-ms)]
                              (-> acc (update :phm conj p) (update :slab conj s)))
                            (let [s (run-round slab rs round-ms) p (run-round phm rp round-ms)]
                              (-> acc (update :phm conj p) (update :slab conj s)))))
                        {:phm [] :slab []}
                        (range rounds))]
    {:phm (summarize (:phm results)) :slab (summarize (:slab results))}))

;; --- memory ---------------------------------------------------------------------------

(defn- segment ^Segment [] (or slab/*segment* (slab/default-segment)))
(defn- seg-in-use ^long [] (.bytesInUse (.stats (.allocator (segment)))))

(defn- heap-used
  "Heap in use after forced full collections."
  ^long []
  (dotimes [_ 3] (System/gc) (Thread/sleep 30))
  (.getUsed (.getHeapMemoryUsage memory-mx)))

(defn- settle!
  "Collects until the segment's bytes in use stop changing: dropped versions
  are freed by the Cleaner thread, asynchronously, and after a persistent
  assoc or dissoc benchmark it has millions of them to free. Measuring
  anything while it drains would charge slab for that work twice (and
  pollute the caches), so every stage and every case that drops versions
  waits for it (up to two minutes)."
  []
  (let [deadline (+ (System/nanoTime) (* 120 1000000000))]
    (loop [prev -1, same 0]
      (System/gc)
      (Thread/sleep 100)
      (let [now (seg-in-use), same (if (== now prev) (inc same) 0)]
        (when (and (< same 3) (< (System/nanoTime) deadline)) (recur now same))))))

;; --- data --------------------------------------------------------------------------------

(defn- key-fn
  "A fn from index to a key of kind kt. Prefixes keep key sets apart; all
  generated names have the same length for the same index."
  [kt ^String prefix]
  (case kt
    :long (fn [^long i] (Long/valueOf i))
    :keyword (fn [^long i] (keyword (str prefix i)))
    :string (fn [^long i] (str prefix i))))

(defn- copy-key
  "An equal key that is not the same object (for keywords the same: they are interned)."
  [k]
  (cond (instance? Long k) (Long/valueOf (+ 0 (long k)))   ; a new box for values >= 128
        (string? k) (.toString (StringBuilder. ^String k))
        :else k))

(defn- value-for ^Object [^long i] (Long/valueOf (+ 1000 (* 3 i))))

(defn- objects ^"[Ljava.lang.Object;" [^long n f] (let [a (object-array n)] (dotimes [i n] (aset a i (f i))) a))

(defn- shuffled ^objects [^objects a ^long seed]
  (let [r (java.util.Random. seed), a (aclone a)]
    (loop [i (dec (alength a))]
      (when (pos? i)
        (let [j (.nextInt r (inc i)), t (aget a i)]
          (aset a i (aget a j)) (aset a j t) (recur (dec i)))))
    a))

(defn- build ^IPersistentMap [empty-map ^objects ks ^objects vs]
  (let [n (alength ks)]
    (loop [^ITransientMap t (.asTransient ^IEditableCollection empty-map), i 0]
      (if (< i n)
        (recur (.assoc t (aget ks i) (aget vs i)) (inc i))
        (.persistent t)))))

(defn- build-fresh
  "A map of n entries whose keys and values are made as it is built (so the
  heap it retains includes them)."
  ^IPersistentMap [empty-map kfn ^long n]
  (loop [^ITransientMap t (.asTransient ^IEditableCollection empty-map), i 0]
    (if (< i n)
      (recur (.assoc t (kfn i) (value-for i)) (inc i))
      (.persistent t))))

(def ^:private impls
  {:phm {:empty (fn [] PersistentHashMap/EMPTY) :release (fn [_])}
   :slab {:empty (fn [] (slab/hash-map)) :release slab/release!}})

(defn- measure-memory
  "Bytes per entry: PHM's retained heap (keys and values included) vs slab's
  segment bytes in use plus its retained heap."
  [kt ^long n ^long size-index]
  (settle!)
  (let [pfx (fn [^long k] (str (char (+ 97 (* 2 size-index) k))))
        h0 (heap-used)
        m (build-fresh (PersistentHashMap/EMPTY) (key-fn kt (pfx 0)) n)
        h1 (heap-used)
        _ (consume! (count m))
        m nil
        _ (settle!)
        h2 (heap-used)
        s0 (seg-in-use)
        sm (build-fresh (slab/hash-map) (key-fn kt (pfx 1)) n)
        h3 (heap-used)
        s1 (seg-in-use)]
    (consume! (count sm))
    (slab/release! sm)
    {:phm-heap (/ (double (- h1 h0)) n)
     :slab-heap (/ (double (- h3 h2)) n)
     :slab-segment (/ (double (- s1 s0)) n)}))

;; --- operations ------------------------------------------------------------------------------

(def ^:private probe-count (bit-shift-left 1 20))
(def ^:private update-count (bit-shift-left 1 16))
(def ^:private assoc-value (Long/valueOf 123456789))
(def ^:private some-meta {:bench true})

(defn- sum-vals-rf [^longs acc _ v] (aset acc 0 (+ (aget acc 0) (.longValue ^Number v))) acc)

(defn- cases
  "The benchmark cases for one implementation over one data set."
  [{:keys [m m2 mv mu ^objects hit ^objects miss ^objects ks ^objects vs empty release]}]
  (let [^ILookup lm m
        ^IPersistentMap pm m
        ^IPersistentCollection cm m
        nprobe (long (alength hit))
        nupd (min (long update-count) nprobe)
        n (long (alength ks))]
    [[:get-hit "get (hit)" nprobe
      (fn [reps] (batch reps (loop [i 0, acc 0]
                               (if (< i nprobe)
                                 (recur (inc i) (+ acc (.longValue ^Number (.valAt lm (aget hit i)))))
                                 acc))))]
     [:get-miss "get (miss)" nprobe
      (fn [reps] (batch reps (loop [i 0, acc 0]
                               (if (< i nprobe)
                                 (recur (inc i) (if (nil? (.valAt lm (aget miss i))) (inc acc) acc))
                                 acc))))]
     [:assoc "assoc (new key, persistent)" nupd
      (fn [reps] (batch reps (loop [i 0, acc 0]
                               (if (< i nupd)
                                 (recur (inc i) (+ acc (.count (.assoc pm (aget miss i) assoc-value))))
                                 acc))))]
     [:dissoc "dissoc (present key, persistent)" nupd
      (fn [reps] (batch reps (loop [i 0, acc 0]
                               (if (< i nupd)
                                 (recur (inc i) (+ acc (.count (.without pm (aget hit i)))))
                                 acc))))]
     [:build "transient bulk build" n
      (fn [_] (build (empty) ks vs))
      {:once? true :done (fn [built] (let [c (count built)] (release built) c))}]
     [:reduce-kv "reduce-kv (sum values)" n
      (fn [reps] (batch reps (aget ^longs (.kvreduce ^IKVReduce m sum-vals-rf (long-array 1)) 0)))]
     [:iterator "iterator walk" n
      (fn [reps] (batch reps (let [^Iterator it (.iterator ^Iterable m)]
                               (loop [acc 0]
                                 (if (.hasNext it)
                                   (recur (+ acc (.longValue ^Number (.getValue ^Map$Entry (.next it)))))
                                   acc)))))]
     [:seq "seq walk" n
      (fn [reps] (batch reps (loop [s (.seq ^Seqable m), acc 0]
                               (if s
                                 (recur (.next ^ISeq s) (+ acc (.longValue ^Number (.getValue ^Map$Entry (.first ^ISeq s)))))
                                 acc))))]
     [:eq-independent "= equal maps built independently" 1
      (fn [reps] (batch reps (if (.equiv cm m2) 1 0)))]
     [:eq-shared "= equal versions sharing structure" 1
      (fn [reps] (batch reps (if (.equiv cm mv) 1 0)))]
     [:eq-unequal "= versions differing in one value" 1
      (fn [reps] (batch reps (if (.equiv cm mu) 0 1)))]
     [:hash "hash of a new version (first call)" 1
      (fn [reps] (batch reps (.hasheq ^IHashEq (.withMeta ^IObj m some-meta))))]]))

(defn- data-set
  "Keys, probes and the maps of one implementation."
  [impl {:keys [^objects ks ^objects vs ^objects ks2 ^objects vs2] :as keys}]
  (let [{:keys [empty release]} (impls impl)
        m (build (empty) ks vs)
        m2 (build (empty) ks2 vs2)
        k0 (aget ks 0)
        mu (.assoc m k0 assoc-value)
        mv (.assoc mu k0 (aget vs 0))]
    (assert (= m m2) "independently built maps are equal")
    (assert (and (= m mv) (not= m mu)))
    (merge keys {:m m :m2 m2 :mv mv :mu mu :empty empty :release release})))

(defn- key-set [kt ^long n]
  (let [kf (key-fn kt "k")
        ^objects ks (objects n kf)
        vs (objects n value-for)
        np (min (max n 65536) (long probe-count))
        hit (shuffled (objects np (fn [^long i] (copy-key (aget ks (mod i n))))) 42)
        miss (objects np (fn [^long i] (if (= kt :long) (Long/valueOf (+ n i)) ((key-fn kt "x") i))))]
    {:ks ks :vs vs
     :ks2 (objects n (fn [^long i] (copy-key (aget ks i))))
     :vs2 (objects n value-for)
     :hit hit :miss miss}))

(def ^:private start-nanos (System/nanoTime))

(declare bench-stage)

(defn- bench-size
  "One stage: one key type at one size, in a segment of its own, so that
  what earlier stages freed does not decide where this stage's nodes go.
  (After heavy churn the free lists hand out blocks spread over gigabytes
  of segment; a map built from them is ~1.5x slower to read at 100k
  entries than one built in a fresh segment: TLB misses on 4 KiB pages.)"
  [kt ^long n ^long size-index opts]
  (let [seg (Segment/anonymous (Segment/defaultCapacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS)]
    (try
      (slab/with-segment seg
        (slab/release! (slab/hash-map :bench/warm-up 1))   ; allocates the keyword table once
        (bench-stage kt n size-index opts))
      (finally (.close seg)))))

(defn- bench-stage
  [kt ^long n ^long size-index opts]
  (println (format "\n== %s keys, %,d entries (at %.0f s)" (name kt) n (/ (- (System/nanoTime) (long start-nanos)) 1e9)))
  (let [mem (if (:mem? opts) (measure-memory kt n size-index) {:phm-heap 0.0 :slab-heap 0.0 :slab-segment 0.0})
        _ (println (format "   bytes/entry: PHM %.1f, slab %.1f (segment %.1f + heap %.1f)"
                           (double (:phm-heap mem)) (+ (double (:slab-segment mem)) (double (:slab-heap mem)))
                           (double (:slab-segment mem)) (double (:slab-heap mem))))
        keys (key-set kt n)
        pd (data-set :phm keys)
        sd (data-set :slab keys)
        _ (settle!)
        opts (if (>= n 10000000) (assoc opts :rounds (min 3 (long (:rounds opts)))) opts)
        results (vec (for [[[id label ops pf popt] [_ _ _ sf sopt]] (map vector (cases pd) (cases sd))
                           :when (or (nil? (:ops opts)) (contains? (:ops opts) id))]
                       (let [mk (fn [f o] (merge {:f f :ops ops :done identity} o))
                             r (compare-pair (mk pf popt) (mk sf sopt) opts)
                             _ (when (#{:assoc :dissoc :build} id) (settle!))
                             med (fn ^double [impl k] (double (get-in r [impl k :median])))
                             ratio (fn [k] (/ (med :slab k) (med :phm k)))]
                         (println (format "   %-36s PHM %11.1f ns (cpu %11.1f)  slab %11.1f ns (cpu %11.1f)  ratio %6.3f (cpu %6.3f, process %6.3f)  alloc B/op %8.1f / %8.1f (all threads %8.1f / %8.1f)"
                                          label (med :phm :wall) (med :phm :cpu) (med :slab :wall) (med :slab :cpu)
                                          (ratio :wall) (ratio :cpu) (ratio :process-cpu)
                                          (med :phm :alloc) (med :slab :alloc) (med :phm :alloc-all) (med :slab :alloc-all)))
                         (assoc r :id id :label label :ratio (ratio :wall) :cpu-ratio (ratio :cpu)
                                :process-cpu-ratio (ratio :process-cpu)))))]
    (doseq [x [:m :m2 :mv :mu]] (slab/release! (sd x)))
    {:key-type kt :size n :memory mem :results results}))

;; --- full-GC pause ------------------------------------------------------------------------

(defn- gc-pause
  "Median wall time and GC-bean time of System/gc over `times` collections."
  [^long times]
  (let [xs (vec (for [_ (range times)]
                  (let [g0 (gc-ms), t0 (System/nanoTime)]
                    (System/gc)
                    [(/ (- (System/nanoTime) t0) 1e6) (- (gc-ms) g0)])))]
    {:wall-ms (median (map first xs)) :gc-bean-ms (median (map second xs))}))

(defn- bench-gc-pause
  "Full-GC pause with an n-entry long-keyed map live: none, PHM, slab."
  [^long n]
  (println (format "\n== full-GC pause, %,d entries live (long keys)" n))
  (settle!)
  (let [base (gc-pause 5)
        m (build-fresh (PersistentHashMap/EMPTY) (key-fn :long "") n)
        phm (gc-pause 5)
        _ (consume! (count m))
        m nil
        _ (settle!)
        sm (build-fresh (slab/hash-map) (key-fn :long "") n)
        sl (gc-pause 5)]
    (consume! (count sm))
    (slab/release! sm)
    (println (format "   nothing live %.1f ms, PHM %.1f ms, slab %.1f ms (ratio %.4f)"
                     (double (:wall-ms base)) (double (:wall-ms phm)) (double (:wall-ms sl))
                     (/ (double (:wall-ms sl)) (double (:wall-ms phm)))))
    {:size n :baseline base :phm phm :slab sl}))

;; --- environment and main -----------------------------------------------------------------

(defn- cpu-model []
  (try (some #(when (str/starts-with? % "model name") (str/trim (subs % (inc (long (str/index-of % ":"))))))
             (java.nio.file.Files/readAllLines (java.nio.file.Path/of "/proc/cpuinfo" (make-array String 0))))
       (catch Exception e (str "unknown: " (.getMessage e)))))

(defn environment []
  {:jdk (str (System/getProperty "java.vm.name") " " (System/getProperty "java.version"))
   :jvm-args (vec (.getInputArguments (ManagementFactory/getRuntimeMXBean)))
   :gc (str/join "+" (map #(.getName ^GarbageCollectorMXBean %) (ManagementFactory/getGarbageCollectorMXBeans)))
   :max-heap-mib (quot (.maxMemory (Runtime/getRuntime)) (* 1024 1024))
   :cores (.availableProcessors (Runtime/getRuntime))
   :cpu (cpu-model)
   :os (str (System/getProperty "os.name") " " (System/getProperty "os.version"))
   :clojure (clojure-version)
   :segment-capacity-gib (/ (.capacity (segment)) (double (bit-shift-left 1 30)))})

(defn- parse-args [args]
  (let [quick? (some #{"quick"} args)
        kv (into {} (keep #(when-let [[_ k v] (re-matches #"([a-z-]+)=(.*)" %)] [(keyword k) v])) args)
        longs-of (fn [s] (mapv #(long (Double/parseDouble %)) (str/split s #",")))]
    {:sizes (if-let [s (:sizes kv)] (longs-of s) (if quick? [1000 100000] [1000 100000 1000000 10000000]))
     :keys (if-let [s (:keys kv)] (mapv keyword (str/split s #",")) [:long :keyword :string])
     :rounds (if-let [s (:rounds kv)] (Long/parseLong s) (if quick? 3 5))
     :round-ms (if-let [s (:round-ms kv)] (Long/parseLong s) (if quick? 60 200))
     :warmup-ms (if-let [s (:warmup-ms kv)] (Long/parseLong s) (if quick? 200 600))
     :gc? (if-let [s (:gc kv)] (= s "true") true)
     :mem? (if-let [s (:mem kv)] (= s "true") true)
     ;; 10M distinct keywords: the segment's keyword table has 16384 fixed buckets
     ;; (chains of ~600), and slab and clojure.core pin ~5 GB of keywords; off by default.
     :kw10m? (= "true" (:kw10m kv))
     :ops (when-let [s (:ops kv)] (set (map keyword (str/split s #","))))
     :out (or (:out kv) "target/map-bench.edn")}))

(defn- run-benchmarks [& args]
  (let [{:keys [sizes rounds round-ms warmup-ms gc? mem? ops out] :as opts} (parse-args args)
        env (environment)
        t0 (System/nanoTime)
        _ (println "slab map benchmark" (pr-str (dissoc opts :out)))
        _ (println (pr-str env))
        opts' {:rounds rounds :round-ms round-ms :warmup-ms warmup-ms :mem? mem? :ops ops}
        ;; First, while the heap holds nothing else (slab pins every keyword it
        ;; has interned, so later keyword runs would inflate its live set).
        pause (when gc? (bench-gc-pause (apply max sizes)))
        ;; Key types outermost: long keys (the targets) run first, on clean JIT profiles.
        _ (slab/release! (slab/hash-map :bench/warm-up 1))   ; allocates the keyword table once
        results (vec (for [kt (:keys opts), [i n] (map-indexed vector sizes)
                           :when (or (not= kt :keyword) (< (long n) 10000000) (:kw10m? opts))]
                       (bench-size kt n i opts')))
        all {:environment env :options opts :results results :gc-pause pause
             :seconds (/ (- (System/nanoTime) t0) 1e9)}]
    (clojure.java.io/make-parents out)
    (spit out (with-out-str (pp/pprint all)))
    (println (format "\nDone in %.0f s; results in %s" (double (:seconds all)) out))
    (shutdown-agents)))

;; --- markdown report ------------------------------------------------------------------------

(defn- fmt-ns [^double x]
  (cond (>= x 1e9) (format "%.2f s" (/ x 1e9))
        (>= x 1e6) (format "%.1f ms" (/ x 1e6))
        (>= x 1e4) (format "%.1f µs" (/ x 1e3))
        (>= x 100) (format "%.0f ns" x)
        :else (format "%.1f ns" x)))

(defn- fmt-ratio [^double x]
  (cond (< x 0.001) (format "%.1e" x)
        (< x 0.1) (format "%.3f" x)
        :else (format "%.2f" x)))

(defn markdown
  "The tables of doc/benchmarks.md from a results map (as written to the EDN file)."
  [{:keys [results gc-pause]}]
  (let [by (group-by :size results)
        sizes (sort (keys by))
        kts [:long :keyword :string]
        cell (fn [rs kt f] (if-let [r (first (filter #(= kt (:key-type %)) rs))] (f r) "—"))
        op-row (fn [rs id]
                 (let [get-op (fn [r] (first (filter #(= id (:id %)) (:results r))))
                       long-r (some #(when (= :long (:key-type %)) (get-op %)) rs)
                       med (fn [o impl k] (double (get-in o [impl k :median])))]
                   (str "| " (:label (some get-op rs))
                        " | " (if long-r (fmt-ns (med long-r :phm :cpu)) "—")
                        " | " (if long-r (fmt-ns (med long-r :slab :cpu)) "—")
                        (apply str (for [kt kts]
                                     (str " | " (cell rs kt #(if-let [o (get-op %)] (fmt-ratio (double (:cpu-ratio o))) "—")))))
                        " | " (if long-r (fmt-ratio (double (:ratio long-r))) "—")
                        " |")))]
    (str/join
     "\n"
     (concat
      (for [n sizes :let [rs (by n)]]
        (str/join
         "\n"
         (concat
          [(format "### %,d entries" n)
           ""
           "Time ratios are slab ÷ PersistentHashMap of the benchmark thread's CPU time per op (median of the rounds); below 1 slab is faster. The last column is the wall-time ratio for long keys."
           ""
           "| operation | PHM, long keys | slab, long keys | ratio long | ratio keyword | ratio string | wall ratio long |"
           "|---|---:|---:|---:|---:|---:|---:|"]
          (for [id (map :id (:results (first rs)))] (op-row rs id))
          [(str "| heap garbage per persistent assoc, bytes (PHM → slab, all threads) | "
                (cell rs :long #(let [o (first (filter (fn [x] (= :assoc (:id x))) (:results %)))]
                                  (format "%.0f → %.0f" (double (get-in o [:phm :alloc-all :median])) (double (get-in o [:slab :alloc-all :median])))))
                " | | "
                (apply str (interpose " | " (for [kt kts] (cell rs kt #(let [o (first (filter (fn [x] (= :assoc (:id x))) (:results %)))]
                                                                         (fmt-ratio (/ (double (get-in o [:slab :alloc-all :median]))
                                                                                       (double (get-in o [:phm :alloc-all :median])))))))))
                " | |")
           (str "| bytes per entry (PHM heap → slab segment + heap) | "
                (cell rs :long #(let [m (:memory %)] (format "%.1f → %.1f" (double (:phm-heap m)) (+ (double (:slab-segment m)) (double (:slab-heap m))))))
                " | | "
                (apply str (interpose " | " (for [kt kts] (cell rs kt #(let [m (:memory %)]
                                                                         (fmt-ratio (/ (+ (double (:slab-segment m)) (double (:slab-heap m)))
                                                                                       (double (:phm-heap m)))))))))
                " | |")
           ""])))
      (when gc-pause
        [(format "### Full-GC pause with %,d entries live (long keys)" (:size gc-pause))
         ""
         "| live data | System/gc wall time (median of 5) | GC bean time |"
         "|---|---:|---:|"
         (format "| nothing (baseline) | %.1f ms | %.0f ms |" (double (get-in gc-pause [:baseline :wall-ms])) (double (get-in gc-pause [:baseline :gc-bean-ms])))
         (format "| PersistentHashMap | %.1f ms | %.0f ms |" (double (get-in gc-pause [:phm :wall-ms])) (double (get-in gc-pause [:phm :gc-bean-ms])))
         (format "| slab map | %.1f ms | %.0f ms |" (double (get-in gc-pause [:slab :wall-ms])) (double (get-in gc-pause [:slab :gc-bean-ms])))
         (format "| **ratio slab ÷ PHM** | **%s** | |" (fmt-ratio (/ (double (get-in gc-pause [:slab :wall-ms])) (double (get-in gc-pause [:phm :wall-ms])))))
         ""])))))

(defn -main
  "Runs the benchmarks (see the ns docstring), or with report=path.edn prints
  the markdown tables of a saved run."
  [& args]
  (if-let [path (some #(second (re-matches #"report=(.*)" %)) args)]
    (println (markdown (read-string (slurp path))))
    (apply run-benchmarks args)))
