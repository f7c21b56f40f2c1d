(ns slab.map.concurrency-test
  "Proves that futures and agents can share one map version: each derives its
  own versions while reading the shared one, the shared version never changes
  under them, and nothing leaks afterwards."
  (:require [clojure.test :refer [deftest is]]
            [slab.core :as slab]
            [slab.support.util :refer [settle!]]
            [slab.support.audit :as audit])
  (:import (slab.mem Segment)
           (slab.ref Heap)))

(set! *warn-on-reflection* true)

(defn- share-and-work
  "Shares one version among four futures and two agents, each deriving its
  own versions while reading the shared one; asserts what they saw, then
  releases the shared version (which other threads used, so its counts go
  back once it is collected, after this returns)."
  [seg]
  (let [twin (into {} (map (fn [i] [i {:n i :name (str "entry number " i)}])) (range 20000))
        shared (slab/with-segment seg (slab/share twin))
        expected-hash (hash twin)
        worker (fn [owner]
                 (loop [m shared, i 0, ok true]
                   (if (< i 5000)
                     (let [k (mod (* (inc owner) i 31) 25000)
                           m (if (even? i) (assoc m k {:owner owner :i i}) (dissoc m k))
                           probe (mod (* i 17) 20000)
                           ok (and ok
                                   (= (get shared probe) (get twin probe))
                                   (= 20000 (count shared)))]
                       (recur m (inc i) ok))
                     [ok (count m)])))
        futures (mapv #(future (worker %)) (range 4))
        agents (mapv (fn [i] (agent i)) (range 2))]
    (doseq [[i a] (map-indexed vector agents)]
      (send a (fn [_] (worker (+ 10 i))))
      (send-off a (fn [prev] [(first prev) (count (reduce #(dissoc %1 %2) shared (range 0 20000 7)))])))
    (let [results (mapv deref futures)]
      (is (every? true? (map first results)) "readers always saw the shared version's values"))
    (apply await agents)
    (is (every? nil? (map agent-error agents)))
    (is (every? #(= (- 20000 (count (range 0 20000 7))) (second @%)) agents))
    (is (= twin shared) "the shared version is unchanged")
    (is (= expected-hash (hash shared)))
    (slab/release! shared)
    (is (thrown? IllegalStateException (count shared)) "released in every thread at once")
    nil))

(deftest futures-and-agents-share-one-version
  (let [seg (Segment/anonymous (* 1024 1024 1024) 5 5)]
    (slab/with-segment seg
      (slab/hash-map :owner 1 :i 2 :n 3 :name 4))   ; interns the keywords (never freed)
    (let [baseline (settle! seg -1)]
      (share-and-work seg)
      (let [end (settle! seg baseline)]
        (is (== baseline end)
            (str "once every version is dropped, the segment is back to its baseline"
                 (when-not (== baseline end) (str "\n" (audit/describe seg)))))
        (is (zero? (.cleanupFailures (.ownership (Heap/of seg))))
            (str "no handle release threw in the Cleaner: " (.lastCleanupFailure (.ownership (Heap/of seg)))))))
    (.close seg)))
