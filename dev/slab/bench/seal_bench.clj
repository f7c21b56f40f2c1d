(ns slab.bench.seal-bench
  "What seals cost (doc/benchmarks.md, *Seals*): persistent assoc and conj
  and transient builds, which seal every node they make, and get,
  reduce-kv, nth and reduce on a segment opened with {:verify :on-read}
  (every block a read follows checksummed) beside the same reads on one
  opened without it. Run it on a build without seals too (the same file
  works there; the :on-read cases are then skipped) to compare the update
  and default-read rows:

    bin/lein run -m slab.bench.seal-bench [rounds]"
  (:require [slab.bench.harness :as h]
            [slab.core :as slab])
  (:import [java.nio.file Files]
           [java.nio.file.attribute FileAttribute]))

(set! *warn-on-reflection* true)

(def ^:private size 100000)

(defn- segment [dir file opts]
  (try (slab/open-segment (str dir "/" file) (merge {:capacity "2g"} opts))
       (catch clojure.lang.ExceptionInfo e
         (when-not (= :bad-argument (:slab/error (ex-data e))) (throw e)))))

(defn- fill! [seg]
  (slab/with-segment seg
    (slab/set-root! seg :m (persistent! (reduce #(assoc! %1 %2 (str "value-" %2)) (transient (slab/hash-map)) (range size))))
    (slab/set-root! seg :v (persistent! (reduce conj! (transient (slab/vector)) (range size))))))

(defn- read-benches [label seg]
  (let [m (slab/root seg :m) v (slab/root seg :v)
        small (slab/with-segment seg (slab/share (into {} (map (fn [i] [i i])) (range 1000))))]
    [{:name (str "map get, 100k entries" label)
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 acc 0]
                (if (< i n) (recur (inc i) (+ acc (count (get m (mod (* i 7919) size))))) acc)))}
     {:name (str "map reduce-kv, per entry" label)
      :body (fn ^long [^long _ ^long n]
              (loop [done 0 acc 0]
                (if (< done n) (recur (+ done 1000) (+ acc (long (reduce-kv (fn [^long a k _] (+ a (long k))) 0 small)))) acc)))}
     {:name (str "vector nth, 100k elements" label)
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 acc 0]
                (if (< i n) (recur (inc i) (+ acc (long (nth v (mod (* i 7919) size))))) acc)))}
     {:name (str "vector reduce, per element" label)
      :body (fn ^long [^long _ ^long n]
              (loop [done 0 acc 0]
                (if (< done n) (recur (+ done size) (+ acc (long (reduce (fn [^long a x] (+ a (long x))) 0 v)))) acc)))}]))

(defn- update-benches [seg]
  (let [m (slab/root seg :m) v (slab/root seg :v)]
    [{:name "map assoc (persistent), 100k entries"
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 x m] (if (< i n) (recur (inc i) (assoc x (mod (* i 7919) size) i)) (count x))))}
     {:name "vector conj (persistent)"
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 x v] (if (< i n) (recur (inc i) (conj x i)) (count x))))}
     {:name "map transient build, per assoc!"
      :body (fn ^long [^long _ ^long n]
              (slab/with-segment seg
                (count (persistent! (reduce #(assoc! %1 %2 %2) (transient (slab/hash-map)) (range n))))))}
     {:name "vector transient build, per conj!"
      :body (fn ^long [^long _ ^long n]
              (slab/with-segment seg
                (count (persistent! (reduce conj! (transient (slab/vector)) (range n))))))}]))

(defn -main [& [rounds]]
  (let [dir (str (Files/createTempDirectory "slab-seal-bench" (make-array FileAttribute 0)))
        plain (segment dir "plain.slab" {})
        on-read (segment dir "on-read.slab" {:verify :on-read})]
    (fill! plain)
    (when on-read (fill! on-read))
    (println (h/environment))
    (let [benches (concat (update-benches plain)
                          (read-benches "" plain)
                          (when on-read (read-benches ", :on-read" on-read)))
          results (h/run-suite (vec benches) {:rounds (parse-long (or rounds "8")) :round-ms 400 :warmup-ms 2000})]
      (println (h/markdown-table results)))
    (shutdown-agents)
    (System/exit 0)))
