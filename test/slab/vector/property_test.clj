;; Proves: random operation sequences on a shared vector and on a clojure.core vector stay indistinguishable.
(ns slab.vector.property-test
  (:require [clojure.test :refer [deftest is]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core]                     ; registers the map and set types (nested values)
            [slab.vector :as sv]
            [slab.support.generators :as g])
  (:import (slab.ref Heap SharedColl)
           (slab.vector VecVerify)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

;; W = 4: a few hundred elements make tries five levels deep.
(defonce ^:private seg-bits-2 (Segment/anonymous (* 256 1024 1024) 5 2))
(defonce ^:private seg-bits-5 (Segment/anonymous (* 256 1024 1024) 5 5))

;; --- operations -----------------------------------------------------------------------

(def ^:private gen-transient-op
  (gen/one-of [(gen/tuple (gen/return :conj!) g/vector-value)
               (gen/tuple (gen/return :conj!) g/vector-value)
               (gen/tuple (gen/return :assoc!) gen/nat g/vector-value)
               (gen/tuple (gen/return :pop!))
               (gen/tuple (gen/return :nth) gen/nat)]))

(def ^:private gen-op
  (gen/frequency
   [[8 (gen/tuple (gen/return :conj) g/vector-value)]
    [5 (gen/tuple (gen/return :assoc) gen/nat g/vector-value)]
    [5 (gen/tuple (gen/return :pop))]
    [1 (gen/tuple (gen/return :pop-many) (gen/choose 1 40))]
    [1 (gen/tuple (gen/return :conj-many) (gen/choose 1 40))]
    [2 (gen/tuple (gen/return :nth) gen/large-integer)]
    [2 (gen/tuple (gen/return :get) (gen/one-of [gen/large-integer gen/keyword]))]
    [2 (gen/tuple (gen/return :subvec) gen/nat gen/nat g/vector-value)]
    [1 (gen/tuple (gen/return :reduce-reduced) gen/nat)]
    [3 (gen/tuple (gen/return :transient) (gen/vector gen-transient-op 0 30))]
    [1 (gen/tuple (gen/return :with-meta) (gen/one-of [(gen/return nil) (gen/map gen/keyword gen/small-integer)]))]
    [1 (gen/tuple (gen/return :compare-previous))]]))

(defmacro ^:private outcome
  "The value of body, or the class and message of what it threw."
  [& body]
  `(try [:ok (do ~@body)]
        (catch Throwable e# [:threw (class e#) (.getMessage e#)])))

(defmacro ^:private compare-outcome
  "The value of body, or the class of what it threw. (Not the message: once
  C2 compiles a hot ClassCastException site, HotSpot throws a preallocated
  exception without one.)"
  [& body]
  `(try [:ok (do ~@body)]
        (catch Throwable e# [:threw (class e#)])))

;; --- comparison -----------------------------------------------------------------------

(defn- comparable-elements?
  "True when compare can order these elements: no lists, maps or sets at
  any depth (they are not Comparable)."
  [v]
  (every? #(if (vector? %) (comparable-elements? %) (not (or (seq? %) (map? %) (set? %)))) v))

(defn- shape-problems
  "What VecVerify/verify finds wrong with a shared vector's nodes, as a vector."
  [s]
  (try (VecVerify/verify (.slabHandle ^SharedColl s)) []
       (catch Exception e [[:shape (.getMessage e)]])))

(defn- mismatches
  "What differs between shared vector s and clojure.core vector m; empty when
  nothing. probe (generated, see g/index-probe) picks the index that get is
  compared at."
  [s m deep? probe]
  (let [n (count m)
        k (if (pos? n) (mod (long probe) n) 0)]
    (cond-> []
      (sv/shared-vector? s) (into (shape-problems s))
      (not= (count s) n) (conj :count)
      (not (= s m)) (conj := )
      (not (= m s)) (conj :=-reversed)
      (not= (hash s) (hash m)) (conj :hash)
      (not (.equals ^Object s m)) (conj :equals)
      (not (.equals ^Object m s)) (conj :equals-reversed)
      (not= (.hashCode ^Object s) (.hashCode ^Object m)) (conj :hashCode)
      (not= (meta s) (meta m)) (conj :meta)
      (not= (peek s) (peek m)) (conj :peek)
      (not= (get s k) (get m k)) (conj :get)
      (and (comparable-elements? m) (not= [0 0] [(compare s m) (compare m s)])) (conj :compare)
      (and deep? (not= (into [] s) m)) (conj :reduce)
      (and deep? (not= (seq s) (seq m))) (conj :seq)
      (and deep? (not= (rseq s) (rseq m))) (conj :rseq)
      (and deep? (not= (mapv #(nth s %) (range n)) m)) (conj :nth)
      (and deep? (not= (reduce-kv conj [] s) (reduce-kv conj [] m))) (conj :kv-reduce)
      ;; maps print in hash order in slab, insertion order in small clojure.core maps
      (and deep? (< n 300) (comparable-elements? m) (not= (pr-str s) (pr-str m))) (conj :print))))

(defn- check! [s m deep? probe what]
  (let [bad (mismatches s m deep? probe)]
    (when (seq bad)
      (throw (ex-info (str "shared vector differs after " (pr-str what) ": " bad)
                      {:bad bad :op what :count (count m) :probe probe})))))

;; --- running operations in lockstep ----------------------------------------------------

(defn- index [i n] (- (mod i (+ n 3)) 1))   ; -1 .. n+1: in range, at the end, and just outside

(defn- run-transient [s m ops]
  (let [ts (transient s), tm (transient m)]
    (doseq [[op a b :as o] ops]
      (let [n (count tm)
            [rs rm] (case op
                      :conj! [(outcome (conj! ts a) nil) (outcome (conj! tm a) nil)]
                      :assoc! (let [i (index a n)]
                                [(outcome (assoc! ts i b) nil) (outcome (assoc! tm i b) nil)])
                      :pop! [(outcome (pop! ts) nil) (outcome (pop! tm) nil)]
                      :nth (let [i (index a n)] [(outcome (nth ts i)) (outcome (nth tm i))]))]
        (when (or (not= rs rm) (not= (count ts) (count tm)))
          (throw (ex-info "transient differs" {:op o :shared rs :core rm})))))
    (let [ps (persistent! ts), pm (persistent! tm)]
      (when-not (= [:threw IllegalAccessError "Transient used after persistent! call"]
                   (outcome (conj! ts 1)))
        (throw (ex-info "transient usable after persistent!" {})))
      [ps pm])))

(defn- step [c [s m :as state] prev [op a b c' :as o] probe]
  (let [n (count m)]
    (case op
      :conj [(conj s a) (conj m a)]
      :conj-many [(into s (range a)) (into m (range a))]
      :assoc (let [i (index a n)
                   rs (outcome (assoc s i b)), rm (outcome (assoc m i b))]
               (if (= :ok (first rm))
                 [(second rs) (second rm)]
                 (do (when (not= rs rm) (throw (ex-info "assoc outcome differs" {:shared rs :core rm})))
                     state)))
      :pop (let [rs (outcome (pop s)), rm (outcome (pop m))]
             (if (= :ok (first rm))
               [(second rs) (second rm)]
               (do (when (not= rs rm) (throw (ex-info "pop outcome differs" {:shared rs :core rm})))
                   state)))
      :pop-many (let [k (min a n)]
                  [(nth (iterate pop s) k) (nth (iterate pop m) k)])
      :nth (let [i (index a n)]
             (when (not= (outcome (nth s i)) (outcome (nth m i)))
               (throw (ex-info "nth differs" {:i i})))
             (when (not= (outcome (s i)) (outcome (m i)))
               (throw (ex-info "invoke differs" {:i i})))
             (when (not= (nth s i :none) (nth m i :none))
               (throw (ex-info "nth not-found differs" {:i i})))
             state)
      :get (do (when (not= (get s a :none) (get m a :none))
                 (throw (ex-info "get differs" {:k a})))
               state)
      :subvec (let [x (min (mod a (inc n)) (mod b (inc n)))
                    y (max (mod a (inc n)) (mod b (inc n)))
                    ss (subvec s x y), sm (subvec m x y)]
                (check! ss sm true probe o)
                (check! (conj ss c') (conj sm c') false probe o)
                state)
      :reduce-reduced (let [k (mod a (inc n))
                            f (fn [acc x] (if (= (count acc) k) (reduced acc) (conj acc x)))]
                        (when (not= (reduce f [] s) (reduce f [] m))
                          (throw (ex-info "reduce with reduced differs" {:k k})))
                        (when (not= (transduce (take k) conj s) (transduce (take k) conj m))
                          (throw (ex-info "transduce differs" {:k k})))
                        state)
      :transient (let [before-s s
                       [ps pm] (run-transient s m a)]
                   ;; the source version must not have changed under the transient
                   (check! before-s m true probe [:source-after-transient])
                   [ps pm])
      :with-meta [(with-meta s a) (with-meta m a)]
      :compare-previous (let [[ps pm] prev]
                          (when (and (comparable-elements? m) (comparable-elements? pm)
                                     (not= (compare-outcome (compare s pm)) (compare-outcome (compare m pm))))
                            (throw (ex-info "compare with previous differs" {})))
                          (when (not= (= s ps) (= m pm))
                            (throw (ex-info "= with previous version differs" {})))
                          state))))

(defn- run-ops
  "Runs ops from the initial contents in lockstep; true, or throws with what
  differed. Every op comes as [op probe], and probes holds one probe for the
  initial check and one for each of the (at most 4) versions checked again
  at the end: the indices compared are part of the generated input."
  [^Segment seg init ops probes deep?]
  (let [c (Heap/of seg)
        [init-probe & history-probes] probes
        start [(sv/vec-in c init) init]]
    (check! (first start) init true init-probe :initial)
    (loop [state start, prev start, history [start], [[o probe] & more] ops]
      (if (nil? o)
        (do (doseq [[[s m] p] (map vector history history-probes)] (check! s m true p :history)) true)
        (let [[s m :as next-state] (step c state prev o probe)]
          (check! s m deep? probe o)
          (recur next-state state (take 4 (cons next-state history)) more))))))

;; --- properties ------------------------------------------------------------------------

(defn- ops-prop [seg gen-init max-ops deep?]
  (prop/for-all [init gen-init
                 ops (gen/vector (gen/tuple gen-op g/index-probe) 0 max-ops)
                 probes (gen/vector g/index-probe 5)]
    (run-ops seg init ops probes deep?)))

(defn- near
  "A vector of longs whose size is near one of sizes, then some generated values."
  [sizes spread]
  (gen/let [size (gen/elements sizes)
            delta (gen/choose (- spread) spread)
            extra (gen/vector g/vector-value 0 4)]
    (into (vec (range (max 0 (+ size delta)))) extra)))

(defn- passes? [result]
  (or (true? (:pass? result))
      (do (println "FAILED:" (pr-str (select-keys result [:seed])) (pr-str (:smallest (:shrunk result)))
                   (some-> (:result (:shrunk result)) ex-message))
          false)))

(deftest deep-tries-with-branching-4
  ;; sizes to ~300 cross 4, 16, 64 and 256: tries up to five levels
  (is (passes? (tc/quick-check 780 (ops-prop seg-bits-2 (gen/vector g/vector-value 0 300) 40 true)
                               :max-size 100))))

(deftest sizes-near-32-and-1024
  (is (passes? (tc/quick-check 180 (ops-prop seg-bits-5 (near [32 1024 1056] 40) 40 true)))))

(deftest sizes-near-32768
  (is (passes? (tc/quick-check 40 (ops-prop seg-bits-5 (near [32768 (+ 32768 1024 32)] 40) 50 false)))))

(defn- kind
  "The kind of collection x is, or its class for a scalar."
  [x]
  (cond (vector? x) :vector (map? x) :map (set? x) :set (list? x) :list (seq? x) :seq :else (type x)))

(deftest round-trips-any-sequential
  ;; vec-in of vectors, lists, seqs, ranges and nil gives an = vector with the same hash
  (let [c (Heap/of seg-bits-2)]
    (is (passes?
         (tc/quick-check
          1000
          (prop/for-all [xs (gen/vector g/vector-value 0 80)
                         as (gen/elements [:vector :list :seq :lazy :array])]
            (let [coll (case as
                         :vector xs
                         :list (apply list xs)
                         :seq (seq xs)
                         :lazy (map identity xs)
                         :array (object-array xs))
                  s (sv/vec-in c coll)]
              (and (= s xs) (= xs s) (= (hash s) (hash xs)) (= (count s) (count xs))
                   (= (sv/vec-in c s) s)
                   (= (mapv kind s) (mapv kind xs))))))))))
