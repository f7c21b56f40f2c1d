(ns slab.bench.update-bench
  "Persistent updates side by side with clojure.core, the dropped versions'
  release included: each case makes a chain of versions (every update on
  the one before, as an atom or a reduce does) and gives each dropped
  version back at once (release!), so the release is inside the timed loop
  (left to the Cleaner, it runs on another thread after a GC, where a
  wall-clock loop does not see it).

    bin/lein with-profile +bench run -m slab.bench.update-bench
    ... update-bench sizes=1000,100000 rounds=5 ops=assoc,dissoc,conj,vassoc,pop,swap

  Reported per op: PHM or PersistentVector ns, slab ns (release! in the
  loop), the ratio, and heap bytes allocated per op by the benchmark thread. swap!: p50/p99 latency of one assoc on a
  named-segment atom, next to a clojure.core atom."
  (:require [clojure.string :as str]
            [slab.core :as slab])
  (:import (java.lang.management ManagementFactory)
           (java.util Arrays)))

(set! *warn-on-reflection* true)

(def ^:private ^com.sun.management.ThreadMXBean thread-mx (ManagementFactory/getThreadMXBean))

(defn- alloc-bytes ^long [] (.getCurrentThreadAllocatedBytes thread-mx))

(defn- seg-in-use ^long [] (.bytesInUse (.stats (.allocator ^slab.mem.Segment (slab/default-segment)))))

(defn- drain!
  "Waits until the Cleaner has given back what dropped versions held."
  []
  (loop [prev -1, same 0, i 0]
    (System/gc)
    (Thread/sleep 50)
    (let [now (seg-in-use), same (if (== now prev) (inc same) 0)]
      (when (and (< same 3) (< i 400)) (recur now same (inc i))))))

(defn- median [xs] (let [v (vec (sort xs))] (v (quot (count v) 2))))

(defn- timed
  "Runs (f) rounds times after a warm-up; returns median ns/op, and heap
  bytes per op of the last round. f returns the number of ops it did."
  [rounds f]
  (dotimes [_ 2] (f))
  (let [rs (vec (for [_ (range rounds)]
                  (let [a0 (alloc-bytes), t0 (System/nanoTime), n (long (f)), t1 (System/nanoTime)]
                    [(/ (double (- t1 t0)) n) (/ (double (- (alloc-bytes) a0)) n)])))]
    {:ns (median (map first rs)) :alloc (median (map second rs))}))

(def ^:private steps 50000)

(defn- chain-case
  "heap: the update on a clojure.core value; sl: the same on a slab value."
  [base-heap base-slab update]
  (let [n steps
        heap (fn [] (loop [m base-heap, i 0] (if (< i n) (recur (update m i) (inc i)) (do (count m) n))))
        slab (fn [] (loop [m base-slab, i 0]
                          (if (< i n)
                            (let [m2 (update m i)]
                              ;; an update that changes nothing returns the same version
                              (when-not (or (identical? m base-slab) (identical? m m2)) (slab/release! m))
                              (recur m2 (inc i)))
                            (do (when-not (identical? m base-slab) (slab/release! m)) n))))]
    [heap slab]))

(defn- row
  "Times the two cases alternately (core, slab, core, slab ...) so drift hits both alike."
  [label size rounds [heap slab]]
  (drain!)
  (let [pairs (vec (for [_ (range rounds)] [(timed 1 heap) (timed 1 slab)]))
        h {:ns (median (map (comp :ns first) pairs)) :alloc (median (map (comp :alloc first) pairs))}
        s {:ns (median (map (comp :ns second) pairs)) :alloc (median (map (comp :alloc second) pairs))}]
    (println (format "%-34s %10d  core %8.0f ns  slab %8.0f ns (%5.2fx)  heap B/op core %6.0f slab %6.0f"
                     label size (:ns h) (:ns s) (/ (:ns s) (:ns h)) (:alloc h) (:alloc s)))
    (flush)
    {:op label :size size :core-ns (:ns h) :slab-ns (:ns s) :ratio (/ (:ns s) (:ns h))
     :core-alloc (:alloc h) :slab-alloc (:alloc s)}))

(defn- swap-latency [label size rounds]
  (let [file (str (java.io.File/createTempFile "update-bench" ".slab"))
        seg (slab/open-segment file {:capacity (* 4 1024 1024 1024)})
        init (into {} (map (fn [i] [i i])) (range size))
        sa (slab/atom seg :bench init)
        ca (atom init)
        n 20000
        lat (fn [a] (let [xs (long-array n)]
                      (dotimes [i n]
                        (let [t0 (System/nanoTime)]
                          (swap! a assoc (mod (* i 7919) (* 2 size)) i)
                          (aset xs i (- (System/nanoTime) t0))))
                      (Arrays/sort xs)
                      [(aget xs (quot n 2)) (aget xs (quot (* 99 n) 100))]))]
    (dotimes [_ 2] (lat sa) (lat ca))
    (let [rs (vec (for [_ (range rounds)] [(lat ca) (lat sa)]))
          [c50 c99] [(median (map (comp first first) rs)) (median (map (comp second first) rs))]
          [s50 s99] [(median (map (comp first second) rs)) (median (map (comp second second) rs))]]
      (println (format "%-34s %10d  core p50 %6d ns p99 %6d ns  slab p50 %6d ns p99 %6d ns (p50 %5.2fx)"
                       label size c50 c99 s50 s99 (/ (double s50) c50)))
      (flush)
      (slab/close-segment! seg)
      (.delete (java.io.File. file))
      {:op label :size size :core-p50 c50 :core-p99 c99 :slab-p50 s50 :slab-p99 s99})))

(defn -main [& args]
  (let [opts (into {} (for [a args :let [[k v] (str/split a #"=" 2)]] [(keyword k) v]))
        sizes (mapv parse-long (str/split (get opts :sizes "1000,100000,1000000") #","))
        rounds (parse-long (get opts :rounds "5"))
        ops (set (map keyword (str/split (get opts :ops "assoc,dissoc,conj,vassoc,pop,swap") #",")))
        results (atom [])]
    (println (format "update-bench: JDK %s, %d cores, %d steps per chain" (System/getProperty "java.version")
                     (.availableProcessors (Runtime/getRuntime)) steps))
    (doseq [size sizes]
      (let [hm (into {} (map (fn [i] [i i])) (range size))
            sm (slab/share hm)
            hv (vec (range size))
            sv (slab/vec hv)]
        (when (ops :assoc)
          (swap! results conj (row "map assoc (new key)" size rounds
                                   (chain-case hm sm (fn [m ^long i] (assoc m (+ size i) i))))))
        (when (ops :dissoc)
          (swap! results conj (row "map dissoc (present key)" size rounds
                                   (chain-case hm sm (fn [m ^long i] (dissoc m (mod (* i 7919) size)))))))
        (when (ops :conj)
          (swap! results conj (row "vector conj" size rounds (chain-case hv sv (fn [v ^long i] (conj v i))))))
        (when (ops :vassoc)
          (swap! results conj (row "vector assoc" size rounds
                                   (chain-case hv sv (fn [v ^long i] (assoc v (mod (* i 7919) size) i))))))
        (when (ops :pop)
          (swap! results conj (row "vector pop" size rounds
                                   (chain-case hv sv (fn [v ^long _] (if (> (count v) 1) (pop v) v))))))
        (slab/release! sm)
        (slab/release! sv)
        (when (and (ops :swap) (#{10000 1000000} size))
          (swap! results conj (swap-latency "swap! one assoc (named segment)" size rounds)))))
    (when (and (ops :swap) (not-any? #{10000 1000000} sizes))
      (swap! results conj (swap-latency "swap! one assoc (named segment)" 10000 rounds)))
    (spit "target/update-bench.edn" (pr-str @results))
    (shutdown-agents)
    (System/exit 0)))
