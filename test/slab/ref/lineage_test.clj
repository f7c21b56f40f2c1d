;; Proves path copies that borrow from the versions they were made from (slab.ref.Lineage) keep every version exact and give every byte back: long chains of versions with old ones held at random, chains dropped oldest first, newest first and at random, vectors as well as maps, and several processes dropping versions of one structure at once.
(ns slab.ref.lineage-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u :refer [settle! temp-path]])
  (:import (java.util Random)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defn- value-for [^long i]
  (case (int (mod i 4))
    0 i
    1 (str "a string long enough to need a blob " i)
    2 {:nested i :tags #{i :t}}
    3 [i (str "s" i)]))

(deftest an-atom-swapped-a-million-times-with-old-versions-held
  (let [seg (Segment/anonymous (* 2048 1024 1024) 5 5)]
    (slab/with-segment seg
      (let [a (slab/atom (slab/hash-map))
            _ (slab/release! (slab/share {:t {:nested 1 :tags #{:t}}}))   ; interns the keywords (never freed)
            baseline (settle! seg -1)
            _ (reset! a (slab/share (into {} (map (fn [i] [i (value-for i)])) (range 1000))))
            rnd (Random. 7)
            held (object-array 64)                 ; [slab version, heap twin] kept at random
            n 1000000]
        (let [twin (loop [i 0, twin (into {} @a)]
                     (if (< i n)
                       (let [k (.nextInt rnd 1500)
                             f (if (zero? (mod i 3)) #(dissoc % k) #(assoc % k (value-for i)))
                             twin (f twin)
                             v (swap! a f)]
                         (when (zero? (.nextInt rnd 2000))
                           (aset held (.nextInt rnd 64) [v twin]))
                         (recur (inc i) twin))
                       twin))]
          (testing "every version held at random is intact"
            (is (< 20 (count (remove nil? held))))
            (doseq [[v twin] (remove nil? held)]
              (is (= twin v))
              (is (= (hash twin) (hash v)))))
          (testing "the current value agrees with its twin"
            (is (= twin @a))))
        (testing "once every version is dropped, every byte is back"
          (reset! a (slab/hash-map))
          (java.util.Arrays/fill held nil)
          (is (= {} @a))
          ;; the atom's first empty map may have been collected only after the baseline
          (is (<= (settle! seg -1) baseline)))))
    (.close seg)))

(defn- chain
  "n versions of a 2,000-entry map, each an assoc or dissoc on the one before."
  [^long n]
  (let [m0 (slab/share (into {} (map (fn [i] [i (value-for i)])) (range 2000)))]
    (vec (reductions (fn [m ^long i]
                       (if (zero? (mod i 4)) (dissoc m (mod (* i 31) 2000)) (assoc m (mod (* i 17) 2500) (value-for i))))
                     m0 (range 1 n)))))

(defn- vchain
  "n versions of a 3,000-element vector: assoc, conj and pop in turn."
  [^long n]
  (let [v0 (slab/vec (map value-for (range 3000)))]
    (vec (reductions (fn [v ^long i]
                       (case (int (mod i 3))
                         0 (assoc v (mod (* i 13) (count v)) (value-for i))
                         1 (conj v (value-for i))
                         2 (pop v)))
                     v0 (range 1 n)))))

(defn- drop-all! [versions order]
  (doseq [v (case order
              :oldest-first versions
              :newest-first (rseq versions)
              :random (shuffle versions))]
    (slab/release! v)))

(deftest chains-of-versions-dropped-in-any-order-give-everything-back
  (let [seg (Segment/anonymous (* 512 1024 1024) 5 5)]
    (slab/with-segment seg
      (drop-all! (chain 10) :random)                  ; interns keywords (never freed)
      (drop-all! (vchain 10) :random)
      (let [baseline (settle! seg -1)]
        (doseq [order [:oldest-first :newest-first :random]
                [what make] [["map" chain] ["vector" vchain]]]
          (testing (str what " versions dropped " (name order))
            (let [vs (make 300)
                  twins (mapv #(if (map? %) (into {} %) (into [] %)) vs)]
              (is (= twins vs) "every version of the chain is intact")
              (drop-all! vs order)
              (is (== baseline (u/bytes-in-use seg)) "release! of every version gives every byte back"))))
        (testing "versions dropped while others are read, from several threads"
          (let [vs (chain 400)
                twins (mapv #(into {} %) vs)
                parts (partition-all 100 (shuffle (range 400)))
                fs (mapv (fn [idx] (future (doseq [i idx]
                                             (when-not (= (twins i) (vs i)) (throw (ex-info "wrong version" {:i i})))
                                             (slab/release! (vs i)))))
                         parts)]
            (run! deref fs)
            ;; the atom's first empty map may have been collected only after the baseline
          (is (<= (settle! seg -1) baseline))))))
    (.close seg)))

;; --- several processes -------------------------------------------------------------------------

(defn dropping-child
  "Run in a child JVM: opens the file, makes n versions of root :m one from
  another (the first process to copy a node becomes its heir, the others copy
  in full), checks and drops them in a random order, says done."
  [path n seed]
  (let [seg (slab/open-segment path)
        rnd (Random. seed)
        m0 (slab/root seg :m)
        vs (vec (reductions (fn [m i] (assoc m (.nextInt rnd 3000) (value-for i))) m0 (range n)))
        twins (mapv #(into {} %) vs)]
    (doseq [i (shuffle (range (count vs)))]
      (when-not (= (twins i) (vs i)) (throw (ex-info "wrong version" {:i i})))
      (slab/release! (vs i)))
    (slab/close-segment! seg)
    (println "done")
    (flush)))

(deftest several-processes-dropping-versions-of-one-structure
  (let [file (temp-path "lineage-xproc")
        seg (slab/open-segment file {:capacity (* 256 1024 1024)})]
    (try
      (slab/set-root! seg :m (into {} (map (fn [i] [i (value-for i)])) (range 2000)))
      (let [before (slab/verify seg)
            kids (mapv #(u/start-child (format "(require 'slab.ref.lineage-test) (slab.ref.lineage-test/dropping-child %s 300 %d)"
                                               (pr-str (str file)) %))
                       [1 2 3])]
        (try
          ;; this process makes and drops versions of the same root meanwhile
          (let [m0 (slab/root seg :m)
                vs (vec (reductions (fn [m i] (dissoc m (mod (* i 7) 2000))) m0 (range 200)))]
            (drop-all! vs :random))
          (doseq [k kids]
            (is (= "done" (u/read-line! k 240000)) (u/child-failure k "no done"))
            (is (= 0 (u/await-exit k 30000))))
          (finally (run! u/destroy! kids)))
        (is (= (into {} (map (fn [i] [i (value-for i)])) (range 2000)) (slab/root seg :m)))
        (let [v (slab/verify seg)]
          (is (:counts-add-up v) (pr-str v))
          (is (zero? (long (:unreachable v))) (pr-str v))
          (is (= (:reachable before) (:reachable v)) "every version the processes made was given back")))
      (finally (slab/close-segment! seg)))))
