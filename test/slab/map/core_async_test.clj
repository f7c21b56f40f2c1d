(ns slab.map.core-async-test
  "Proves slab maps are a drop-in wherever maps flow through core.async, futures, agents and pmap: the same pipelines give = results with clojure.core and slab maps, and leak nothing."
  (:require [clojure.core.async :as async]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :refer [settle!]])
  (:import (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defn- order [^long i]
  {:id i
   :qty (mod i 13)
   :sku (str "SKU-" i (when (odd? i) "-with-a-name-long-enough-for-a-blob"))
   :tags (if (zero? (mod i 3)) #{:new} #{:new :sale})})

(defn- drain
  "Every value from channel c until it closes, as a vector."
  [c]
  (async/<!! (async/into [] c)))

(defn- derive-version
  "Worker w's version of the big map: a few hundred update-ins, an assoc and
  a dissoc, all starting from the same shared version."
  [big ^long w ^long n]
  (-> (reduce (fn [m k] (update-in m [k :qty] + w)) big (range w n 97))
      (assoc (- -1 w) {:worker w})
      (dissoc (* 2 w))))

(def ^:private scenarios
  "scenario -> (fn [{:keys [orders big empty-map n]}] result). The maps come
  in ready-made, so no dynamic binding has to reach another thread; assoc
  and update put new nodes in the segment of the map they start from."
  {:chan-with-transducer
   (fn [{:keys [orders]}]
     (let [c (async/chan 16 (comp (filter #(even? (:id %)))
                                  (map #(update % :qty * 2))
                                  (map #(assoc % :seen true))))]
       (async/onto-chan! c orders)
       (drain c)))

   :pipeline
   (fn [{:keys [orders]}]
     (let [out (async/chan 16)]
       (async/pipeline 4 out (map #(update % :tags conj :piped)) (async/to-chan! orders))
       (drain out)))

   :pipeline-blocking
   (fn [{:keys [orders]}]
     (let [out (async/chan 16)]
       (async/pipeline-blocking 3 out (map #(assoc % :n-tags (count (:tags %)) :id-str (str (:id %))))
                                (async/to-chan! orders))
       (drain out)))

   :pipeline-async
   (fn [{:keys [orders]}]
     (let [out (async/chan 16)]
       (async/pipeline-async 4 out
                             (fn [o result]
                               (async/go (async/>! result (update o :qty inc))
                                         (async/close! result)))
                             (async/to-chan! orders))
       (drain out)))

   :mult-and-tap
   (fn [{:keys [orders]}]
     (let [src (async/chan)
           m (async/mult src)
           t1 (async/tap m (async/chan 8 (map #(dissoc % :tags))))
           t2 (async/tap m (async/chan 8 (map #(assoc % :tap 2))))
           r1 (async/into [] t1)
           r2 (async/into [] t2)]
       (async/onto-chan! src orders)
       [(async/<!! r1) (async/<!! r2)]))

   :go-blocks-assoc-and-update
   (fn [{:keys [orders]}]
     (let [results (async/chan (count orders))]
       (doseq [o orders]
         (async/go (async/>! results (-> o
                                         (assoc :state :packed)
                                         (update :qty + 10)
                                         (update :tags conj :go)))))
       (vec (sort-by :id (drain (async/take (count orders) results))))))

   :go-loop-accumulates
   (fn [{:keys [orders empty-map]}]
     (let [in (async/to-chan! orders)]
       (async/<!! (async/go-loop [acc empty-map]
                    (if-let [o (async/<! in)]
                      (recur (-> acc
                                 (assoc (:id o) (:qty o))
                                 (update :total (fnil + 0) (:qty o))))
                      acc)))))

   :pipeline-of-workers-deriving-from-one-big-map
   (fn [{:keys [big n]}]
     (let [out (async/chan 4)]
       (async/pipeline 4 out (map #(derive-version big % n)) (async/to-chan! (range 1 9)))
       (drain out)))

   :futures
   (fn [{:keys [big n]}]
     (mapv deref (mapv #(future (derive-version big % n)) (range 11 15))))

   :agents
   (fn [{:keys [big empty-map]}]
     (let [a (agent big)
           b (agent empty-map)]
       (dotimes [i 100]
         (send a update-in [i :qty] + i)
         (send-off b assoc i (get big (* 3 i))))
       (send a dissoc 5)
       (send-off b update 7 assoc :touched true)
       (await a b)
       (is (nil? (agent-error a)))
       (is (nil? (agent-error b)))
       (let [result [@a @b]]
         ;; send's binding conveyance leaves *agent* bound in the pool thread that
         ;; ran the last action, so that thread keeps the agent, and its state,
         ;; reachable after we drop it. Clearing the state lets the versions go.
         (send a (constantly nil))
         (send-off b (constantly nil))
         (await a b)
         result)))

   :pmap
   (fn [{:keys [big n]}]
     (vec (concat (pmap #(update (get big %) :qty * 3) (range 0 n 101))
                  (pmap #(derive-version big % n) (range 21 25)))))

   :the-shared-big-map-afterwards
   (fn [{:keys [big]}] big)})

(defn- inputs
  "The maps every scenario starts from, made by mk before anything is spawned."
  [mk ^long n]
  {:orders (mapv #(mk (order %)) (range 300))
   :big (mk (into {} (map (fn [i] [i (order i)])) (range n)))
   :empty-map (mk {})
   :n n})

(defn- run-all [mk n]
  (let [in (inputs mk n)]
    (update-vals scenarios #(% in))))

(defn- maps-in
  "The maps a scenario's result is made of."
  [k result]
  (case k
    (:go-loop-accumulates :the-shared-big-map-afterwards) [result]
    :mult-and-tap (apply concat result)
    result))

(deftest the-same-pipelines-give-equal-results-and-leak-nothing
  (let [seg (Segment/anonymous (* 256 1024 1024) 5 5)
        in-seg #(slab/share % {:segment seg})
        n 20000]
    (try
      (run-all in-seg 500)            ; interns every keyword used (interned keywords are never freed)
      (let [baseline (settle! seg -1)
            expected (run-all identity n)]
        ((fn check [] ; a fn, so nothing of the slab run stays on this frame afterwards
           (let [actual (run-all in-seg n)]
             (doseq [k (keys scenarios)]
               (testing k
                 (is (= (expected k) (actual k)))
                 (is (= (hash (expected k)) (hash (actual k))))
                 (is (every? #(and (slab/shared? %) (identical? seg (slab/segment-of %))) (maps-in k (actual k)))
                     "values that flowed through stayed slab maps in the test segment")))
             nil)))
        (is (== baseline (settle! seg baseline))
            "after the run, every version made in go blocks, pipelines, futures, agents and pmap is freed"))
      (finally (.close seg)))))

(deftest with-segment-reaches-core-async-and-clojure-threads
  (let [seg (Segment/anonymous (* 16 1024 1024) 5 5)
        made-in (fn [m] (identical? seg (slab/segment-of m)))]
    (try
      (slab/with-segment seg
        (is (made-in (async/<!! (async/go (slab/hash-map :a 1)))) "go")
        (is (made-in (async/<!! (async/thread (slab/hash-map :a 1)))) "thread")
        (is (made-in @(future (slab/hash-map :a 1))) "future")
        (is (made-in (first (pmap (fn [_] (slab/hash-map :a 1)) [1]))) "pmap")
        (let [ag (agent nil)]
          (send ag (fn [_] (slab/hash-map :a 1)))
          (await ag)
          (is (made-in @ag) "agent"))
        (let [out (async/chan 1)]
          (async/pipeline 1 out (map (fn [_] (slab/hash-map :a 1))) (async/to-chan! [1]))
          (is (made-in (async/<!! out)) "pipeline"))
        (testing "a plain java.lang.Thread does not see the binding; bound-fn carries it"
          (let [p (promise), q (promise)
                ^Runnable plain (fn [] (deliver p (slab/hash-map :a 1)))
                ^Runnable bound (bound-fn [] (deliver q (slab/hash-map :a 1)))]
            (.start (Thread. plain))
            (.start (Thread. bound))
            (is (not (made-in @p)))
            (is (made-in @q)))))
      (finally (.close seg)))))
