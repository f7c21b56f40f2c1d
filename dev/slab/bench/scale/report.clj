(ns slab.bench.scale.report
  "The markdown tables of a scale run (doc/benchmarks.md, \"Scale\")."
  (:require [clojure.string :as str]
            [slab.bench.scale.cases :as cases]))

(set! *warn-on-reflection* true)

(defn- fmt-ns [x]
  (if (nil? x) "—"
      (let [x (double x)]
        (cond (>= x 1e6) (format "%.1f ms" (/ x 1e6))
              (>= x 1e4) (format "%.1f µs" (/ x 1e3))
              (>= x 100) (format "%.0f" x)
              :else (format "%.1f" x)))))

(defn- fmt-ratio [a b]
  (if (and a b) (format "%.2f" (/ (double a) (double b))) "—"))

(defn- fmt-n [^long n]
  (cond (and (>= n 1000000) (zero? (rem n 1000000))) (str (quot n 1000000) "M")
        (and (>= n 1000) (zero? (rem n 1000))) (str (quot n 1000) "k")
        :else (str n)))

(defn- spread
  "(max - min) / median of the rounds' CPU ns per op, in percent: how much
  to trust a median on a loaded machine; — where unknown (a stage rebuilt
  from the log of a run stopped before it saved its figures)."
  [o side]
  (if-let [{:keys [median min max]} (when (get-in o [side :cpu :max]) (get-in o [side :cpu]))]
    (format "%.0f%%" (* 100.0 (/ (- (double max) (double min)) (double median))))
    "—"))

(defn- line [cells] (str "| " (str/join " | " cells) " |"))

(defn- op-table
  "One table per collection: a row per operation and size."
  [coll stages]
  (let [ss (sort-by :size stages)
        ids (distinct (mapcat #(map :id (:ops %)) ss))]
    (str/join "\n"
              (concat
               [(str "**" (:title (cases/colls coll)) "** — ns per entry (build, reduce, seq) or per op; medians of the rounds; ratios slab ÷ clojure.core, below 1 slab is faster")
                ""
                (line ["operation" "entries" "core ns" "slab ns" "slab ÷ core" "core CPU ns" "slab CPU ns" "**slab ÷ core (CPU)**" "CPU spread core / slab"])
                (line ["---" "---:" "---:" "---:" "---:" "---:" "---:" "---:" "---:"])]
               (for [id ids, s ss
                     :let [o (first (filter #(= id (:id %)) (:ops s)))
                           med (fn [side k] (get-in o [side k :median]))]
                     :when o]
                 (line [(cases/op-label coll id) (fmt-n (:size s))
                        (fmt-ns (med :core :wall)) (fmt-ns (med :slab :wall))
                        (fmt-ratio (med :slab :wall) (med :core :wall))
                        (fmt-ns (med :core :cpu)) (fmt-ns (med :slab :cpu))
                        (str "**" (fmt-ratio (med :slab :cpu) (med :core :cpu)) "**")
                        (str (spread o :core) " / " (spread o :slab))]))))))

(defn- memory-table [stages]
  (str/join "\n"
            (concat
             [(line ["collection" "entries" "clojure.core heap B/entry" "slab segment B/entry" "slab heap B/entry"
                     "full GC, nothing live" "clojure.core live" "slab live" "slab live ÷ nothing"])
              (line ["---" "---:" "---:" "---:" "---:" "---:" "---:" "---:" "---:"])]
             (for [s stages
                   :let [b (:bytes s)
                         gc (fn [k] (get-in s [:gc k :wall-ms]))
                         ms (fn [x] (if x (format "%.1f ms" (double x)) "— (not run)"))]]
               (line [(name (:coll s)) (fmt-n (:size s))
                      (if-let [x (:core-heap b)] (format "%.1f" (double x)) "— (not run)")
                      (format "%.1f" (double (:slab-segment b))) (format "%.1f" (double (:slab-heap b)))
                      (ms (gc :nothing)) (ms (gc :core)) (ms (gc :slab))
                      (fmt-ratio (gc :slab) (gc :nothing))])))))

(defn markdown
  "The tables of a results map (as the benchmark saves it)."
  [{:keys [stages environment]}]
  (let [by (group-by :coll stages)
        skipped (remove :core? stages)]
    (str/join "\n\n"
              (concat
               [(str "Run: " (:jdk environment) ", " (:cores environment) " cores, load average "
                     (format "%.1f" (double (:load-average environment))) " at the start, max heap "
                     (:max-heap-mib environment) " MiB, segment capacity "
                     (:segment-capacity-gib environment) " GiB, " (:date environment) ".")]
               (when (seq skipped)
                 [(str "clojure.core not run (would not fit in the heap): "
                       (str/join ", " (map #(str (name (:coll %)) " at " (fmt-n (:size %))) skipped)) ".")])
               (for [coll (filter by (keys cases/colls))] (op-table coll (by coll)))
               [(memory-table (sort-by (juxt #(.indexOf ^java.util.List (vec (keys cases/colls)) (:coll %)) :size) stages))]))))
