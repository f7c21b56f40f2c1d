(ns slab.bench.scale.cases
  "The collections of the scale benchmark and the operations measured on them.

  Every operation is one function of the collection, run on clojure.core's
  and on slab's through the same Clojure interfaces (ILookup, IKVReduce,
  IReduceInit, ISeq, IPersistentMap, IPersistentVector), so the two sides
  differ only in the collection. Keys and values are made as a build goes
  (not kept in arrays), because at 100M entries arrays of 100M boxed keys
  would not fit in the heap next to anything else; both sides pay the same
  for making them."
  (:require [slab.core :as slab])
  (:import (clojure.lang IEditableCollection IKVReduce ILookup IPersistentMap IPersistentVector
                         IReduceInit ISeq ITransientCollection ITransientMap Indexed Seqable)
           (java.util Map$Entry Random)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(def ^:const probe-count
  "Random lookups per timed repetition (one fixed sequence, the same for both sides)."
  65536)

(def ^:const update-count "Persistent updates per timed repetition." 1024)

(defn small-map
  "The value of entry i in the long-keyed map: a PersistentArrayMap on the
  heap, a nested slab map in the segment. Reads ask it for :n."
  [^long i]
  {:id i :n (* 3 i)})

(defn- read-n ^long [v] (.longValue ^Number (.valAt ^ILookup v :n)))
(defn- read-long ^long [v] (.longValue ^Number v))

(def colls
  "What each collection holds. :key and :val make entry i; :read turns a
  value into the long the reads sum; :miss makes a key that is absent."
  {:long-map {:kind :map :title "map, long keys → small maps {:id i, :n 3i}"
              :key (fn [^long i] (Long/valueOf i)) :val small-map :read read-n
              :miss (fn [^long n ^long i] (Long/valueOf (+ n i)))}
   :string-map {:kind :map :title "map, string keys \"k<i>\" → long 3i"
                :key (fn [^long i] (str "k" i)) :val (fn [^long i] (Long/valueOf (* 3 i))) :read read-long
                :miss (fn [^long _ ^long i] (str "x" i))}
   :keyword-map {:kind :map :title "map, keyword keys :k<i> → long 3i"
                 :key (fn [^long i] (keyword (str "k" i))) :val (fn [^long i] (Long/valueOf (* 3 i))) :read read-long
                 ;; keywords the segment never stored
                 :miss (fn [^long _ ^long i] (keyword (str "x" i)))}
   :long-scalar {:kind :map :title "map, long keys → long 3i"
                 :key (fn [^long i] (Long/valueOf i)) :val (fn [^long i] (Long/valueOf (* 3 i))) :read read-long
                 :miss (fn [^long n ^long i] (Long/valueOf (+ n i)))}
   :vector {:kind :vector :title "vector of longs"
            :val (fn [^long i] (Long/valueOf i)) :read read-long}})

(defn expected-sum
  "What reduce / reduce-kv over the n-entry collection sums to."
  ^long [coll ^long n]
  (let [s (quot (* n (dec n)) 2)] (if (= coll :vector) s (* 3 s))))

;; --- building ------------------------------------------------------------------------

(defn build
  "A collection of the given kind with n entries, built with a transient
  from empty (PersistentHashMap/PersistentVector, or slab's)."
  [coll empty-coll ^long n]
  (let [{:keys [kind key val]} (colls coll)
        key key, val val]
    (if (= kind :map)
      (loop [^ITransientMap t (.asTransient ^IEditableCollection empty-coll), i 0]
        (if (< i n) (recur (.assoc t (key i) (val i)) (inc i)) (.persistent t)))
      (loop [^ITransientCollection t (.asTransient ^IEditableCollection empty-coll), i 0]
        (if (< i n) (recur (.conj t (val i)) (inc i)) (.persistent t))))))

(defn empty-of
  "The empty collection of the given kind, on side :core or :slab."
  [coll side]
  (let [kind (:kind (colls coll))]
    (case side
      :core (if (= kind :map) {} [])
      :slab (if (= kind :map) (slab/hash-map) (slab/vector)))))

;; --- probes ----------------------------------------------------------------------------

(defn- random-indexes ^longs [^long n ^long count ^long seed]
  (let [r (Random. seed), a (long-array count)]
    (dotimes [i count] (aset a i (long (.nextLong r n))))
    a))

(defn probes
  "Inputs for the lookups and updates on an n-entry collection: hit keys
  (fresh objects, equal to stored keys but not identical), absent keys,
  update keys and values. For a vector, indexes."
  [coll ^long n]
  (let [{:keys [kind key val miss]} (colls coll)
        ^longs idx (random-indexes n probe-count 42)
        objs (fn [^long c f] (let [a (object-array c)] (dotimes [i c] (aset a i (f i))) a))]
    (if (= kind :map)
      {:hit (objs probe-count #(key (aget idx %)))
       :miss (objs probe-count #(miss n %))
       :upd-keys (objs update-count #(key (aget idx %)))
       :upd-vals (objs update-count #(val (+ n (long %))))}
      {:idx (int-array (map int idx))
       :upd-vals (objs update-count #(val (+ n (long %))))})))

;; --- operations ------------------------------------------------------------------------

(defmacro ^:private batch
  "Evaluates body (a long expression) reps times; returns the sum."
  [reps & body]
  `(let [reps# (long ~reps)]
     (loop [r# 0, acc# 0]
       (if (< r# reps#) (recur (inc r#) (+ acc# (long (do ~@body)))) acc#))))

(defn- release-all ^long [release ^objects built]
  (areduce built i acc 0 (let [x (aget built i), c (count x)] (when release (release x)) (+ acc c))))

(defn- build-case
  "Builds reps fresh collections per call; done gives slab's back with
  release! (not timed: clojure.core's garbage is not timed either)."
  [coll side ^long n release]
  (let [e (empty-of coll side)]
    {:id :build :ops n
     ;; from 1M entries on, collect before every build so neither side
     ;; collects the other's leftovers on its clock
     :before (when (>= n 1000000) #(System/gc))
     :f (fn [^long reps] (let [a (object-array reps)] (dotimes [i reps] (aset a i (build coll e n))) a))
     :done #(release-all release %)}))

(defn- map-cases [coll m {:keys [^objects hit ^objects miss ^objects upd-keys ^objects upd-vals]} release get-in-fn reduce-in-fn]
  (let [read (:read (colls coll))
        ^ILookup lm m
        n (count m)
        rf (fn [^longs acc _ v] (aset acc 0 (+ (aget acc 0) (long (read v)))) acc)
        nrf (fn [^longs acc _ n] (aset acc 0 (+ (aget acc 0) (.longValue ^Number n))) acc)
        erf (fn [^longs acc ^Map$Entry e] (aset acc 0 (+ (aget acc 0) (long (read (.getValue e))))) acc)]
    [{:id :get-hit :ops probe-count
      :f (fn [reps] (batch reps (areduce hit i acc 0 (+ acc (long (read (.valAt lm (aget hit i))))))))}
     ;; the long-keyed map's values are maps: get-in as a user writes it
     ;; (clojure.core/get-in on clojure.core's, slab/get-in on slab's)
     (when (= coll :long-map)
       {:id :get-in :ops probe-count
        :f (fn [reps] (batch reps (areduce hit i acc 0 (+ acc (.longValue ^Number (get-in-fn m [(aget hit i) :n]))))))})
     ;; reduce-kv reading each value's :n: clojure.core's as :reduce does it, slab's with
     ;; slab/reduce-kv-in, which looks into each nested map where it lies
     (when (= coll :long-map)
       {:id :reduce-in :ops n
        :f (fn [reps] (batch reps (aget ^longs (reduce-in-fn m rf nrf (long-array 1)) 0)))})
     {:id :get-miss :ops probe-count
      :f (fn [reps] (batch reps (areduce miss i acc 0 (if (nil? (.valAt lm (aget miss i))) (inc acc) acc))))}
     {:id :reduce :ops n
      :f (fn [reps] (batch reps (aget ^longs (.kvreduce ^IKVReduce m rf (long-array 1)) 0)))}
     {:id :seq :ops n
      :f (fn [reps] (batch reps (loop [s (.seq ^Seqable m), acc 0]
                                  (if s
                                    (recur (.next ^ISeq s) (+ acc (long (read (.getValue ^Map$Entry (.first ^ISeq s))))))
                                    acc))))}
     ;; clojure.core/reduce over the map's entries (slab's map is IReduceInit, clojure.core's is reduced through its iterator)
     {:id :reduce-entries :ops n
      :f (fn [reps] (batch reps (aget ^longs (reduce erf (long-array 1) m) 0)))}
     ;; a transducer pipeline as users write one: values out of the entries, filtered, summed
     {:id :transduce :ops n
      :f (fn [reps] (batch reps (transduce (comp (map #(.getValue ^Map$Entry %)) (map read) (filter even?)) + 0 m)))}
     ;; one release! per version, timed: giving a version back is part of what
     ;; an update costs slab (as in update-bench)
     {:id :update :ops update-count
      :f (fn [reps] (batch reps (areduce upd-keys i acc 0
                                         (let [m' (.assoc ^IPersistentMap m (aget upd-keys i) (aget upd-vals i))
                                               c (count m')]
                                           (when release (release m'))
                                           (+ acc c)))))}]))

(defn- vector-cases [v {:keys [^ints idx ^objects upd-vals]} release]
  (let [n (count v)
        rf (fn [^longs acc x] (aset acc 0 (+ (aget acc 0) (.longValue ^Number x))) acc)]
    [{:id :get-hit :ops probe-count
      :f (fn [reps] (batch reps (areduce idx i acc 0 (+ acc (.longValue ^Number (.nth ^Indexed v (aget idx i)))))))}
     {:id :reduce :ops n
      :f (fn [reps] (batch reps (aget ^longs (.reduce ^IReduceInit v rf (long-array 1)) 0)))}
     {:id :seq :ops n
      :f (fn [reps] (batch reps (loop [s (.seq ^Seqable v), acc 0]
                                  (if s (recur (.next ^ISeq s) (+ acc (.longValue ^Number (.first ^ISeq s)))) acc))))}
     {:id :transduce :ops n
      :f (fn [reps] (batch reps (transduce (comp (map #(.longValue ^Number %)) (filter even?)) + 0 v)))}
     {:id :update :ops update-count
      :f (fn [reps] (batch reps (areduce upd-vals i acc 0
                                         (let [v' (.assocN ^IPersistentVector v (aget idx i) (aget upd-vals i))
                                               c (count v')]
                                           (when release (release v'))
                                           (+ acc c)))))}]))

(defn read-cases
  "The timed cases over the live collection x (reads and persistent updates)."
  [coll x probes side]
  (let [release (when (= side :slab) slab/release!)]
    (if (= :map (:kind (colls coll)))
      (remove nil? (map-cases coll x probes release (if (= side :slab) slab/get-in get-in)
                              (if (= side :slab)
                                (fn [m _ nrf init] (slab/reduce-kv-in m [:n] nrf init))
                                (fn [m rf _ init] (.kvreduce ^IKVReduce m rf init)))))
      (vector-cases x probes release))))

(defn build-cases [coll side ^long n]
  (build-case coll side n (when (= side :slab) slab/release!)))

(def op-labels
  {:build "build (transient)" :get-hit "get, hit" :get-in "get-in [k :n]" :get-miss "get, miss"
   :reduce "reduce-kv / reduce" :reduce-in "reduce-kv, values' :n" :seq "seq walk" :reduce-entries "reduce (entries)"
   :transduce "transduce (map, filter)" :update "persistent update"})

(defn op-label
  "The label of an operation on a collection (what get and reduce mean there)."
  [coll op]
  (case [(:kind (colls coll)) op]
    [:map :get-hit] (if (= coll :long-map) "get, hit (then :n)" "get, hit")
    [:map :reduce] "reduce-kv"
    [:map :update] "assoc (persistent)"
    [:vector :get-hit] "nth, random"
    [:vector :reduce] "reduce"
    [:vector :update] "assoc (persistent)"
    (op-labels op)))
