(ns slab.demo
  "`lein run [orders]`: shows in under a minute why slab exists.

  1. Builds the same nested map (default 500,000 orders, each
     {:qty n :sku \"X-123\" :tags #{...}}: 3,000,000 map and set entries in
     all) in clojure.core and in slab's default segment, and prints build
     time, heap used, segment bytes and GC pauses side by side.
  2. Shares the slab version with futures, an agent and a core.async
     pipeline that each derive their own version, and shows that the
     original is unchanged and what the derived versions cost in bytes.
  3. Hands the map to a second JVM through a named root in a segment file,
     next to a data.fressian round trip of the same map.

  Every number printed is measured in this run."
  (:require [clojure.core.async :as async]
            [clojure.data.fressian :as fressian]
            [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory GarbageCollectorMXBean)
           (java.io File)
           (java.util Random)))

(set! *warn-on-reflection* true)

;; --- measuring ---------------------------------------------------------------------

(defn- now-ns ^long [] (System/nanoTime))

(defn- gc-totals
  "Collections and milliseconds the JVM reports, summed over its collectors."
  []
  (reduce (fn [acc ^GarbageCollectorMXBean b]
            (-> acc
                (update :count + (max 0 (.getCollectionCount b)))
                (update :ms + (max 0 (.getCollectionTime b)))))
          {:count 0 :ms 0}
          (ManagementFactory/getGarbageCollectorMXBeans)))

(defn- gc-delta [before after]
  {:count (- (:count after) (:count before)) :ms (- (:ms after) (:ms before))})

(defn- heap-used ^long []
  (.getUsed (.getHeapMemoryUsage (ManagementFactory/getMemoryMXBean))))

(defn- full-gc!
  "One System.gc (a full, stop-the-world collection under G1); returns the
  pause the JVM reports for it in ms."
  ^long []
  (let [before (gc-totals)]
    (System/gc)
    (:ms (gc-delta before (gc-totals)))))

(defn- heap-after-gc ^long []
  (full-gc!)
  (heap-used))

(defn- seg-bytes
  (^long [] (:bytes-in-use (slab/stats)))
  (^long [seg] (:bytes-in-use (slab/stats seg))))

(defn- settle!
  "Collects until the segment's bytes in use and live versions stop
  changing: dropped versions give their counts back when the GC has collected them
  after a GC. Returns the bytes in use."
  (^long [] (settle! (slab/default-segment)))
  (^long [seg]
   (loop [i 0, prev nil, same 0]
     (System/gc)
     (Thread/sleep 50)
     (let [now ((juxt :bytes-in-use :live-versions) (slab/stats seg))
           same (if (= now prev) (inc same) 0)]
       (if (or (>= same 2) (>= i 100)) (first now) (recur (inc i) now same))))))

(defmacro ^:private timed
  "Evaluates body; returns [value elapsed-ns gc-delta]."
  [& body]
  `(let [g# (gc-totals), t# (now-ns), v# (do ~@body), e# (- (now-ns) t#)]
     [v# e# (gc-delta g# (gc-totals))]))

;; --- printing ------------------------------------------------------------------------

(defn- mb [^long bytes]
  (cond (< (Math/abs bytes) 100000) "< 0.1 MB"
        (< (Math/abs bytes) 1000000) (format "%.0f KB" (/ bytes 1e3))
        :else (format "%.1f MB" (/ bytes 1e6))))

(defn- dur [^long ns]
  (cond (< ns 1000000) (format "%.1f µs" (/ ns 1e3))
        (< ns 1000000000) (format "%.1f ms" (/ ns 1e6))
        :else (format "%.2f s" (/ ns 1e9))))

(defn- gcs [{:keys [count ms]}] (format "%d pauses, %d ms" count ms))

(defn- say [& xs] (println (apply str xs)) (flush))

(defn- progress [& xs] (print (apply str xs)) (flush))

(defn- row [label a b]
  (say (format "   %-30s %20s %20s" label a b)))

(defn- group [^long n] (format "%,d" n))

;; --- the data --------------------------------------------------------------------------

(def ^:private tag-pool [:fragile :bulk :cold :hazmat :gift :express :returned])

(defn- order
  "The value stored under order id i: a small map with a nested set."
  [^long i]
  {:qty (mod (* i 7) 100)
   :sku (str "X-" (mod i 1000))
   :tags (hash-set (tag-pool (mod i 7)) (tag-pool (mod (quot i 7) 7)))})

(defn- build
  "Builds n orders into the (transient of the) empty map m, printing a dot
  every tenth of the way."
  [m ^long n dots?]
  (let [step (max 1 (quot n 10))]
    (persistent!
     (reduce (fn [t ^long i]
               (when (and dots? (pos? i) (zero? (rem i step))) (progress "."))
               (assoc! t i (order i)))
             (transient m)
             (range n)))))

(defn- total-qty
  "Reduces over every order: the sum of :qty."
  ^long [m]
  (reduce-kv (fn [^long acc _ v] (+ acc (long (:qty v)))) 0 m))

(defn- restock
  "A new version of m with :qty raised by 100 on each key in ks, built with a
  transient as any bulk update would be. Leaves no garbage in the segment:
  every node it writes belongs to the new version."
  [m ks]
  (persistent! (reduce (fn [t k] (assoc! t k (update (get t k) :qty + 100))) (transient m) ks)))

(defn- random-keys
  "10,000 distinct order ids spread over [0, n), reproducible by seed."
  [^long seed ^long n]
  (let [r (Random. seed)]
    (into [] (comp (distinct) (take 10000)) (repeatedly #(long (.nextInt r (int n)))))))

;; --- 1. build ------------------------------------------------------------------------------

(defn- part-1 [^long n]
  (say "1. The same map built twice: clojure.core (on the heap) and slab (off-heap)")
  (progress "   warming up the JIT ...")
  (let [[_ t] (timed (build {} 30000 false) (build (slab/hash-map) 30000 false))]
    (say " " (dur t)))
  (settle!)
  (let [heap0 (heap-after-gc)
        seg0 (seg-bytes)
        _ (progress "   building in slab's default segment ")
        [big t-slab gc-slab] (timed (build (slab/hash-map) n true))
        _ (say " " (dur t-slab))
        heap-slab (- (heap-after-gc) heap0)
        seg-slab (- (seg-bytes) seg0)
        pause-slab (full-gc!)
        _ (progress "   building in clojure.core          ")
        heap1 (heap-after-gc)
        [twin t-core gc-core] (timed (build {} n true))
        _ (say " " (dur t-core))
        heap-core (- (heap-after-gc) heap1)
        pause-core (full-gc!)]
    (say)
    (row "" "clojure.core" "slab")
    (row "build time (transient)" (dur t-core) (dur t-slab))
    (row "GC during the build" (gcs gc-core) (gcs gc-slab))
    (row "heap used after GC" (mb heap-core) (mb heap-slab))
    (row "segment bytes in use" "-" (mb seg-slab))
    (row "full GC pause, map live" (str pause-core " ms") (str pause-slab " ms"))
    (say "   (the slab column's full GC ran before the clojure.core map existed)")
    (say "   same count and hash: " (and (= (count big) (count twin)) (= (hash big) (hash twin))))
    {:big big :twin twin :seg-big seg-slab}))

;; --- 2. share ---------------------------------------------------------------------------------

(defn- part-2 [{:keys [big twin ^long seg-big]} ^long n]
  (say)
  (say "2. One version shared by futures, an agent and a core.async pipeline")
  (let [hash0 (hash big)
        jobs (mapv #(random-keys % n) (range 5))
        before (seg-bytes)
        _ (progress "   5 workers each derive a version, restocking 10,000 orders (update :qty via a transient) ...")
        [versions t]
        (timed
         (let [futs (mapv (fn [w] (future (restock big (jobs w)))) [0 1])
               ag (agent nil)
               _ (send-off ag (fn [_] (restock big (jobs 2))))
               out (async/chan 2)
               _ (async/pipeline 2 out (map (fn [w] (restock big (jobs w)))) (async/to-chan! [3 4]))
               from-pipe (async/<!! (async/into [] out))]
           (await ag)
           (into (mapv deref futs) (cons @ag from-pipe))))
        _ (say " " (dur t))
        after (seg-bytes)
        _ (progress "   checking the original against its clojure.core twin ...")
        [eq t-eq] (timed (= big twin))
        _ (say " " (dur t-eq))
        touched (into #{} cat jobs)
        k (first (jobs 0))]
    (say "   the original is unchanged: (= original twin) " eq
         ", hash " (if (= hash0 (hash big) (hash twin)) "the same as before and as the twin's" "CHANGED")
         ", all " (group (count touched)) " restocked orders as in the twin: "
         (every? #(= (get big %) (get twin %)) touched))
    (say "   each version has its own 10,000 changes and nothing else: "
         (every? (fn [w]
                   (let [v (versions w)]
                     (and (= n (count v))
                          (every? #(= (+ 100 (get-in twin [% :qty])) (get-in v [% :qty])) (jobs w)))))
                 (range 5))
         "; e.g. order " k ": :qty " (get-in big [k :qty]) " in the original, "
         (get-in (versions 0) [k :qty]) " in worker 0's version")
    (let [added (- after before)]
      (say "   the 5 versions added " (mb added) " to the segment: "
           (format "%.1f%%" (/ (* 100.0 added) (* 5 seg-big))) " of what 5 copies would take ("
           (mb (* 5 seg-big)) "), since unchanged nodes are shared"))
    versions))

;; --- 3. another process ----------------------------------------------------------------------

(defn- java-binary []
  (str (io/file (System/getProperty "java.home") "bin" "java")))

(defn- run-reader
  "Runs slab.demo-reader in a second JVM; returns [its result map, wall ns]."
  [& args]
  (let [cmd (into [(java-binary) "-XX:+UseG1GC" "-cp" (System/getProperty "java.class.path")
                   "clojure.main" "-m" "slab.demo-reader"]
                  (map str args))
        t0 (now-ns)
        p (.start (doto (ProcessBuilder. ^java.util.List cmd)
                    (.redirectError java.lang.ProcessBuilder$Redirect/INHERIT)))
        out (slurp (.getInputStream p))
        rc (.waitFor p)
        wall (- (now-ns) t0)]
    (when-not (zero? rc)
      (throw (ex-info (str "the reader process exited with " rc) {:out out})))
    [(edn/read-string (last (str/split-lines out))) wall]))

(defn- part-3 [{:keys [twin]}]
  (say)
  (say "3. Handing the map to another JVM: a named root vs a data.fressian round trip")
  (let [pid (.pid (java.lang.ProcessHandle/current))
        dir (str (slab.mem.Segment/anonymousDirectory))
        seg-file (File. dir (str "slab-demo-" pid ".slab"))
        fress-file (File. dir (str "slab-demo-" pid ".fressian"))]
    (try
      (let [seg (slab/open-segment seg-file {:capacity (* 4 1024 1024 1024)})
            _ (progress "   A converts the map into segment file " seg-file " ...")
            [shared t-convert] (timed (slab/share twin {:segment seg}))
            _ (say " " (dur t-convert))
            [_ t-publish] (timed (slab/set-root! seg :orders shared))
            _ (progress "   A writes the same map with data.fressian ...")
            [_ t-write] (timed (with-open [out (io/output-stream fress-file)]
                                 (fressian/write-object (fressian/create-writer out) twin)))
            _ (say " " (dur t-write) ", " (mb (.length fress-file)))
            _ (progress "   starting process B (slab.demo-reader) ...")
            [r wall] (run-reader seg-file "orders" fress-file)]
        (say " done in " (dur wall) ", of which JVM start and loading slab.core " (dur (:startup-ns r)))
        (say)
        (row "" "named root" "data.fressian")
        (row "A: convert / serialize (O(n))" (dur t-convert) (dur t-write))
        (row "A: publish" (dur t-publish) "-")
        (row "B: open the segment file" (dur (:open-ns r)) "-")
        (row "B: obtain the map" (dur (:root-ns r)) (dur (:fressian-read-ns r)))
        (row "   (slab/root a second time)" (dur (:root-again-ns r)) "")
        (row "B: reduce over it (sum :qty)" (dur (:reduce-ns r)) (dur (:fressian-reduce-ns r)))
        (row "B: heap used after GC" (mb (:heap-root r)) (mb (:heap-fressian r)))
        (say "   B saw " (group (:count r)) " orders; its sums equal A's: "
             (= (total-qty twin) (:sum r) (:fressian-sum r))
             "; hashes equal A's: " (= (hash twin) (:hash r) (:fressian-hash r)))
        (say (format "   B obtained the map %,.0fx faster through the root than from fressian (%,.0fx counting the open)"
                     (/ (double (:fressian-read-ns r)) (max 1 (:root-ns r)))
                     (/ (double (:fressian-read-ns r)) (max 1 (+ (:open-ns r) (:root-ns r))))))
        (slab/release! shared)
        (slab/close-segment! seg))
      (finally
        (.delete seg-file)
        (.delete fress-file)))))

;; --- main ----------------------------------------------------------------------------------------

(defn -main
  "Runs the demo; the optional argument is the number of orders."
  [& [orders]]
  (let [n (long (if orders (parse-long orders) 500000))
        t0 (now-ns)]
    (say (format "slab demo: a map of %,d orders like %s" n (pr-str (order 42))))
    (say (format "(%,d map and set entries in all, counting the nested ones)" (* 6 n)))
    (say (format "Clojure %s, JDK %s, %d cores, %s GC, max heap %s" (clojure-version)
                 (System/getProperty "java.version") (.availableProcessors (Runtime/getRuntime))
                 (first (str/split (.getName ^GarbageCollectorMXBean
                                    (first (ManagementFactory/getGarbageCollectorMXBeans))) #" "))
                 (mb (.maxMemory (Runtime/getRuntime)))))
    (say)
    (let [built (part-1 n)
          versions (part-2 built n)]
      (part-3 built)                    ; the last use of the original and its twin
      (say)
      (progress "letting the GC reclaim what the demo dropped ...")
      (let [[_ t] (timed (settle!))] (say " " (dur t)))
      (say "the default segment now, with the 5 derived versions live: "
           (pr-str (dissoc (slab/stats) :blocks-in-use)))
      (say "total time " (dur (- (now-ns) t0)) "; " (count versions) " versions, all "
           (group (count (peek versions))) " orders"))
    (shutdown-agents)))
