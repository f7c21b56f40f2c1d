(ns slab.map.property-test
  "Proves slab maps and sets behave like clojure.core's: random operation
  sequences run in lockstep on both, compared after every step."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.set]
            [clojure.walk]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [clojure.test.check.clojure-test :refer [defspec]]
            [slab.core :as slab]
            [slab.support.generators :as g])
  (:import (slab.mem Segment)
           (clojure.lang PersistentHashMap)))

(set! *warn-on-reflection* true)

;; Two-bit branching builds deep tries and collision chains with a handful of keys.
(defonce deep-segment (Segment/anonymous (* 512 1024 1024) 2 2))
(defonce one-bit-segment (Segment/anonymous (* 256 1024 1024) 1 2))

(def trials (Long/getLong "slab.trials" 1000))

(defn- no-init-calls
  "[what (reduce f coll) returns when f is never called, and how often f is
  called] for a reduce without init: order-independent, so it compares a
  slab collection with its twin whatever their iteration orders."
  [coll]
  (let [calls (volatile! 0)
        out (reduce (fn ([] :empty) ([a _] (vswap! calls inc) a)) coll)]
    [(if (zero? (long @calls)) (if (= :empty out) :empty :one) :many) @calls]))

(defn- same-reduction? [s c]
  (let [f (fn [acc _] (if (>= acc 3) (reduced acc) (inc acc)))]
    (and (= (reduce f 0 s) (reduce f 0 c))
         (= (no-init-calls s) (no-init-calls c)))))

(defn- as-hashed
  "x with every map and set rebuilt as a PersistentHashMap / hash-set (array
  maps print in insertion order; note (hash-map) with no arguments is one)."
  [x]
  (cond
    (map? x) (with-meta (into PersistentHashMap/EMPTY (map (fn [[k v]] [(as-hashed k) (as-hashed v)])) x) (meta x))
    (set? x) (with-meta (into (hash-set) (map as-hashed) x) (meta x))
    :else x))

(defn- java-twin
  "c with int, short and byte keys and values widened to long, as slab
  stores them (they are = but their Java hashCodes differ)."
  [x]
  (cond
    (or (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
    (map? x) (with-meta (into PersistentHashMap/EMPTY (map (fn [[k v]] [(java-twin k) (java-twin v)])) x) (meta x))
    (set? x) (with-meta (into (hash-set) (map java-twin) x) (meta x))
    :else x))

(defn- prints-same?
  "With the default branching a slab map walks its keys in PersistentHashMap's
  order, so it prints like the hash-map twin (not like an array map)."
  [s c]
  (or (not (slab/shared? s))
      (not= 5 (.mapBits (slab/segment-of s)))
      (= (pr-str s) (pr-str (as-hashed c)))))

(defn- check-same
  "Everything a user could observe about a map or set, compared both ways."
  [s c]
  (let [^java.util.Collection coll (if (map? s) (.entrySet ^java.util.Map s) s)
        ;; A plain map made from a slab one (select-keys) holds slab's longs.
        ^Object java-s (if (slab/shared? s) s (java-twin s))
        ^Object java-c (java-twin c)]
    (and (= s c) (= c s)
       (= (hash s) (hash c))
       (= (count s) (count c) (.size coll))
       (.equals ^Object s c) (.equals ^Object c s)
       (= (.hashCode java-s) (.hashCode java-c))
       (= (into (empty s) s) c)
       (= (set (seq s)) (set (seq c)))
       (prints-same? s c)
       (same-reduction? s c)
       (= (meta s) (meta c)))))

(def map-op
  (gen/frequency
   [[10 (gen/tuple (gen/return :assoc) g/key-gen g/value-gen)]
    [4 (gen/tuple (gen/return :dissoc) g/key-gen)]
    [2 (gen/tuple (gen/return :dissoc-present) gen/nat)]
    [3 (gen/tuple (gen/return :get) g/key-gen)]
    [2 (gen/tuple (gen/return :get-present) gen/nat)]
    [1 (gen/tuple (gen/return :conj) g/key-gen g/value-gen)]
    [1 (gen/tuple (gen/return :merge) (gen/map g/key-gen g/value-gen {:max-elements 5}))]
    [1 (gen/tuple (gen/return :with-meta) (gen/map gen/keyword gen/small-integer {:max-elements 2}))]
    [2 (gen/tuple (gen/return :transient)
                  (gen/vector (gen/one-of [(gen/tuple (gen/return :assoc!) g/key-gen g/value-gen)
                                           (gen/tuple (gen/return :dissoc!) g/key-gen)
                                           (gen/tuple (gen/return :conj!) g/key-gen g/value-gen)])
                              0 12))]
    [1 (gen/tuple (gen/return :select-keys) (gen/vector g/key-gen 0 4))]
    [1 (gen/tuple (gen/return :empty))]]))

(defn- nth-key [m n] (when (seq m) (nth (keys m) (mod n (count m)))))

(defn- apply-map-op
  "Applies op to s (slab) and c (clojure.core); returns [s' c' ok?]."
  [s c [op a b]]
  (case op
    :assoc [(assoc s a b) (assoc c a b) true]
    :dissoc [(dissoc s a) (dissoc c a) true]
    :dissoc-present (let [k (nth-key c a)] [(dissoc s k) (dissoc c k) true])
    :get [s c (and (= (get s a ::none) (get c a ::none))
                   (= (contains? s a) (contains? c a))
                   (= (find s a) (find c a))
                   (= (s a ::none) (c a ::none)))]
    :get-present (let [k (nth-key c a)]
                   [s c (and (= (get s k) (get c k))
                             (= (meta (get s k)) (meta (get c k))))])
    :conj [(conj s [a b]) (conj c [a b]) true]
    :merge [(merge s a) (merge c a) true]
    :with-meta [(with-meta s a) (with-meta c a) true]
    :select-keys [(select-keys s a) (select-keys c a) true]
    :empty [(empty s) (empty c) true]
    :transient
    (let [run (fn [m]
                (persistent!
                 (reduce (fn [t [o k v]]
                           (case o
                             :assoc! (assoc! t k v)
                             :dissoc! (dissoc! t k)
                             :conj! (conj! t [k v])))
                         (transient m) a)))]
      [(run s) (run c) true])))

(defn- map-steps-hold? [seg ops]
  (slab/with-segment seg
    (loop [s (slab/hash-map), c PersistentHashMap/EMPTY, ops ops]
      (if-let [op (first ops)]
        (let [[s' c' ok] (apply-map-op s c op)]
          (if (and ok (check-same s' c') (check-same s c))   ; s must not change when s' is made
            (recur s' c' (rest ops))
            false))
        true))))

(defspec map-ops-match-clojure-deep-trie trials
  (prop/for-all [ops (gen/vector map-op 1 40)]
    (map-steps-hold? deep-segment ops)))

(defspec map-ops-match-clojure-one-bit trials
  (prop/for-all [ops (gen/vector map-op 1 30)]
    (map-steps-hold? one-bit-segment ops)))

(defspec map-ops-match-clojure-default-segment (quot trials 2)
  (prop/for-all [ops (gen/vector map-op 1 40)]
    (map-steps-hold? nil ops)))

(def set-op
  (gen/frequency
   [[10 (gen/tuple (gen/return :conj) g/key-gen)]
    [5 (gen/tuple (gen/return :disj) g/key-gen)]
    [2 (gen/tuple (gen/return :disj-present) gen/nat)]
    [3 (gen/tuple (gen/return :contains) g/key-gen)]
    [1 (gen/tuple (gen/return :union) (gen/set g/key-gen {:max-elements 5}))]
    [1 (gen/tuple (gen/return :with-meta) (gen/map gen/keyword gen/small-integer {:max-elements 2}))]
    [2 (gen/tuple (gen/return :transient)
                  (gen/vector (gen/tuple (gen/elements [:conj! :disj!]) g/key-gen) 0 12))]]))

(defn- apply-set-op [s c [op a]]
  (case op
    :conj [(conj s a) (conj c a) true]
    :disj [(disj s a) (disj c a) true]
    :disj-present (let [k (when (seq c) (nth (seq c) (mod a (count c))))] [(disj s k) (disj c k) true])
    :contains [s c (and (= (contains? s a) (contains? c a)) (= (get s a ::none) (get c a ::none))
                        (= (s a) (c a)))]
    :union [(clojure.set/union s a) (clojure.set/union c a) true]
    :with-meta [(with-meta s a) (with-meta c a) true]
    :transient (let [run (fn [x] (persistent! (reduce (fn [t [o k]] (if (= o :conj!) (conj! t k) (disj! t k)))
                                                      (transient x) a)))]
                 [(run s) (run c) true])))

(defn- set-steps-hold? [seg ops]
  (slab/with-segment seg
    (loop [s (slab/hash-set), c (hash-set), ops ops]
      (if-let [op (first ops)]
        (let [[s' c' ok] (apply-set-op s c op)]
          (if (and ok (check-same s' c') (check-same s c))
            (recur s' c' (rest ops))
            false))
        true))))

(defspec set-ops-match-clojure-deep-trie trials
  (prop/for-all [ops (gen/vector set-op 1 40)]
    (set-steps-hold? deep-segment ops)))

(defspec set-ops-match-clojure-default-segment (quot trials 2)
  (prop/for-all [ops (gen/vector set-op 1 40)]
    (set-steps-hold? nil ops)))

(defspec share-round-trips trials
  (prop/for-all [v g/value-gen]
    (let [s (slab/share v)]
      (and (= s v) (= v s) (= (hash s) (hash v)) (prints-same? s v)
           (= (meta s) (meta v))))))

(deftest equal-keys-of-different-types
  (testing "1, (int 1), (short 1) and 1N are one key; 1.0 is another"
    (let [s (-> (slab/hash-map) (assoc 1 :a) (assoc (int 1) :b) (assoc 1N :c) (assoc (short 1) :d) (assoc 1.0 :e))
          c (-> (hash-map) (assoc 1 :a) (assoc (int 1) :b) (assoc 1N :c) (assoc (short 1) :d) (assoc 1.0 :e))]
      (is (= 2 (count s)))
      (is (= c s))
      (is (= :d (get s 1) (get s 1N) (get s (int 1))))
      (is (= :e (get s 1.0)))))
  (testing "-0.0 and 0.0 follow clojure.core"
    (let [s (slab/hash-map 0.0 :pos -0.0 :neg)
          c (hash-map 0.0 :pos -0.0 :neg)]
      (is (= (count c) (count s)))
      (is (= c s))
      (is (= (hash c) (hash s))))))

(deftest assoc-stores-the-new-value-even-when-equal
  (testing "as clojure.core's assoc, an = value that looks different replaces the old one"
    (let [s (slab/hash-map :z 0.0 :d 1.0M :n {:v [1 2]} :s "same")]
      (is (= "-0.0" (str (:z (assoc s :z -0.0)))))
      (is (= "1.00" (str (:d (assoc s :d 1.00M)))))
      (is (seq? (get-in (assoc s :n {:v '(1 2)}) [:n :v])) "a nested list replaces an = nested vector")
      (is (= {:m 1} (meta (:n (assoc s :n (with-meta {:v [1 2]} {:m 1}))))))))
  (testing "an = value of the same types all the way down keeps the version"
    (let [s (slab/hash-map :n {:v [1 2] :d 1.0M} :s "a string longer than eight" :k :kw)]
      (is (identical? s (assoc s :s (str "a string " "longer than eight"))))
      (is (identical? s (assoc s :k :kw)))
      (is (identical? s (assoc s :n (:n s))))
      (is (identical? s (assoc s :n {:v [1 2] :d 1.0M})) "an equal nested map built on the heap")
      (is (not (identical? s (assoc s :n {:v [1 2] :d 1.00M}))))
      (is (not (identical? s (assoc s :n (with-meta {:v [1 2] :d 1.0M} {:m 1}))))))))

(deftest every-scalar-type-round-trips
  (let [vs [nil true false 1 -1 Long/MAX_VALUE Long/MIN_VALUE 1.5 -0.0 (float 2.5) \x \u2603
            1N 123456789012345678901234567890N (biginteger 5) (biginteger 123456789012345678901234567890)
            1.50M -3/4 "" "short" "a string longer than eight" :k :ns/k 'sym 'ns/sym
            #uuid "961a993c-8a5e-4726-9bde-dd60cdd39817" (java.util.Date. 1700000000000)
            (java.time.Instant/ofEpochSecond 1700000000 123456789)]
        m (apply slab/hash-map (mapcat (fn [i v] [i v]) (range) vs))]
    (doseq [[i v] (map vector (range) vs)]
      (is (= v (get m i)) (str "value " (pr-str v)))
      (is (= (class v) (class (get m i))) (str "class of " (pr-str v))))
    (doseq [v vs]
      (is (= :found (get (slab/hash-map v :found) v)) (str "key " (pr-str v))))))

(deftest long-strings-and-keywords-round-trip
  (doseq [n [300 (* 1024 1024)]]
    (let [st (apply str (repeat n \x))
          kw (keyword "ns" (apply str (repeat n \k)))
          sym (symbol (apply str (repeat n \s)))
          m (slab/hash-map st kw kw sym sym st "ünïcödé ☃ \uD800" 1)]
      ;; (true? ...) keeps a failure report from printing megabytes
      (is (true? (= kw (get m st))))
      (is (true? (= sym (get m kw))))
      (is (true? (= st (get m sym))))
      (is (= 1 (get m "ünïcödé ☃ \uD800")))
      (is (true? (= (hash-map st kw kw sym sym st "ünïcödé ☃ \uD800" 1) m))))))

(deftest works-with-clojure-core-functions
  (let [c {:a 1 :b {:c #{1 2}} :d #{:x}}
        s (slab/share c)]
    (is (= c s))
    (is (= (update-in s [:b :c] conj 3) (update-in c [:b :c] conj 3)))
    (is (= (update s :a inc) (update c :a inc)))
    (is (= (select-keys s [:a :d]) (select-keys c [:a :d])))
    (is (= (into {} (map (fn [[k v]] [k v])) s) c))
    (is (= (set (keys s)) (set (keys c))))
    (is (= (reduce-kv (fn [acc k _] (conj acc k)) #{} s) #{:a :b :d}))
    (is (= (:a s) 1))
    (let [{:keys [a d]} s] (is (= [a d] [1 #{:x}])))
    (is (= (clojure.walk/postwalk identity s) c))
    (is (= (clojure.set/union (:d s) #{:y}) #{:x :y}))
    (is (= (sequence (map key) (sort-by str s)) (sequence (map key) (sort-by str c))))))

(deftest reduce-without-init-as-clojure-core
  (let [f (fn ([] :none) ([a b] [:f a b]))]
    (doseq [[s c] [[(slab/hash-map) {}] [(slab/hash-set) #{}]
                   [(slab/hash-map :a 1) {:a 1}] [(slab/hash-set :a) #{:a}]]]
      (is (instance? clojure.lang.IReduce s))
      (is (= (reduce f c) (reduce f s)) (pr-str c))))
  (is (= 4950 (reduce + (apply slab/hash-set (range 100)))))
  (is (= (reduce + (map val (zipmap (range 50) (range 50))))
         (reduce (fn [a b] (+ (if (map-entry? a) (val a) a) (val b))) (slab/share (zipmap (range 50) (range 50)))))))

(deftest wrong-arities-throw-as-clojure-core
  (let [thrown-class (fn [f] (try (f) :none (catch Throwable e (class e))))]
    (doseq [[s c] [[(slab/hash-map :a 1) {:a 1}] [(slab/hash-set :a) #{:a}]
                   [(transient (slab/hash-map :a 1)) (transient (hash-map :a 1))]
                   [(transient (slab/hash-set :a)) (transient (hash-set :a))]]
            [f g] [[#(s) #(c)] [#(s :a :b) #(c :a :b)] [#(s :a :b :c) #(c :a :b :c)]
                   [#(apply s (range 25)) #(apply c (range 25))]]]
      (is (= (thrown-class g) (thrown-class f)) (pr-str (type s))))
    (is (= 1 ((slab/hash-map :a 1) :a)))
    (is (= :nf ((slab/hash-map :a 1) :b :nf)))
    (is (= :nf ((transient (slab/hash-set :a)) :b :nf)) "a transient set takes a not-found, as clojure.core's")
    (is (= 1 (apply (slab/hash-map :a 1) [:a])))))

(deftest nan-is-equal-to-nan-inside-collections
  (testing "a stored NaN is = to a NaN probe (the rule in the README)"
    (let [x ##NaN]
      (is (= 1 (get (slab/hash-map x 1) x)))
      (is (= 1 (get (slab/hash-map ##NaN 1) (Double/valueOf Double/NaN))) "any NaN, not only the same box")
      (is (contains? (slab/hash-set x) x))
      (is (= 0 (count (dissoc (slab/hash-map x 1) x))))
      (is (= 1 (count (assoc (slab/hash-map x 1) x 2))))
      (is (= (slab/vector x) [x]))
      (is (= (slab/hash-map :a x) {:a x}))
      (is (not= [x] (slab/vector x)) "clojure.core's side compares the decoded box by identity (documented)")
      (is (= (slab/hash-map :a x) (slab/hash-map :a x)) "two stored NaNs")
      (is (= (slab/vector 1.5 x) (slab/vector 1.5 x)))
      (is (= (hash [x]) (hash (slab/vector x))))
      (is (= -1 (.indexOf ^java.util.List (slab/vector 1 2) x)))
      (is (= 1 (.indexOf ^java.util.List (slab/vector 1 x) x))))))
