(ns slab.bench.scale-bench
  "Scale (issue 15): slab's collections side by side with clojure.core's from
  1k up to 10M entries (100M on request), per entry: transient build, get
  hit and miss, reduce-kv / reduce (and, for the map of small maps,
  reduce-kv reading each value's :n with slab/reduce-kv-in), seq walk,
  reduce over entries, a transducer pipeline (transduce), persistent
  update; bytes per entry; and the full-GC pause with the collection live
  against an empty heap. Three collections: a map with long keys and small-map values, a map
  with string keys and long values, a vector of longs.

    bin/lein with-profile +bench,+pretouch run -m slab.bench.scale-bench  ; 1k .. 10M
    ... scale-bench sizes=1e3,1e6,1e8    ; or max=1e8: every power of ten from 1k
    ... scale-bench report=target/scale-bench.edn   ; tables and charts of a saved run

  +pretouch touches the whole heap at start, so that the heap growing into
  memory never touched before is not timed (on a VM, ~12 us per 4 KiB page);
  leave it out at 100M, whose segment needs the memory.

  Arguments: sizes=a,b,.. | max=n | colls=long-map,string-map,keyword-map,long-scalar,vector |
  ops=build,get-hit,get-in,get-miss,reduce,reduce-in,seq,reduce-entries,transduce,update | rounds=n | round-ms=n |
  warmup-ms=n | gc-times=n (System.gc calls per pause figure) |
  out=path.edn (default target/scale-bench.edn) | charts=dir (default
  doc/charts; none to draw nothing) | metric=cpu|wall (what the charts plot,
  default cpu) | note=text (a line under each chart's title).

  Where clojure.core's collection would not fit in the heap (estimated from
  the bytes per entry it took at the size before, with room for a second
  copy and the GC), slab runs alone and the output says so.

  Method: see slab.bench.scale.measure. Each stage (one collection at one
  size) measures the builds in a segment of their own, then builds the live
  collections in a fresh anonymous segment (the default capacity,
  -Dslab.capacity), so that what the builds freed does not decide where the
  live nodes go."
  (:require [clojure.java.io :as io]
            [clojure.pprint :as pp]
            [clojure.string :as str]
            [slab.bench.scale.cases :as cases]
            [slab.bench.scale.chart :as chart]
            [slab.bench.scale.measure :as m]
            [slab.bench.scale.report :as report]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(def ^:private all-ops [:build :get-hit :get-in :get-miss :reduce :reduce-in :seq :reduce-entries :transduce :update])

;; --- segments and memory -------------------------------------------------------------

(defn- fresh-segment ^Segment []
  (Segment/anonymous (Segment/defaultCapacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS))

(defmacro ^:private in-fresh-segment
  "Evaluates body with new slab collections built in a fresh segment, bound
  to seg-sym; closes the segment afterwards."
  [seg-sym & body]
  `(let [~(vary-meta seg-sym assoc :tag `Segment) (fresh-segment)]
     (try (slab/with-segment ~seg-sym
            (slab/release! (slab/hash-map :scale/warm-up 1))   ; allocates the keyword table up front
            ~@body)
          (finally (.close ~seg-sym)))))

(defn- in-use ^long [^Segment seg] (long (:bytes-in-use (slab/stats seg))))

(def ^:private core-bytes-guess
  "Heap bytes per entry assumed for clojure.core before a size has been measured."
  {:long-map 250.0 :string-map 150.0 :keyword-map 150.0 :long-scalar 100.0 :vector 40.0})

(defn- core-fits?
  "Whether clojure.core's n-entry collection fits: room for it live, a copy
  being built, and the GC's headroom (2.5x the estimate)."
  [^double bytes-per-entry ^long n]
  (< (* 2.5 bytes-per-entry n) (.maxMemory (Runtime/getRuntime))))

;; --- one stage ---------------------------------------------------------------------

(defn- ratio [o k]
  (when-let [c (get-in o [:core k :median])] (/ (double (get-in o [:slab k :median])) (double c))))

(defn- print-op [coll o]
  (let [med (fn [side k] (get-in o [side k :median]))]
    (println (format "   %-28s core %s ns (cpu %s)  slab %9.1f ns (cpu %9.1f)  slab/core %s (cpu %s)  heap B/op %s / %.1f"
                     (cases/op-label coll (:id o))
                     (if-let [x (med :core :wall)] (format "%9.1f" (double x)) "        —")
                     (if-let [x (med :core :cpu)] (format "%9.1f" (double x)) "        —")
                     (double (med :slab :wall)) (double (med :slab :cpu))
                     (if-let [r (ratio o :wall)] (format "%6.2f" (double r)) "     —")
                     (if-let [r (ratio o :cpu)] (format "%6.2f" (double r)) "     —")
                     (if-let [x (med :core :alloc)] (format "%.1f" (double x)) "—")
                     (double (med :slab :alloc))))
    (flush)))

(defn- measure-builds [coll ^long n core? opts]
  (in-fresh-segment _
    (let [o (m/compare-cases (when core? (cases/build-cases coll :core n)) (cases/build-cases coll :slab n) opts)
          o (assoc o :id :build)]
      (print-op coll o)
      o)))

(defn- live-build
  "Builds the live collection of one side; [collection seconds]."
  [coll side ^long n]
  (let [t0 (System/nanoTime)
        x (cases/build coll (cases/empty-of coll side) n)]
    [x (/ (double (- (System/nanoTime) t0)) 1e9)]))

(defn- check-sum!
  "Fails the run if a reduce over x does not give the expected sum (both
  sides must hold the same entries for the comparison to mean anything)."
  [coll x ^long n]
  (let [o (first (filter #(= :reduce (:id %)) (cases/read-cases coll x (cases/probes coll 1) :check)))
        got (long ((:f o) 1))]
    (when (not= got (cases/expected-sum coll n))
      (throw (ex-info "reduce over the built collection gave the wrong sum" {:coll coll :n n :got got})))))

(defn- stage
  "One collection at one size: builds, memory, GC pauses, reads and updates."
  [coll ^long n opts ^double core-estimate]
  (let [core? (core-fits? core-estimate n)
        opts (cond-> opts (>= n 10000000) (update :rounds min 3))
        gc-times (long (:gc-times opts))
        want (fn [id] (contains? (:ops opts) id))]
    (println (format "\n== %s, %,d entries%s" (name coll) n
                     (if core? "" (format " (slab alone: clojure.core's would need ~%.1f GiB of heap, -Xmx is %.1f GiB)"
                                          (/ (* 2.5 core-estimate n) (double (bit-shift-left 1 30)))
                                          (/ (double (.maxMemory (Runtime/getRuntime))) (double (bit-shift-left 1 30)))))))
    (m/heap-used)
    (let [gc-nothing (m/gc-pause gc-times)
          build-op (when (want :build) (measure-builds coll n core? opts))]
      (in-fresh-segment seg
        (let [probes (cases/probes coll n)
              h0 (m/heap-used), s0 (in-use seg)
              [sl sl-s] (live-build coll :slab n)
              h1 (m/heap-used), s1 (in-use seg)
              gc-slab (m/gc-pause gc-times)
              h2 (when core? (m/heap-used))
              [co co-s] (when core? (live-build coll :core n))
              h3 (when core? (m/heap-used))
              gc-core (when core? (m/gc-pause gc-times))
              bytes {:slab-segment (/ (double (- s1 s0)) n) :slab-heap (/ (double (- h1 h0)) n)
                     :core-heap (when core? (/ (double (- (long h3) (long h2))) n))}]
          (check-sum! coll sl n)
          (when core? (check-sum! coll co n))
          (println (format "   bytes/entry: slab %.1f in the segment (+ %.1f heap), clojure.core %s on the heap"
                           (double (:slab-segment bytes)) (double (:slab-heap bytes))
                           (if core? (format "%.1f" (double (:core-heap bytes))) "—")))
          (println (format "   full GC (median of %d): nothing live %.1f ms, slab live %.1f ms, clojure.core live %s ms"
                           gc-times (double (:wall-ms gc-nothing)) (double (:wall-ms gc-slab))
                           (if core? (format "%.1f" (double (:wall-ms gc-core))) "—")))
          (let [cc (when core? (cases/read-cases coll co probes :core))
                sc (cases/read-cases coll sl probes :slab)
                ops (vec (for [[c s] (map vector (or cc (repeat nil)) sc)
                               :when (want (:id s))]
                           (let [o (assoc (m/compare-cases c s opts) :id (:id s))]
                             (print-op coll o)
                             o)))]
            (slab/release! sl)
            {:coll coll :size n :core? core?
             :live-build-s {:slab sl-s :core co-s}
             :bytes bytes
             :gc {:nothing gc-nothing :slab gc-slab :core gc-core}
             :ops (into (if build-op [build-op] []) ops)}))))))

;; --- runs ----------------------------------------------------------------------------

(defn- warm-jvm!
  "Runs every case of every collection at 10k entries for a while, results
  dropped: the first stage would otherwise be measured while the JIT is
  still compiling the shared code (the interfaces, the harness, slab's
  readers), which on a loaded 2-core machine takes seconds."
  [{:keys [colls ops]}]
  (print "warming up the JVM ...") (flush)
  (let [n 10000, opts {:warmup-ms 1200 :rounds 1 :round-ms 200}]
    (doseq [coll colls]
      (in-fresh-segment _
        (let [probes (cases/probes coll n)
              sl (cases/build coll (cases/empty-of coll :slab) n)
              co (cases/build coll (cases/empty-of coll :core) n)]
          (m/compare-cases (cases/build-cases coll :core n) (cases/build-cases coll :slab n) opts)
          (doseq [[c s] (map vector (cases/read-cases coll co probes :core) (cases/read-cases coll sl probes :slab))
                  :when (contains? ops (:id s))]
            (m/compare-cases c s opts))
          (slab/release! sl)))))
  (println " done"))

(defn- environment []
  {:jdk (str (System/getProperty "java.vm.name") " " (System/getProperty "java.version"))
   :jvm-args (vec (.getInputArguments (ManagementFactory/getRuntimeMXBean)))
   :max-heap-mib (quot (.maxMemory (Runtime/getRuntime)) (* 1024 1024))
   :cores (.availableProcessors (Runtime/getRuntime))
   :load-average (.getSystemLoadAverage (ManagementFactory/getOperatingSystemMXBean))
   :segment-capacity-gib (/ (double (Segment/defaultCapacity)) (double (bit-shift-left 1 30)))
   :clojure (clojure-version)
   :date (str (java.time.LocalDate/now))})

(defn- parse-args [args]
  (let [kv (into {} (keep #(when-let [[_ k v] (re-matches #"([a-z-]+)=(.*)" %)] [(keyword k) v])) args)
        longs-of (fn [s] (mapv #(long (Double/parseDouble %)) (str/split s #",")))
        decades (fn [^long mx] (vec (take-while #(<= (long %) mx) (iterate #(* 10 (long %)) 1000))))]
    {:sizes (cond (:sizes kv) (longs-of (:sizes kv))
                  (:max kv) (decades (first (longs-of (:max kv))))
                  :else (decades 10000000))
     :colls (if-let [s (:colls kv)] (mapv keyword (str/split s #",")) [:long-map :string-map :vector])
     :ops (if-let [s (:ops kv)] (set (map keyword (str/split s #","))) (set all-ops))
     :rounds (Long/parseLong (get kv :rounds "5"))
     :round-ms (Long/parseLong (get kv :round-ms "300"))
     :warmup-ms (Long/parseLong (get kv :warmup-ms "800"))
     :gc-times (Long/parseLong (get kv :gc-times "5"))
     :out (get kv :out "target/scale-bench.edn")
     :charts (get kv :charts "doc/charts")
     :metric (keyword (get kv :metric "cpu"))
     :note (:note kv)
     :report (:report kv)}))

(defn- draw-charts! [results {:keys [charts metric note]}]
  (when (not= charts "none")
    (if (< (count (distinct (map :size (:stages results)))) 2)
      (println "charts need at least two sizes; none drawn")
      (let [env (:environment results)
            sizes (map :size (:stages results))]
        (chart/draw! results charts metric
                     (str (format "%s; %d cores, load average %.1f at the start; sizes %,d–%,d; %s"
                                  (:jdk env) (long (:cores env)) (double (:load-average env))
                                  (long (apply min sizes)) (long (apply max sizes)) (:date env))
                          (when note (str " — " note)))
                     {:titles (into {} (map (fn [[k v]] [k (:title v)]) cases/colls))
                      :op-label cases/op-label
                      :op-ids all-ops})))))

(defn- run-all [opts]
  (let [env (environment)
        t0 (System/nanoTime)]
    (println "slab scale benchmark" (pr-str (dissoc opts :report)))
    (println (pr-str env))
    (warm-jvm! opts)
    (let [stages (vec (for [coll (:colls opts)
                            :let [est (volatile! (double (core-bytes-guess coll)))]
                            n (:sizes opts)]
                        (let [s (stage coll n opts @est)]
                          ;; the next size's fit is judged from what this one took
                          (when-let [b (get-in s [:bytes :core-heap])] (vreset! est (max 1.0 (double b))))
                          s)))
          results {:environment env :options (dissoc opts :report) :stages stages
                   :seconds (/ (double (- (System/nanoTime) t0)) 1e9)}]
      (io/make-parents (:out opts))
      (spit (:out opts) (with-out-str (pp/pprint results)))
      (println (format "\nDone in %.0f s; results in %s\n" (double (:seconds results)) (:out opts)))
      results)))

(defn -main [& args]
  (let [opts (parse-args args)
        results (if-let [p (:report opts)] (read-string (slurp p)) (run-all opts))]
    (println (report/markdown results))
    (draw-charts! results (merge (:options results) (select-keys opts [:charts :metric :note])))
    (shutdown-agents)))
