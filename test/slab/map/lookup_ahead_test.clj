(ns slab.map.lookup-ahead-test
  "Proves that lookups in maps big enough to read each node's next cache
  lines ahead (32,768 entries and more) give clojure.core's answers, read
  nothing past a read-only snapshot's file, and report a damaged child
  offset as damage."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.corruption :as c]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (slab.map MapNodeDescriptor)
           (slab.mem HeaderDescriptor)
           (slab.ref Handle SharedColl)))

(set! *warn-on-reflection* true)

(def ^:private n 40000)   ; above the lookups' read-ahead threshold
(def ^:private expected (into {} (map (fn [i] [i {:n (* 3 i)}])) (range n)))
(def ^:private probes (concat (range -100 (+ n 100)) ["0" :k 1.5 nil]))

(defn- handle ^Handle [x] (.slabHandle ^SharedColl x))

(defn- same-answers? [m]
  (every? (fn [k] (and (= (get expected k) (get m k))
                       (= (contains? expected k) (contains? m k))
                       (= (get-in expected [k :n]) (slab/get-in m [k :n]))))
          probes))

(deftest lookups-in-a-big-map-find-what-clojure-core-finds
  (is (same-answers? (slab/share expected)))
  (is (same-answers? (reduce-kv assoc (slab/hash-map) expected)) "built by persistent assoc, not laid out"))

(deftest equality-with-a-big-map
  (let [m (slab/share expected)
        ks (set (keys expected))
        s (slab/share ks)]
    (is (= m expected))
    (is (.equals ^Object m expected))
    (is (not= m (assoc expected 7 :other)))
    (is (not= m (dissoc (assoc expected -1 {:n 0}) 7)))
    (is (= s ks))
    (is (not= s (conj (disj ks 7) -1)))))

(deftest a-transient-of-a-big-map-reads-ahead-and-builds-what-clojure-core-builds
  ;; assoc! into a transient of 32,768 entries or more reads each node's next lines ahead too
  (let [extra (into {} (map (fn [i] [i i])) (range (- n 5000) (+ n 5000)))   ; half new keys, half replaced
        gone (range 0 n 7)
        t (as-> (transient (slab/share expected)) t
            (reduce-kv assoc! t extra)
            (reduce dissoc! t gone))
        found (mapv #(get t %) probes)
        slab-m (persistent! t)
        core-m (as-> (transient expected) t
                 (reduce-kv assoc! t extra)
                 (reduce dissoc! t gone)
                 (persistent! t))]
    (is (= (mapv #(get core-m %) probes) found) "get on the transient")
    (is (= (count core-m) (count slab-m)))
    (is (= core-m slab-m))
    (is (same-answers? (slab/share expected)))))

(deftest lookups-stay-inside-a-read-only-snapshot
  ;; The snapshot's file ends at its frontier: the nodes allocated last lie within four lines
  ;; of its end, and a frontier word raised in the file must not let a lookup read past it.
  (u/with-temp-dir [dir "slab-lookup-snap"]
    (let [src (slab/open-segment (str dir "/s.slab") {:capacity "64m"})
          snap (str dir "/snap.slab")]
      (slab/set-root! src :m expected)
      (slab/snapshot! src snap {:capacity "128m"})
      (slab/close-segment! src)
      (let [seg (slab/open-segment snap {:read-only true})
            size (.length (java.io.File. snap))]
        (try
          (with-open [f (RandomAccessFile. snap "rw")]
            (c/write-long! f HeaderDescriptor/FRONTIER_OFFSET (* 100 1024 1024)))
          ;; a checked read past the file makes the segment read the raised frontier
          (is (= :damaged-segment (:error (u/error-of #(.header seg (+ size 4096) "a block past the file")))))
          (is (not (.readableAfter seg (- size 64) (+ (* 4 64) 8))) "the lines past the file")
          (is (.readableAfter seg (- size 512) (+ (* 4 64) 8)))
          (is (same-answers? (slab/root seg :m)))
          (finally (slab/close-segment! seg)))))))

(deftest a-damaged-child-offset-is-damage
  (u/with-temp-dir [dir "slab-lookup-damage"]
    (let [seg (slab/open-segment (str dir "/d.slab") {:capacity "64m"})]
      (try
        (slab/set-root! seg :m expected)
        (let [m (slab/root seg :m)
              root (.node (handle m))
              entries (Integer/bitCount (.getInt seg (+ root MapNodeDescriptor/DATAMAP_OFFSET)))
              slot (+ root MapNodeDescriptor/ENTRIES_OFFSET (* entries MapNodeDescriptor/MAP_ENTRY_LENGTH))
              good (.getLong seg slot)
              frontier (:frontier (u/stats (.allocator seg)))
              all-keys #(doall (map (fn [k] (get m k)) (range n)))]
          (doseq [bad [0 -16 (+ good 8) (- frontier 16) frontier (.capacity seg) Long/MIN_VALUE]]
            (.putLong seg slot (long bad))
            (is (= :damaged-segment (:error (u/error-of all-keys))) (str "get, child at " bad))
            (is (= :damaged-segment (:error (u/error-of #(doall (map (fn [k] (slab/get-in m [k :n])) (range n))))))
                (str "get-in, child at " bad)))
          (.putLong seg slot good)
          (is (= (map expected (range n)) (all-keys))))
        (finally (slab/close-segment! seg))))))
