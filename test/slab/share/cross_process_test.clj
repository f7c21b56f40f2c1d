(ns slab.share.cross-process-test
  "Proves that separate JVMs share one segment: concurrent swap!s across
  processes are exact, a writer killed with kill -9 at any moment never
  damages a published value and recovery gives back all it held, and a
  reader never sees a torn or freed node while another process swaps."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as tu :refer [temp-path settle!]]))

(set! *warn-on-reflection* true)

(def ^:private child-opts [:jvm-opts ["-XX:TieredStopAtLevel=1" "-Xshare:auto"]])

(defn- child [expr] (apply tu/start-child expr child-opts))

(defn- counting-child
  "A process that adds 1 to :total and to its own key n times, then says :done."
  [path id n]
  (child (pr-str `(do (require '[slab.core :as ~'slab])
                      (let [seg# (slab/open-segment ~path)
                            a# (slab/atom seg# :counters)]
                        (println :ready)
                        (dotimes [_# ~n]
                          (swap! a# (fn [m#] (-> m# (update :total (fnil inc 0)) (update ~id (fnil inc 0))))))
                        (println :done)
                        (shutdown-agents))))))

(deftest concurrent-swaps-across-processes-are-exact
  (doseq [processes [2 3]]
    (testing (str processes " processes")
      (let [path (temp-path "swaps")
            seg (slab/open-segment path {:capacity (* 256 1024 1024)})
            a (slab/atom seg :counters {})
            n 10000
            kids (mapv #(counting-child path (keyword (str "p" %)) n) (range (dec processes)))]
        (try
          (doseq [k kids] (is (= :ready (tu/read-edn! k 60000))))
          (dotimes [_ n]
            (swap! a (fn [m] (-> m (update :total (fnil inc 0)) (update :parent (fnil inc 0))))))
          (doseq [k kids] (is (= :done (tu/read-edn! k 120000))))
          (let [v @a]
            (is (= (* processes n) (:total v)) "no swap was lost")
            (is (= n (:parent v)))
            (doseq [i (range (dec processes))] (is (= n (get v (keyword (str "p" i)))))))
          (finally
            (doseq [k kids] (tu/destroy! k))
            (slab/close-segment! seg)))))))

(defn- published-value
  "What the writer below publishes at step i: every key of a 200-entry map
  carries i, with string and nested values that need blobs and nodes."
  [i]
  {:step i
   :entries (into {} (map (fn [k] [k {:step i :label (str "entry " k " at step " i)}])) (range 200))})

(defn- consistent? [v]
  (let [i (:step v)]
    (and (integer? i) (= v (published-value i)))))

(deftest a-writer-killed-at-any-moment-damages-nothing
  (let [path (temp-path "kill")
        seg (slab/open-segment path {:capacity (* 256 1024 1024)})
        a (slab/atom seg :state (published-value 0))
        held (slab/share {:held-by-the-parent (vec (range 1000)) :s "a string held by a live process"})
        held-twin {:held-by-the-parent (vec (range 1000)) :s "a string held by a live process"}
        rnd (java.util.Random. 42)]
    (slab/set-root! seg :held held)
    (settle! seg -1)                                   ; no dropped setup version left for the Cleaner
    (dotimes [round 20]
      (let [k (child (pr-str `(do (require '[slab.core :as ~'slab])
                                  (let [seg# (slab/open-segment ~path)
                                        a# (slab/atom seg# :state)
                                        pv# (fn [i#] {:step i#
                                                      :entries (into {} (map (fn [k#] [k# {:step i# :label (str "entry " k# " at step " i#)}]))
                                                                     (range 200))})]
                                    (println :ready)
                                    (loop [i# (inc (:step @a#))]
                                      (swap! a# (fn [_#] (pv# i#)))
                                      (recur (inc i#)))))))]
        (is (= :ready (tu/read-edn! k 60000)))
        (Thread/sleep (+ 20 (.nextInt rnd 400)))
        (.destroyForcibly ^Process (:process k))        ; kill -9
        (.waitFor ^Process (:process k))
        (tu/destroy! k)
        ;; This process's versions are released explicitly: a Cleaner giving one
        ;; back while recover! walks the heap would make its report inexact.
        (let [v @a]
          (is (consistent? v) (str "round " round ": the atom holds a value some swap! published"))
          (slab/release! v))
        (let [r (slab/recover! seg)]
          (is (= 1 (:dead-processes r)) "the dead writer's counts were given back")
          (is (zero? (:unreachable r)) (str "round " round ": nothing is left that no root or live handle reaches " r))
          (is (= (:reachable r) (:bytes-in-use (slab/stats seg))) (str "round " round ": bytes in use = what the live roots reach")))
        (let [h (slab/root seg :held)]
          (is (= held-twin held h) "what a live process holds was not freed")
          (slab/release! h))))
    (slab/close-segment! seg)))

(deftest a-reader-never-sees-a-torn-or-freed-node
  (let [path (temp-path "reader")
        seg (slab/open-segment path {:capacity (* 512 1024 1024)})
        probes (range 0 100000 1000)
        version (fn [m v] (reduce #(assoc %1 %2 v) (assoc m :version v) probes))
        base (slab/share (into {} (map (fn [i] [i (- i)])) (range 100000)))
        a (slab/atom seg :big (version base 0))
        reader (child (pr-str `(do (require '[slab.core :as ~'slab])
                                   (let [seg# (slab/open-segment ~path)
                                         a# (slab/atom seg# :big)
                                         deadline# (+ (System/currentTimeMillis) 4000)]
                                     (println :ready)
                                     (loop [reads# 0 bad# 0]
                                       (if (< (System/currentTimeMillis) deadline#)
                                         (let [m# @a#
                                               v# (:version m#)
                                               ok# (and (= 100001 (count m#))
                                                        (every? #(= v# (get m# %)) ~(vec probes))
                                                        (= (reduce + 0 (map #(get m# %) (range 1 999)))
                                                           (- (reduce + 0 (range 1 999)))))]
                                           (recur (inc reads#) (if ok# bad# (inc bad#))))
                                         (println {:reads reads# :bad bad#})))
                                     (shutdown-agents)))))]
    (try
      (is (= :ready (tu/read-edn! reader 60000)))
      (loop [v 1]
        (when (.isAlive ^Process (:process reader))
          (swap! a version v)
          (recur (inc v))))
      (let [{:keys [reads bad]} (tu/read-edn! reader 30000)]
        (is (pos? reads))
        (is (zero? bad) "every value read was one a swap published, whole"))
      (finally
        (tu/destroy! reader)
        (slab/close-segment! seg)))))

(deftest foreign-and-incompatible-files-are-refused
  (let [path (temp-path "foreign")]
    (spit path (apply str (repeat 10000 "not a segment ")))
    (is (= :bad-segment-file (:error (tu/error-of #(slab/open-segment path)))))
    (let [seg (slab/open-segment (str path ".ok") {:capacity (* 8 1024 1024)})]
      (slab/close-segment! seg)
      (with-open [ch (java.nio.channels.FileChannel/open
                      (.toPath (java.io.File. (str path ".ok")))
                      (into-array java.nio.file.OpenOption [java.nio.file.StandardOpenOption/WRITE]))]
        (.write ch (java.nio.ByteBuffer/wrap (byte-array [99 0 0 0])) (long slab.mem.HeaderDescriptor/VERSION_OFFSET)))
      (is (= :wrong-version (:error (tu/error-of #(slab/open-segment (str path ".ok"))))))))
)
