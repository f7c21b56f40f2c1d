;; Proves: for every element type, random operation sequences on a slab vector-of and on clojure.core's vector-of stay indistinguishable (values, errors, =, hash, printing, primitive reduce), and a vector-of is = to, and hashes as, plain vectors of the same numbers.
(ns slab.vector.vector-of-property-test
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core :as slab]
            [slab.vector :as sv])
  (:import (slab.ref Heap SharedColl)
           (slab.vector VecVerify)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

;; W = 4: a few hundred elements make tries five levels deep.
(defonce ^:private seg-bits-2 (Segment/anonymous (* 256 1024 1024) 5 2))
(defonce ^:private seg-bits-5 (Segment/anonymous (* 256 1024 1024) 5 5))

(def ^:private types [:long :double :int :float :short :char :byte :boolean])

;; --- elements -----------------------------------------------------------------------------

(def ^:private no-nan-double (gen/double* {:NaN? false}))

(defn- valid
  "Values that cast to an element of type t (some of another numeric class,
  which clojure.core's cast converts). No NaN: clojure.core's vector-of
  compares two NaNs unequal, slab's applies its NaN rule (tested apart)."
  [t]
  (case t
    :long (gen/one-of [gen/large-integer gen/small-integer (gen/fmap int gen/small-integer) (gen/elements [1.9 -2.5 3/2])])
    :double (gen/one-of [no-nan-double gen/small-integer (gen/elements [0.0 -0.0 1.5 ##Inf ##-Inf 1/3 (float 0.1)])])
    :int (gen/one-of [(gen/large-integer* {:min Integer/MIN_VALUE :max Integer/MAX_VALUE}) gen/small-integer
                      (gen/elements [1.9 -1.9])])
    :float (gen/one-of [(gen/double* {:NaN? false :min -3.0E38 :max 3.0E38}) gen/small-integer
                        (gen/elements [-0.0 (float 1.5) Float/MAX_VALUE])])
    :short (gen/one-of [(gen/large-integer* {:min Short/MIN_VALUE :max Short/MAX_VALUE}) gen/small-integer])
    :char (gen/one-of [gen/char (gen/large-integer* {:min 0 :max 0xFFFF})])
    :byte (gen/one-of [(gen/large-integer* {:min -128 :max 127}) (gen/elements [\a])])
    :boolean (gen/one-of [gen/boolean (gen/elements [nil 0 1 "s" :k])])))

(defn- invalid
  "Values that clojure.core's cast refuses for type t: out of range, nil, another kind."
  [t]
  (case t
    :long (gen/elements [nil "s" 1.0E30 12345678901234567890N :k])
    :double (gen/elements [nil "s" :k])
    :int (gen/elements [nil "s" 3000000000 -3000000000 1.0E20])
    :float (gen/elements [nil "s" 1.0E300 -1.0E300 ##Inf])
    :short (gen/elements [nil "s" 40000 -40000])
    :char (gen/elements [nil "s" 70000 -1])
    :byte (gen/elements [nil "s" 300 -129])
    :boolean (gen/return ::never)))   ; every value is truthy or falsy

(defn- element [t]
  (if (= :boolean t)
    (valid t)
    (gen/frequency [[12 (valid t)] [1 (invalid t)]])))

;; --- operations -----------------------------------------------------------------------------

(defn- gen-op [t]
  (let [x (element t)]
    (gen/frequency
     [[8 (gen/tuple (gen/return :conj) x)]
      [5 (gen/tuple (gen/return :assoc) gen/nat x)]
      [4 (gen/tuple (gen/return :pop))]
      [1 (gen/tuple (gen/return :pop-many) (gen/choose 1 40))]
      [1 (gen/tuple (gen/return :conj-many) (gen/vector (valid t) 1 40))]
      [2 (gen/tuple (gen/return :nth) gen/large-integer)]
      ;; keys within int range: clojure.core's vector-of throws ArithmeticException on
      ;; (get v 2147483648), where slab's, like PersistentVector, returns not-found
      [2 (gen/tuple (gen/return :get) (gen/one-of [(gen/large-integer* {:min Integer/MIN_VALUE :max Integer/MAX_VALUE})
                                                   gen/keyword]))]
      [2 (gen/tuple (gen/return :subvec) gen/nat gen/nat)]
      [2 (gen/tuple (gen/return :reduce) gen/nat)]
      [3 (gen/tuple (gen/return :transient) (gen/vector (gen/one-of [(gen/tuple (gen/return :conj!) x)
                                                                      (gen/tuple (gen/return :assoc!) gen/nat x)
                                                                      (gen/tuple (gen/return :pop!))
                                                                      (gen/tuple (gen/return :nth) gen/nat)])
                                                        0 30))]
      [1 (gen/tuple (gen/return :with-meta) (gen/one-of [(gen/return nil) (gen/map gen/keyword gen/small-integer)]))]
      [1 (gen/tuple (gen/return :empty))]])))

(defmacro ^:private outcome
  "The value of body, or the class of what it threw and its message. A
  ClassCastException's or NullPointerException's message is left out: once
  C2 compiles a hot site, HotSpot may throw one without a message."
  [& body]
  `(try [:ok (do ~@body)]
        (catch Throwable e#
          (if (or (instance? ClassCastException e#) (instance? NullPointerException e#))
            [:threw (class e#)]
            [:threw (class e#) (.getMessage e#)]))))

;; --- comparison -----------------------------------------------------------------------------

(defn- shape-problems [s]
  (try (VecVerify/verify (.slabHandle ^SharedColl s)) []
       (catch Exception e [[:shape (.getMessage e)]])))

(defn- floating? [t] (#{:double :float} t))
(defn- integral? [t] (#{:long :int :short :byte} t))

(defn- prim-reductions
  "Reductions with functions compiled with primitive hints (slab calls them
  without boxing), and the boxed ones, over a vector-of of type t."
  [t v]
  (cond-> [(outcome (reduce conj [] v)) (outcome (reduce + 0 (map #(if (number? %) % 0) v)))]
    (floating? t) (conj (outcome (reduce (fn ^double [^double a ^double b] (+ a b)) 0.0 v))
                        (outcome (reduce (fn ^double [^double a ^double b] (+ (* 0.5 a) b)) v))
                        (outcome (reduce (fn [acc ^double x] (conj acc x)) [] v))
                        (outcome (reduce (fn [acc ^double x] (if (> (count acc) 3) (reduced acc) (conj acc x))) [] v)))
    (integral? t) (conj (outcome (reduce (fn ^long [^long a ^long b] (unchecked-add (* 3 a) b)) 7 v))
                        (outcome (reduce (fn ^long [^long a ^long b] (+ a b)) v))
                        (outcome (reduce (fn [acc ^long x] (conj acc x)) [] v))
                        (outcome (reduce (fn [acc ^long x] (if (> (count acc) 3) (reduced acc) (conj acc x))) [] v)))))

(defn- mismatches
  "What differs between slab vector-of s and clojure.core vector-of m of type t."
  [t s m deep?]
  (let [n (count m)]
    (cond-> []
      (sv/shared-vector? s) (into (shape-problems s))
      (and (sv/shared-vector? s) (not= t (slab/element-type s))) (conj :element-type)
      (not= (count s) n) (conj :count)
      (not (= s m)) (conj :=)
      (not (= m s)) (conj :=-reversed)
      (not= (hash s) (hash m)) (conj :hash)
      (not (.equals ^Object s m)) (conj :equals)
      (not (.equals ^Object m s)) (conj :equals-reversed)
      (not= (.hashCode ^Object s) (.hashCode ^Object m)) (conj :hashCode)
      (not= (meta s) (meta m)) (conj :meta)
      (not= (peek s) (peek m)) (conj :peek)
      (not= [0 0] [(compare s m) (compare m s)]) (conj :compare)
      (not= (mapv class s) (mapv class m)) (conj :element-classes)
      (and deep? (not= (seq s) (seq m))) (conj :seq)
      (and deep? (not= (rseq s) (rseq m))) (conj :rseq)
      (and deep? (not= (mapv #(nth s %) (range n)) (vec m))) (conj :nth)
      ;; printed: Inf + -Inf is NaN, which = never finds equal to another NaN box
      (and deep? (not= (pr-str (prim-reductions t s)) (pr-str (prim-reductions t m)))) (conj :reduce)
      (and deep? (not= (into [] s) (into [] m))) (conj :into)
      (and deep? (not (= s (into [] m)))) (conj :=-plain-vector)
      (and deep? (not= (hash s) (hash (into [] m)))) (conj :hash-plain-vector)
      (and deep? (< n 300) (not= (pr-str s) (pr-str m))) (conj :print))))

(defn- check! [t s m deep? what]
  (let [bad (mismatches t s m deep?)]
    (when (seq bad)
      (throw (ex-info (str "slab vector-of " t " differs after " (pr-str what) ": " bad)
                      {:bad bad :op what :count (count m)})))))

;; --- running operations in lockstep ------------------------------------------------------------

(defn- index [i n] (- (mod i (+ n 3)) 1))   ; -1 .. n+1: in range, at the end, and just outside

(defn- step-outcome
  "[s' m'] when both ops succeeded; state when both failed alike; else throws."
  [state what rs rm]
  (cond
    (and (= :ok (first rs)) (= :ok (first rm))) [(second rs) (second rm)]
    (= rs rm) state
    :else (throw (ex-info "outcomes differ" {:op what :slab rs :core rm}))))

(defn- run-transient
  "ops on a slab transient, against the same ops on clojure.core's
  persistent vector-of (which has no transient)."
  [s m ops]
  (let [ts (transient s)]
    (loop [m m, [[op a b :as o] & more] ops]
      (if (nil? o)
        (let [ps (persistent! ts)]
          (when-not (= [:threw IllegalAccessError "Transient used after persistent! call"] (outcome (conj! ts 1)))
            (throw (ex-info "transient usable after persistent!" {})))
          [ps (with-meta m nil)])   ; as clojure.core's, a transient drops the metadata
        (let [n (count m)
              [rs rm] (case op
                        :conj! [(outcome (conj! ts a) nil) (outcome (conj m a))]
                        :assoc! (let [i (index a n)] [(outcome (assoc! ts i b) nil) (outcome (assoc m i b))])
                        :pop! [(outcome (pop! ts) nil) (outcome (pop m))]
                        :nth (let [i (index a n)] [(outcome (nth ts i)) (outcome (nth m i))]))
              m' (if (= :ok (first rm)) (if (= :nth op) m (second rm)) m)]
          (when (not= (first rs) (first rm)) (throw (ex-info "transient outcome differs" {:op o :slab rs :core rm})))
          (when (and (= :threw (first rs)) (not= rs rm)) (throw (ex-info "transient error differs" {:op o :slab rs :core rm})))
          (when (and (= :nth op) (not= rs rm)) (throw (ex-info "transient nth differs" {:op o :slab rs :core rm})))
          (when (not= (count ts) (count m')) (throw (ex-info "transient count differs" {:op o})))
          (recur m' more))))))

(defn- step [t [s m :as state] [op a b :as o]]
  (let [n (count m)]
    (case op
      :conj (step-outcome state o (outcome (conj s a)) (outcome (conj m a)))
      :conj-many [(into s a) (into m a)]
      :assoc (let [i (index a n)] (step-outcome state o (outcome (assoc s i b)) (outcome (assoc m i b))))
      :pop (step-outcome state o (outcome (pop s)) (outcome (pop m)))
      :pop-many (let [k (min a n)] [(nth (iterate pop s) k) (nth (iterate pop m) k)])
      :nth (let [i (index a n)]
             (when (not= (outcome (nth s i)) (outcome (nth m i))) (throw (ex-info "nth differs" {:i i})))
             (when (not= (outcome (s i)) (outcome (m i))) (throw (ex-info "invoke differs" {:i i})))
             (when (not= (nth s i :none) (nth m i :none)) (throw (ex-info "nth not-found differs" {:i i})))
             state)
      :get (do (when (not= (get s a :none) (get m a :none)) (throw (ex-info "get differs" {:k a})))
               state)
      :subvec (let [x (min (mod a (inc n)) (mod b (inc n)))
                    y (max (mod a (inc n)) (mod b (inc n)))]
                (check! t (subvec s x y) (subvec m x y) true o)
                state)
      :reduce (let [k (mod a (inc n))
                    f (fn [acc x] (if (= (count acc) k) (reduced acc) (conj acc x)))]
                (when (not= (reduce f [] s) (reduce f [] m)) (throw (ex-info "reduce with reduced differs" {:k k})))
                (when (not= (transduce (take k) conj s) (transduce (take k) conj m))
                  (throw (ex-info "transduce differs" {:k k})))
                state)
      :transient (let [before s
                       result (run-transient s m a)]
                   (check! t before m true [:source-after-transient])   ; the source version is unchanged
                   result)
      :with-meta [(with-meta s a) (with-meta m a)]
      :empty [(empty s) (empty m)])))

(defn- run-ops [^Segment seg t init ops]
  (let [h (Heap/of seg)
        start [(sv/vector-of-in h t init) (apply vector-of t init)]]
    (check! t (first start) (second start) true :initial)
    (loop [state start, history [start], [o & more] ops]
      (if (nil? o)
        (do (doseq [[s m] history] (check! t s m true :history)) true)
        (let [[s m :as next-state] (step t state o)]
          (check! t s m (< (count m) 2000) o)
          (recur next-state (take 4 (cons next-state history)) more))))))

(defn- ops-prop [seg max-init max-ops]
  (prop/for-all [[t init ops] (gen/let [t (gen/elements types)
                                        init (gen/vector (valid t) 0 max-init)
                                        ops (gen/vector (gen-op t) 0 max-ops)]
                                [t init ops])]
    (run-ops seg t init ops)))

(defn- passes? [result]
  (or (true? (:pass? result))
      (do (println "FAILED:" (pr-str (select-keys result [:seed])) (pr-str (:smallest (:shrunk result)))
                   (some-> (:result (:shrunk result)) ex-message))
          false)))

(deftest every-type-on-deep-tries
  ;; branching 4: sizes to ~300 make tries five levels deep
  (is (passes? (tc/quick-check 400 (ops-prop seg-bits-2 300 40) :max-size 100))))

(deftest every-type-near-leaf-and-level-boundaries
  (is (passes? (tc/quick-check 120 (prop/for-all [t (gen/elements types)
                                                   size (gen/elements [31 32 33 1023 1024 1025 1057])
                                                   ops (gen/vector (gen/tuple (gen/elements [:pop :conj]) (gen/return 1)) 0 40)]
                                     (run-ops seg-bits-5 t (repeat size (if (= t :char) \x (if (= t :boolean) true 1)))
                                              (map (fn [[op x]] (if (= op :conj) [:conj (if (= t :char) \y x)] [op])) ops)))))))

;; --- = and hash across kinds -------------------------------------------------------------------

(deftest equal-to-plain-vectors-of-the-same-numbers
  (let [h (Heap/of seg-bits-5)]
    (doseq [t types
            :let [xs (case t :char [\a \b] :boolean [true false] [1 2])
                  s (sv/vector-of-in h t xs)
                  c (apply vector-of t xs)
                  plain (into [] c)]]
      (testing t
        (is (= s plain) "slab vector-of = the vector of its boxed elements")
        (is (= plain s))
        (is (= s (sv/vec-in h plain)) "= a slab vector of the same numbers")
        (is (= (sv/vec-in h plain) s))
        (is (= (hash s) (hash plain) (hash c) (hash (sv/vec-in h plain))))
        (is (= (.hashCode ^Object s) (.hashCode ^Object plain)))))
    (testing "as clojure.core: ints, shorts and bytes are = to longs"
      (is (= (sv/vector-of-in h :int [1 2]) [1 2] (sv/vector-of-in h :long [1 2]) (sv/vector-of-in h :byte [1 2])))
      (is (= (hash (sv/vector-of-in h :int [1 2])) (hash [1 2])))
      (is (= (vector-of :double 1 2) (sv/vector-of-in h :double [1 2])))
      (is (not= (sv/vector-of-in h :double [1 2]) [1 2]) "1.0 is not = to 1")
      (is (not (.equals ^Object (sv/vector-of-in h :int [1 2]) [1 2])) "Java equals: an Integer is not a Long"))
    (testing "the NaN rule: a stored NaN is = to any NaN, as in every slab collection"
      (is (= (sv/vector-of-in h :double [##NaN]) (sv/vector-of-in h :double [##NaN])))
      (is (= (sv/vector-of-in h :float [##NaN]) [##NaN])))
    (testing "stored in a map, a root of a plain vector-of gives back an = slab vector-of"
      (let [m (slab/share {:d (vector-of :double 1.5 2.5) :b (vector-of :byte 1 2)})]
        (is (= :double (slab/element-type (:d m))))
        (is (= (vector-of :double 1.5 2.5) (:d m)))
        (is (= {:d [1.5 2.5] :b [1 2]} m))
        (is (= (hash {:d (vector-of :double 1.5 2.5) :b (vector-of :byte 1 2)}) (hash m)))
        (is (= (:d m) (get (slab/hash-map :x (:d m)) :x)) "a slab vector-of nested again is stored by reference")))
    (testing "slab/vec of a vector-of is a plain slab vector of its boxed elements"
      (let [v (slab/vec (slab/vector-of :int 1 2))]
        (is (nil? (slab/element-type v)))
        (is (= [1 2] v))
        (is (= [Long Long] (mapv class v)) "a plain vector stores ints as longs (README, Supported values)")))))

(deftest errors-are-clojure-cores
  (doseq [[t x] [[:byte 300] [:short 40000] [:int 3000000000] [:float 1e300] [:long 1e30] [:char 70000]]]
    (is (= (outcome (vector-of t x)) (outcome (slab/vector-of t x))) (str t " " x))
    (is (= (outcome (conj (vector-of t) x)) (outcome (conj (slab/vector-of t) x))))
    (is (= (outcome (assoc (vector-of t 0) 0 x)) (outcome (assoc (slab/vector-of t 0) 0 x)))))
  (is (= (outcome (vector-of :string 1)) (outcome (slab/vector-of :string 1))))
  (is (= (outcome (vector-of :long nil)) (outcome (slab/vector-of :long nil))))
  (testing "a refused element leaves the segment as it was"
    (let [seg (slab/default-segment)
          before (:bytes-in-use (slab/stats seg))]
      (dotimes [_ 100] (try (apply slab/vector-of :byte (concat (range 100) [300])) (catch IllegalArgumentException _)))
      (is (= before (:bytes-in-use (slab/stats seg)))))))

(deftest a-vector-of-copied-to-another-segment-stays-a-vector-of
  ;; share into another segment, nesting in a value built there, and
  ;; snapshot! all copy a slab vector-of of a foreign segment: it must keep
  ;; its element type (casts, unboxed leaves), not become a plain vector.
  (let [a (Heap/of seg-bits-5)
        b (Segment/anonymous (* 16 1024 1024) 5 5)
        v (sv/vector-of-in a :int [1 2 3])]
    (doseq [[what x] [["share" (slab/share v {:segment b})]
                      ["nested" (:k (slab/share {:k v} {:segment b}))]]]
      (testing what
        (is (= :int (slab/element-type x)))
        (is (= Integer (class (nth x 0))))
        (is (thrown? ArithmeticException (conj x 3000000000)) "cast as clojure.core casts an :int")
        (is (= (vector-of :int 1 2 3) x))))
    (let [dir (java.nio.file.Files/createTempDirectory "slab-vecof" (make-array java.nio.file.attribute.FileAttribute 0))
          src (slab/open-segment (str dir "/src.slab") {:capacity "16m"})
          snap (str dir "/snap.slab")]
      (try
        (slab/set-root! src :r {:v (sv/vector-of-in (Heap/of src) :double [1.5 2.5])})
        (slab/snapshot! src snap)
        (let [ro (slab/open-segment snap {:read-only true})]
          (try
            (let [x (:v (slab/root ro :r))]
              (is (= :double (slab/element-type x)) "snapshot")
              (is (= 4.0 (slab/reduce-leaves (fn [^double acc ^java.lang.foreign.MemorySegment leaf]
                                               (+ acc (.get leaf java.lang.foreign.ValueLayout/JAVA_DOUBLE 0)
                                                  (.get leaf java.lang.foreign.ValueLayout/JAVA_DOUBLE 8)))
                                             0.0 x))))
            (finally (slab/close-segment! ro))))
        (finally
          (slab/close-segment! src)
          (run! #(.delete ^java.io.File %) (reverse (file-seq (.toFile dir)))))))
    (slab/close-segment! b)))
