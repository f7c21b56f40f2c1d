;; Proves: maps, sets, vectors and lists stored in slab answer every clojure.core function family as their clojure.core twins do, over the whole value space.
(ns slab.dropin-test
  "Drop-in fidelity. Each trial draws a clojure.core value c from the whole
  supported value space (slab.support.generators/any-map, any-set,
  any-vector, any-list: NaN and -0.0, floats, symbols and collections with
  metadata, lists and lazy seqs of collections at any depth, sorted maps
  and sets, UTF-16 strings, instants ...), stores it in slab as s, and
  compares every clojure.core function family on s with the same call on
  the clojure.core value, with arguments (keys present and absent, indices
  in and out of range, paths) drawn from the generated input, so a failure
  shrinks and replays from its seed.

  The twin the calls are compared against is `stored`: c as the README says
  slab stores it — sorted maps and sets as hash maps and sets, lists and
  other seqs as lists, ints, shorts and bytes as longs, with metadata kept
  at every depth — built as PersistentHashMap / PersistentHashSet so that
  iteration and printing order are PersistentHashMap's, as slab's are.

  Results are compared by `shape`, a strict, NaN-aware canonical form: it
  tells -0.0 from 0.0, 1.50M from 1.5M, a float from a double, a list from a
  vector and a map from a set, includes metadata at every depth (symbols'
  too), and treats every NaN as the same value (slab's documented NaN rule).
  An exception is compared by its class. `=` and `hash` are also checked
  both ways against the original c; `(= c s)` is skipped when c holds a NaN,
  as the README documents (clojure.core compares the NaN read back by
  identity)."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.set :as cset]
            [clojure.string :as str]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core :as slab]
            [slab.support.generators :as g])
  (:import (clojure.lang PersistentHashMap PersistentHashSet)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(def trials
  "At least 2,000 trials per collection type; -Dslab.trials=N raises it."
  (max 2000 (long (Long/getLong "slab.trials" 2000))))

(def ^:private max-size 50)

;; --- canonical forms -------------------------------------------------------------

(defn- nan? [x]
  (or (and (instance? Double x) (Double/isNaN (double x)))
      (and (instance? Float x) (Float/isNaN (float x)))))

(def ^:dynamic ^java.util.IdentityHashMap *shape-cache*
  "Shapes of the collections seen in this trial, by identity (the twin's
  results share most of their nodes with it)."
  nil)

(declare shape*)

(defn shape
  "A strict canonical form of x for comparison with =. NaN-aware (every NaN
  is ::nan), sign- and scale-aware (-0.0, 1.50M), type-aware (long vs int,
  float vs double, BigInt vs BigInteger, list vs vector, map vs set), with
  metadata at every depth. A sorted map or set is a map or set, a lazy seq
  a seq: what they are stored as (the stored twin has them so)."
  [x]
  (let [cache *shape-cache*]
    (if (and cache (coll? x))
      (or (.get cache x)
          (let [r (shape* x)] (.put cache x r) r))
      (shape* x))))

(defn- shape* [x]
  (cond
    (nil? x) nil
    (instance? Double x) (if (nan? x) ::nan [::double (Double/doubleToLongBits x)])
    (instance? Float x) (if (nan? x) ::float-nan [::float (Float/floatToIntBits x)])
    (instance? Integer x) [::int (long x)]
    (instance? Short x) [::short (long x)]
    (instance? Byte x) [::byte (long x)]
    (instance? clojure.lang.BigInt x) [::bigint (str x)]
    (instance? java.math.BigInteger x) [::biginteger (str x)]
    (instance? java.math.BigDecimal x) [::bigdec (str x)]
    (ratio? x) [::ratio (str x)]
    (symbol? x) [::symbol (str x) (shape (meta x))]
    (map? x) [::map (shape (meta x)) (into #{} (map (fn [[k v]] [(shape k) (shape v)])) x)]
    (set? x) [::set (shape (meta x)) (into #{} (map shape) x)]
    (vector? x) [::vector (shape (meta x)) (mapv shape x)]
    (sequential? x) [::seq (shape (meta x)) (mapv shape x)]
    (instance? java.time.Instant x) [::instant (str x)]
    (instance? java.util.Date x) [::date (.getTime ^java.util.Date x)]
    (instance? java.util.Map$Entry x) [::java-entry (shape (key x)) (shape (val x))]
    (instance? java.util.Set x) [::java-set (into #{} (map shape) x)]
    (instance? java.util.Collection x) [::java-collection (mapv shape x)]
    (instance? java.util.Map x) [::java-map (into #{} (map (fn [[k v]] [(shape k) (shape v)])) x)]
    (.isArray (class x)) [::array (mapv shape x)]
    :else x))

(defn- has-nan? [x]
  (cond (nan? x) true
        (instance? java.util.Map x) (boolean (some (fn [[k v]] (or (has-nan? k) (has-nan? v))) x))
        ;; java.util collections too: subList, entrySet, values ...
        (or (coll? x) (instance? java.util.Collection x)) (boolean (some has-nan? x))
        :else false))

(defn stored
  "c as slab stores it (see the ns doc): deep, metadata kept, every map and
  set a PersistentHashMap / PersistentHashSet built in c's iteration order.
  Nested metadata maps are stored too (and so print in hash order); the
  top-level metadata of a shared value is kept as it is (top? true)."
  ([x] (stored x false))
  ([x top?]
   (let [m (meta x)
         m (if (or top? (nil? m)) m (stored m))
         nested #(stored % false)]
     (cond
       (or (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
       (map? x) (with-meta (reduce (fn [acc [k v]] (assoc acc (nested k) (nested v))) PersistentHashMap/EMPTY x) m)
       (set? x) (with-meta (reduce (fn [acc k] (conj acc (nested k))) PersistentHashSet/EMPTY x) m)
       (vector? x) (with-meta (mapv nested x) m)
       (sequential? x) (with-meta (apply list (map nested x)) m)
       (symbol? x) (with-meta x m)
       :else x))))

(defn- fresh
  "x with every collection a new object (a copy of an empty collection is
  otherwise the EMPTY singleton, and (compare x x) is 0 without looking)."
  [x]
  (let [renew #(with-meta % (or (meta %) {}))]
    (cond
      (map? x) (renew (into {} (map (fn [[k v]] [(fresh k) (fresh v)])) x))
      (set? x) (renew (into #{} (map fresh) x))
      (vector? x) (renew (mapv fresh x))
      (sequential? x) (renew (apply list (map fresh x)))
      :else x)))

(defn- read-back
  "x as slab hands it back where clojure.core then compares it: every NaN a
  new box, also inside lists (which read back as clojure.core lists), so a
  clojure.core map holding it compares that NaN by identity (README)."
  [x]
  (cond
    (instance? Double x) (if (nan? x) (Double/valueOf (double x)) x)
    (instance? Float x) (if (nan? x) (Float/valueOf (float x)) x)
    (and (seq? x) (not (slab/shared? x))) (with-meta (apply list (map read-back x)) (meta x))
    :else x))

(defn- all-nested-shared?
  "Every map, set and vector inside x (x itself too when top?) is a slab collection."
  [x top?]
  (and (or (not top?) (not (or (map? x) (set? x) (vector? x))) (slab/shared? x))
       (cond (map? x) (every? (fn [[k v]] (and (all-nested-shared? k true) (all-nested-shared? v true))) x)
             (coll? x) (every? #(all-nested-shared? % true) x)
             :else true)))

(defn- printed
  "pr-str, with the identity hash an Instant prints with taken out."
  [x]
  (str/replace (pr-str x) #"#object\[java\.time\.Instant 0x[0-9a-f]+ " "#object[java.time.Instant "))

;; --- recording differences ---------------------------------------------------------

(def ^:dynamic *failures* nil)

(defmacro ^:private outcome
  "[:ok value] or [:threw class-name]. (Not the message: HotSpot may throw a
  preallocated exception without one once a site is compiled.)"
  [& body]
  `(try [:ok (do ~@body)]
        (catch Throwable e# [:threw (.getName (class e#))])))

(defn- note!
  ([what s c] (swap! *failures* conj {:check what :slab s :core c}))
  ([what s c why] (swap! *failures* conj {:check what :slab s :core c :differs why})))

(defn- shaped
  "[:ok (shape (f value)) value] or [:threw class-name] of calling thunk:
  shape realizes lazy results inside the try, so what they throw is caught."
  [f thunk]
  (try (let [v (thunk)] [:ok (shape (f v)) v])
       (catch Throwable e [:threw (.getName (class e))])))

(defn- same*
  [what f s-thunk c-thunk]
  (let [s (shaped f s-thunk), c (shaped f c-thunk)]
    (when-not (= (subvec s 0 2) (subvec c 0 2))
      (note! what (peek s) (peek c)))))

(defmacro ^:private same-by
  "Records a difference when (f result) of s-expr and c-expr differ in shape
  (or they threw different exception classes). (Macros expand to calls with
  thunks: the check functions stay small enough for the JIT.)"
  [what f s-expr c-expr]
  `(same* ~what ~f (fn [] ~s-expr) (fn [] ~c-expr)))

(defmacro ^:private same [what s-expr c-expr]
  `(same-by ~what identity ~s-expr ~c-expr))

(defn- expect* [what thunk]
  (let [r (outcome (thunk))]
    (when-not (= [:ok true] r) (note! what (second r) true))))

(defmacro ^:private expect
  "Records a failure when expr is not true (or throws)."
  [what expr]
  `(expect* ~what (fn [] ~expr)))

(defn- collection-report
  "What must match between a collection result and its twin's: shape (with
  metadata at every depth), hash and count; only the shape when the result
  is a clojure.core collection holding NaNs read back from slab (it compares
  them by identity: README). (Printing is compared on s and on a few
  results: :pr-str-after-edits.)"
  [x shape-only?]
  (if (and (coll? x) (not shape-only?))
    [(shape x) (hash x) (count x)]
    [(shape x)]))

(defn- same-coll*
  [what s-thunk c-thunk slab-result?]
  (let [s (outcome (s-thunk)), c (outcome (c-thunk))]
    (if (and (= :ok (first s)) (= :ok (first c)))
      (let [sv (second s), cv (second c)
            nan (has-nan? cv)
            shape-only? (and nan (not slab-result?))
            rs (outcome (collection-report sv shape-only?))
            rc (outcome (collection-report cv shape-only?))]
        (when-let [why (cond
                         (not= rs rc) (if (= (first rs) (first rc)) :shape-hash-or-count :shape)
                         (not (or shape-only? (= sv cv))) :=
                         (not (or nan (= cv sv))) :=-reversed
                         (not (case slab-result?
                                false true
                                :top (or (nil? sv) (slab/shared? sv))
                                :deep (all-nested-shared? sv true))) :not-stored-in-slab)]
          (note! what sv cv why)))
      (when-not (= s c)
        (note! what (second s) (second c))))))

(defmacro ^:private same-coll
  "For calls returning a collection: shape, hash and count equal, and the
  results = (both ways when no NaN)."
  [what s-expr c-expr]
  `(same-coll* ~what (fn [] ~s-expr) (fn [] ~c-expr) false))

(defmacro ^:private same-slab
  "As same-coll, for calls on a slab collection that return a new version:
  it is a slab collection."
  [what s-expr c-expr]
  `(same-coll* ~what (fn [] ~s-expr) (fn [] ~c-expr) :top))

(defmacro ^:private same-slab-deep
  "As same-slab, and every map, set and vector inside the result is a slab
  collection too (what was stored was converted into the segment)."
  [what s-expr c-expr]
  `(same-coll* ~what (fn [] ~s-expr) (fn [] ~c-expr) :deep))

;; --- helpers for arguments ---------------------------------------------------------

(defn- nth-of
  "The element of coll that probe p picks ((mod p n)), or nil when coll is empty."
  [coll p]
  (let [n (count coll)] (when (pos? n) (nth (seq coll) (mod (long p) n)))))

(defn- stored-arg
  "An argument as the clojure.core twin receives it: converted as slab
  stores it, a map keeping its iteration order (so that conj-ing its entries
  builds the same collision nodes on both sides)."
  [x]
  (if (and (map? x) (not (sorted? x)))
    (with-meta (into {} (map (fn [[k v]] [(stored k) (stored v)])) x) (meta x))
    (stored x)))

(defn- path-in
  "A path of keys and indices into x that probes lead along, ending in
  absent when it leads to a scalar or an empty collection."
  [x probes absent]
  (loop [x x, [p & ps] probes, path []]
    (cond
      (nil? p) path
      (and (map? x) (seq x)) (let [k (nth-of (keys x) p)] (recur (get x k) ps (conj path k)))
      (and (vector? x) (seq x)) (let [i (mod (long p) (count x))] (recur (nth x i) ps (conj path i)))
      (and (set? x) (seq x)) (let [k (nth-of x p)] (recur k ps (conj path k)))
      :else (if (even? (long p)) (conj path absent) path))))

(defn- wrap
  "An update function that works on any value."
  ([x] [::wrapped x])
  ([x y] [::wrapped x y]))

(defn- reduce-no-init
  "reduce without init, recording the calls in order."
  [coll]
  (reduce (fn ([] ::none) ([a b] (if (and (vector? a) (= ::acc (nth a 0 nil))) (conj a b) [::acc a b]))) coll))

(defn- taking [k]
  (fn [acc x] (if (>= (count acc) (long k)) (reduced acc) (conj acc x))))

(defn- to-array-into
  "[contents, identical? to a] of (.toArray coll a) for an Object[] a of size
  size filled with ::fill."
  [^java.util.Collection coll size]
  (let [a (object-array (repeat size ::fill))
        r (.toArray coll a)]
    [(vec r) (identical? r a)]))

(def ^:private predicates
  [map? set? vector? list? seq? coll? sequential? associative? counted? reversible? sorted?
   ifn? indexed? seqable? map-entry? record? empty?
   #(instance? java.util.Map %) #(instance? java.util.Set %) #(instance? java.util.List %)
   #(instance? java.util.Collection %) #(instance? java.util.RandomAccess %) #(instance? Iterable %)
   #(instance? Comparable %) #(instance? clojure.lang.IObj %) #(instance? clojure.lang.IEditableCollection %)
   #(instance? clojure.lang.IHashEq %) #(instance? clojure.lang.ILookup %)
   #(instance? clojure.lang.IPersistentStack %) #(instance? clojure.lang.IKVReduce %)])

;; --- the function families -----------------------------------------------------------

(defn- check-common
  "Families every kind answers: equality and hashing, metadata, printing,
  seqs, reduce, transducers, empty, transients, compare, toArray, iterator.
  c is the generated value, c0 its twin as stored, x2 another generated
  value of the same kind."
  [s c c0 {:keys [probes other]}]
  (let [n (count c0)
        k (mod (long (nth probes 0)) (+ n 2))   ; any position, and past the end
        j (min k 4)                             ; a short prefix
        x1 (fresh (stored c))               ; an = copy, sharing no collection with c0
        x2 (stored-arg other)
        nan (has-nan? c)
        ;; A list reads back as a clojure.core list of fresh values: its NaNs are new
        ;; boxes and compare as clojure.core compares them (by identity, README).
        core-rules (and nan (not (slab/shared? s)))]
    ;; = both ways, hash, metadata, the whole stored form
    (when-not core-rules (expect := (= s c)))
    (when-not nan (expect :=-reversed (= c s)))
    (when-not core-rules (expect :=-twin (= s c0)))
    (same :hash (hash s) (hash c))
    (same :shape s c0)
    (same :meta (meta s) (meta c))
    (same :count (count s) (count c0))
    (same :=-other (= s x2) (= c0 x2))
    (when-not (or nan (has-nan? x2)) (same :=-other-reversed (= x2 s) (= x2 c0)))
    (same :.hashCode (.hashCode ^Object s) (.hashCode ^Object c0))
    (expect :.equals (.equals ^Object s c0))
    (when-not nan (expect :.equals-reversed (.equals ^Object c0 s)))
    (same :predicates (mapv #(% s) predicates) (mapv #(% c0) predicates))
    (let [ps (printed s)]
      (same :pr-str ps (printed c0))
      (same :str (str/replace (str s) #"Instant 0x[0-9a-f]+ " "Instant ") ps))
    (same :pr-str-print-meta (binding [*print-meta* true] (printed s)) (binding [*print-meta* true] (printed c0)))
    ;; seqs (whole walks once; the other calls compared on a bounded prefix)
    (same :seq (seq s) (seq c0))
    (same :first (first s) (first c0))
    (same :second (second s) (second c0))
    (same :last (last s) (last c0))
    (same :rest (take 3 (rest s)) (take 3 (rest c0)))
    (same :next (take 3 (next s)) (take 3 (next c0)))
    (same :nthnext (take 3 (nthnext s k)) (take 3 (nthnext c0 k)))
    (same :nth-of-seq (nth (seq s) k ::nf) (nth (seq c0) k ::nf))
    (same :drop (take 3 (drop k s)) (take 3 (drop k c0)))
    (same :take (take j s) (take j c0))
    (same :empty? (empty? s) (empty? c0))
    (same :not-empty (some? (not-empty s)) (some? (not-empty c0)))
    (same :iterator (iterator-seq (.iterator ^Iterable s)) (iterator-seq (.iterator ^Iterable c0)))
    ;; reduce, reduce-kv, transducers
    (same :reduce-init (reduce conj [] s) (reduce conj [] c0))
    (same :reduce (reduce-no-init s) (reduce-no-init c0))
    (same :reduce-reduced (reduce (taking j) [] s) (reduce (taking j) [] c0))
    (same :reduce-kv (reduce-kv (fn [acc a b] (conj acc [a b])) [] s) (reduce-kv (fn [acc a b] (conj acc [a b])) [] c0))
    (same :reduce-kv-reduced
          (reduce-kv (fn [acc a b] (if (>= (count acc) j) (reduced acc) (conj acc [a b]))) [] s)
          (reduce-kv (fn [acc a b] (if (>= (count acc) j) (reduced acc) (conj acc [a b]))) [] c0))
    (same :into-xform (into [] (comp (map vector) (take j) (partition-all 2)) s)
          (into [] (comp (map vector) (take j) (partition-all 2)) c0))
    (same :transduce (transduce (comp (map-indexed vector) (filter #(even? (long (first %)))) (take j)) conj [] s)
          (transduce (comp (map-indexed vector) (filter #(even? (long (first %)))) (take j)) conj [] c0))
    (same :transduce-no-init (transduce (comp (take j) (mapcat (fn [x] [x x]))) conj s)
          (transduce (comp (take j) (mapcat (fn [x] [x x]))) conj c0))
    (same :sequence (sequence (comp (keep-indexed (fn [i x] (when (odd? i) x))) (take j)) s)
          (sequence (comp (keep-indexed (fn [i x] (when (odd? i) x))) (take j)) c0))
    (same :eduction (into [] (eduction (map list) (take j) s)) (into [] (eduction (map list) (take j) c0)))
    (same :map (map vector s (range j)) (map vector c0 (range j)))
    (same :vec (vec s) (vec c0))
    (when-not nan (same :set (count (set s)) (count (set c0))))   ; a core set of NaNs read back keeps each
    ;; empty, metadata, transients, into (s's contents are compared above: here what changes)
    (same-coll :empty (empty s) (empty c0))
    (same-coll :into-empty (into (empty s) s) (into (empty c0) c0))
    (same :with-meta (let [r (with-meta s {:m k})] [(meta r) (count r) (hash r) (= r s)])
          (let [r (with-meta c0 {:m k})] [(meta r) (count r) (hash r) true]))
    (same :with-meta-nil (let [r (with-meta s nil)] [(meta r) (count r) (= r s)]) [nil (count c0) true])
    (same :vary-meta (meta (vary-meta s assoc :v x2)) (meta (vary-meta c0 assoc :v x2)))
    (same :transient-round-trip (let [r (persistent! (transient s))] [(meta r) (count r) (hash r) (= r s) (slab/shared? r)])
          (let [r (persistent! (transient c0))] [(meta r) (count r) (hash r) true (not (seq? c0))]))
    (same :transient-count (count (transient s)) (count (transient c0)))
    ;; compare (vectors order; the others throw the same way)
    (when-not (identical? x1 c0)             ; (compare c0 c0) is 0 without looking
      (same :compare-copy (compare s x1) (compare c0 x1))
      (same :compare-copy-reversed (compare x1 s) (compare x1 c0)))
    (let [x2 (fresh x2)]
      (same :compare-other (compare s x2) (compare c0 x2))
      (same :compare-other-reversed (compare x2 s) (compare x2 c0)))
    ;; java.util.Collection
    (when (instance? java.util.Collection c0)
      (let [^java.util.Collection js s, ^java.util.Collection jc c0]
        (same :Collection.size (.size js) (.size jc))
        (same :Collection.isEmpty (.isEmpty js) (.isEmpty jc))
        (same :Collection.toArray (.toArray js) (.toArray jc))
        (doseq [size [0 (+ n 2)]]
          (same [:Collection.toArray-into size] (to-array-into js size) (to-array-into jc size)))
        (when-not core-rules
          (same :Collection.containsAll-own (.containsAll js (take 12 jc)) (.containsAll jc (take 12 jc))))
        (same :Collection.containsAll-other (.containsAll js ^java.util.Collection x2) (.containsAll jc ^java.util.Collection x2))
        (same :Collection.stream (.toList (.stream js)) (.toList (.stream jc)))))))

(defn- check-map [s c0 {:keys [probes ks vs other]}]
  (let [present (map #(nth-of (keys c0) %) (take 3 probes))
        lookup-keys (concat present ks [nil])
        few-keys [(first present) (first ks) nil]
        edit-keys (take 3 (interleave present ks))               ; present and absent
        [v1 v2 v3] vs
        [k1 k2 k3 k4] (take 4 (drop 2 (cycle lookup-keys)))
        ts (transient s), tc (transient c0)
        ^java.util.Map js s, ^java.util.Map jc c0
        path (path-in c0 (drop 4 probes) (stored (first ks)))
        other* (stored-arg other)]
    (doseq [k lookup-keys]
      (same [:get k] (get s k) (get c0 k))
      (same [:invoke k] (s k) (c0 k))
      (same [:find k] (find s k) (find c0 k))
      (same [:contains? k] (contains? s k) (contains? c0 k))
      (same [:Map.get k] (.get js k) (.get jc k))
      (same [:Map.containsKey k] (.containsKey js k) (.containsKey jc k)))
    (doseq [k few-keys]
      (same [:get-not-found k] (get s k ::nf) (get c0 k ::nf))
      (same [:invoke-not-found k] (s k ::nf) (c0 k ::nf))
      (let [kw (if (keyword? k) k ::absent)] (same [:keyword-invoke k] (kw s) (kw c0)))
      (same [:transient-get k] (get ts k ::nf) (get tc k ::nf))
      (same [:transient-contains? k] (contains? ts k) (contains? tc k))
      (same [:Map.getOrDefault k] (.getOrDefault js k ::nf) (.getOrDefault jc k ::nf))
      (same [:keySet.contains k] (.contains (.keySet js) k) (.contains (.keySet jc) k)))
    (doseq [k edit-keys]
      (same-slab-deep [:assoc k] (assoc s k v1) (assoc c0 (stored k) (stored v1)))
      (same-slab [:dissoc k] (dissoc s k) (dissoc c0 k)))
    (doseq [k (take 2 edit-keys)]
      (same-slab [:update k] (update s k wrap) (update c0 (stored k) wrap)))
    (same-slab [:update-with-arg k1] (update s k1 wrap v2) (update c0 (stored k1) wrap (stored v2)))
    ;; containsValue calls the probe's equals: a clojure.core probe holding a NaN
    ;; compares it by identity, whatever slab does (README)
    (doseq [v (concat (take 2 (vals c0)) (map stored vs) [nil])
            :when (not (has-nan? v))]
      (same [:Map.containsValue v] (.containsValue js v) (.containsValue jc v))
      (same [:values.contains v] (.contains (.values js) v) (.contains (.values jc) v)))
    (same :pr-str-after-edits
          (printed (merge (dissoc (assoc s k1 v1) k2) other))
          (printed (merge (dissoc (assoc c0 (stored k1) (stored v1)) k2) other*)))
    (same :keys (keys s) (keys c0))
    (same :vals (vals s) (vals c0))
    (same-slab-deep :assoc-many (assoc s k1 v1 k2 v2 k3 v3) (assoc c0 (stored k1) (stored v1) (stored k2) (stored v2) (stored k3) (stored v3)))
    (same-slab :dissoc-many (dissoc s k1 k2 k3) (dissoc c0 k1 k2 k3))
    (same-slab :merge (merge s other) (merge c0 other*))
    ;; conj-ing s's entries into a clojure.core map: its keys arrive as slab reads them
    (same-coll :merge-into-core (merge other* s)
               (reduce (fn [m [k v]] (assoc m (read-back k) v)) (or other* {}) (seq c0)))
    (same-slab :merge-with (merge-with wrap s other) (merge-with wrap c0 other*))
    (same-slab :into-entries (into s (seq other)) (into c0 (seq other*)))
    (same-slab :conj-entry (conj s [k1 v1]) (conj c0 [(stored k1) (stored v1)]))
    (same-slab :conj-nil (conj s nil) (conj c0 nil))
    (same-coll :select-keys (select-keys s lookup-keys) (select-keys c0 lookup-keys))
    (same-coll :into-core-map (into {} s) (into {} c0))
    (same [:get-in path] (get-in s path) (get-in c0 path))
    (same [:get-in-not-found path] (get-in s path ::nf) (get-in c0 path ::nf))
    (same-slab [:assoc-in path] (assoc-in s path v3) (assoc-in c0 path (stored v3)))
    (same-slab [:update-in path] (update-in s path wrap) (update-in c0 path wrap))
    (same-slab :transient-edits
               (persistent! (-> (transient s) (assoc! k1 v1) (dissoc! k2) (conj! [k3 v2]) (assoc! k4 v3)))
               (persistent! (-> (transient c0) (assoc! (stored k1) (stored v1)) (dissoc! k2)
                                (conj! [(stored k3) (stored v2)]) (assoc! (stored k4) (stored v3)))))
    ;; java.util.Map and its views
    (same :Map.size (.size js) (.size jc))
    (same :Map.isEmpty (.isEmpty js) (.isEmpty jc))
    (doseq [[what view] [[:entrySet #(.entrySet ^java.util.Map %)] [:keySet #(.keySet ^java.util.Map %)]]]
      (let [^java.util.Set sv (view s), ^java.util.Set cv (view c0)]
        (same [what] sv cv)
        (same-by [what :order] vec sv cv)
        (same [what :size] (.size sv) (.size cv))
        (same [what :hashCode] (.hashCode sv) (.hashCode cv))
        (same [what :toArray] (.toArray sv) (.toArray cv))
        (expect [what :equals] (.equals sv cv))
        (when-not (has-nan? c0) (expect [what :equals-reversed] (.equals cv sv)))
        (same [what :containsAll] (.containsAll sv cv) (.containsAll cv cv))))
    (let [sv (.values js), cv (.values jc)]
      (same [:values :order] (vec sv) (vec cv))
      (same [:values :size] (.size sv) (.size cv))
      (same [:values :toArray] (.toArray sv) (.toArray cv)))
    (let [hm (java.util.HashMap. jc)]
      (expect :Map.equals-HashMap (.equals js hm))
      (when-not (has-nan? c0) (expect :HashMap.equals-Map (.equals hm js)))
      (same :=-HashMap (= s hm) (= c0 hm))
      (same :HashMap-of (java.util.HashMap. js) hm))))

(defn- check-set [s c0 {:keys [probes ks other]}]
  (let [present (map #(nth-of c0 %) (take 3 probes))
        lookup-keys (concat present ks [nil])
        [k1 k2 k3] (take 3 (drop 2 (cycle lookup-keys)))
        ts (transient s), tc (transient c0)
        ^java.util.Set js s, ^java.util.Set jc c0
        other* (stored other)]
    (doseq [k lookup-keys]
      (same [:contains? k] (contains? s k) (contains? c0 k))
      (same [:get k] (get s k) (get c0 k))
      (same [:invoke k] (s k) (c0 k))
      (same [:Set.contains k] (.contains js k) (.contains jc k)))
    (doseq [k [(first present) (first ks) nil]]
      (same [:get-not-found k] (get s k ::nf) (get c0 k ::nf))
      (same [:invoke-not-found k] (s k ::nf) (c0 k ::nf))
      (let [kw (if (keyword? k) k ::absent)] (same [:keyword-invoke k] (kw s) (kw c0)))
      (same [:transient-get k] (get ts k ::nf) (get tc k ::nf))
      (same [:transient-contains? k] (contains? ts k) (contains? tc k)))
    (doseq [k (interleave (take 2 present) (take 2 ks))]
      (same-slab-deep [:conj k] (conj s k) (conj c0 (stored k)))
      (same-slab [:disj k] (disj s k) (disj c0 k)))
    (same :pr-str-after-edits
          (printed (into (disj (conj s k1) k2) other))
          (printed (into (disj (conj c0 (stored k1)) k2) other*)))
    (same-slab :conj-many (conj s k1 k2 k3) (conj c0 (stored k1) (stored k2) (stored k3)))
    (same-slab :disj-many (apply disj s lookup-keys) (apply disj c0 lookup-keys))
    (same-slab :into (into s other) (into c0 other*))
    (same-coll :union (cset/union s other*) (cset/union c0 other*))
    (same-coll :union-reversed (cset/union other* s) (cset/union other* c0))
    (same-coll :intersection (cset/intersection s other*) (cset/intersection c0 other*))
    (same-coll :intersection-reversed (cset/intersection other* s) (cset/intersection other* c0))
    (same-coll :difference (cset/difference s other*) (cset/difference c0 other*))
    (same-coll :difference-reversed (cset/difference other* s) (cset/difference other* c0))
    (same :subset? (cset/subset? s other*) (cset/subset? c0 other*))
    (same :superset? (cset/superset? s other*) (cset/superset? c0 other*))
    (same-coll :select (cset/select #(even? (hash %)) s) (cset/select #(even? (hash %)) c0))
    (same-slab :transient-edits
               (persistent! (-> (transient s) (conj! k1) (disj! k2) (conj! k3)))
               (persistent! (-> (transient c0) (conj! (stored k1)) (disj! k2) (conj! (stored k3)))))
    (let [hs (java.util.HashSet. jc)]
      (expect :Set.equals-HashSet (.equals js hs))
      (when-not (has-nan? c0) (expect :HashSet.equals-Set (.equals hs js)))
      (same :=-HashSet (= s hs) (= c0 hs))
      (same :HashSet-of (java.util.HashSet. js) hs))))

(defn- indices
  "Indices to probe in a collection of n: in range (from probes), -1, n, n+1."
  [probes n]
  (concat (map #(mod (long %) (max 1 (long n))) (take 2 probes)) [-1 n (inc (long n))]))

(defn- check-sequential-java
  "java.util.List on a vector or a list."
  [s c0 {:keys [probes vs]}]
  (let [^java.util.List js s, ^java.util.List jc c0
        n (count c0)]
    (doseq [i (indices probes n)]
      (same [:List.get i] (.get js (int i)) (.get jc (int i)))
      (same [:List.listIterator i] (take 3 (iterator-seq (.listIterator js (int i)))) (take 3 (iterator-seq (.listIterator jc (int i))))))
    (doseq [x (concat (take 2 (map #(nth-of c0 %) probes)) (map stored vs) [nil])
            ;; a list reads back as a clojure.core list of fresh values, whose NaNs
            ;; compare by identity (README)
            :when (not (and (has-nan? x) (not (slab/shared? s))))]
      (same [:List.indexOf x] (.indexOf js x) (.indexOf jc x))
      (same [:List.lastIndexOf x] (.lastIndexOf js x) (.lastIndexOf jc x))
      (same [:List.contains x] (.contains js x) (.contains jc x)))
    (let [a (mod (long (nth probes 3)) (+ n 2)), b (mod (long (nth probes 4)) (+ n 2))]
      (same-coll [:List.subList a b] (.subList js a b) (.subList jc a b))
      (same [:List.subList-iterator a b] (some-> (outcome (.subList js a b)) second (#(when (instance? java.util.List %) (iterator-seq (.iterator ^java.util.List %)))))
            (some-> (outcome (.subList jc a b)) second (#(when (instance? java.util.List %) (iterator-seq (.iterator ^java.util.List %)))))))
    (same :List.iterator (iterator-seq (.iterator js)) (iterator-seq (.iterator jc)))
    (same :List.listIterator (iterator-seq (.listIterator js)) (iterator-seq (.listIterator jc)))
    (expect :List.equals-ArrayList (.equals js (java.util.ArrayList. jc)))
    (when-not (has-nan? c0) (expect :ArrayList.equals-List (.equals (java.util.ArrayList. jc) js)))
    (same :ArrayList.hashCode (.hashCode (java.util.ArrayList. js)) (.hashCode (java.util.ArrayList. jc)))))

(defn- check-vector [s c0 {:keys [probes ks vs other] :as in}]
  (let [n (count c0)
        idx (indices probes n)
        [v1 v2 v3] vs
        ts (transient s), tc (transient c0)
        path (path-in c0 (drop 4 probes) (stored (first ks)))
        other* (stored other)]
    (doseq [i (concat idx [(int 0) 1N 1.0 :a nil (first ks)])]
      (same [:get i] (get s i) (get c0 i))
      (same [:invoke i] (s i) (c0 i))
      (same [:nth i] (nth s i) (nth c0 i))
      (same [:contains? i] (contains? s i) (contains? c0 i)))
    (doseq [i [(first idx) -1 n (int 0) :a]]
      (same [:get-not-found i] (get s i ::nf) (get c0 i ::nf))
      (same [:find i] (find s i) (find c0 i))
      (same [:nth-not-found i] (nth s i ::nf) (nth c0 i ::nf))
      (same [:transient-get i] (get ts i ::nf) (get tc i ::nf))
      (same [:transient-nth i] (nth ts i) (nth tc i))
      (same [:transient-contains? i] (contains? ts i) (contains? tc i)))
    (same-slab-deep [:assoc (first idx)] (assoc s (first idx) v1) (assoc c0 (first idx) (stored v1)))
    (doseq [i [-1 n (inc n)]]
      (same-slab [:assoc i] (assoc s i v1) (assoc c0 i (stored v1))))
    (doseq [i [(first idx) n]]
      (same-slab [:update i] (update s i wrap) (update c0 i wrap))
      (same-slab [:transient-edits i]
                 (persistent! (-> (transient s) (conj! v1) (assoc! i v2) (pop!) (conj! v3)))
                 (persistent! (-> (transient c0) (conj! (stored v1)) (assoc! i (stored v2)) (pop!) (conj! (stored v3))))))
    (same :pr-str-after-edits
          (printed (assoc (conj s v1) (first idx) v2))
          (printed (assoc (conj c0 (stored v1)) (first idx) (stored v2))))
    (same-slab :conj (conj s v1) (conj c0 (stored v1)))
    (same-slab-deep :conj-many (conj s v1 v2 v3) (conj c0 (stored v1) (stored v2) (stored v3)))
    (same-slab :into (into s other) (into c0 other*))
    (same-slab :pop (pop s) (pop c0))
    (same-slab :pop-pop (some-> (outcome (pop s)) second (#(when (vector? %) (pop %))))
               (some-> (outcome (pop c0)) second (#(when (vector? %) (pop %)))))
    (same :peek (peek s) (peek c0))
    (same :rseq (rseq s) (rseq c0))
    (same :mapv (mapv wrap s) (mapv wrap c0))
    (let [a (mod (long (nth probes 3)) (+ n 2)), b (mod (long (nth probes 4)) (+ n 2))]
      (same-coll [:subvec a b] (subvec s a b) (subvec c0 a b))
      (same-coll [:subvec a] (subvec s a) (subvec c0 a))
      (same-coll [:subvec-conj a b] (conj (subvec s a b) (stored v1)) (conj (subvec c0 a b) (stored v1)))
      (same [:subvec-rseq a b] (rseq (subvec s a b)) (rseq (subvec c0 a b))))
    (same [:get-in path] (get-in s path) (get-in c0 path))
    (same [:get-in-not-found path] (get-in s path ::nf) (get-in c0 path ::nf))
    (same-slab [:assoc-in path] (assoc-in s path v3) (assoc-in c0 path (stored v3)))
    (same-slab [:update-in path] (update-in s path wrap) (update-in c0 path wrap))
    (check-sequential-java s c0 in)))

(defn- check-list [s c0 {:keys [probes vs other] :as in}]
  (let [n (count c0)
        [v1 v2] vs]                       ; s is a heap list: what is conj-ed onto it stays as it is
    (doseq [i (concat (indices probes n) [(int 0) :a nil])]
      (same [:nth i] (nth s i) (nth c0 i))
      (same [:nth-not-found i] (nth s i ::nf) (nth c0 i ::nf))
      (same [:get i] (get s i) (get c0 i))
      (same [:contains? i] (contains? s i) (contains? c0 i)))
    (same-coll :conj (conj s v1) (conj c0 v1))
    (same-coll :conj-many (conj s v1 v2) (conj c0 v1 v2))
    (same-coll :cons (cons v1 s) (cons v1 c0))
    (same-coll :into (into s other) (into c0 other))
    (same-coll :concat (concat s other) (concat c0 other))
    (same :peek (peek s) (peek c0))
    (same-coll :pop (pop s) (pop c0))
    (same :reverse (reverse s) (reverse c0))
    (same :update-in-list (update-in {:l s} [:l] conj v2) (update-in {:l c0} [:l] conj v2))
    (check-sequential-java s c0 in)))

;; --- trials ---------------------------------------------------------------------------

(defn- build
  "s: c stored in slab the way how says. The constructors give maps, sets
  and vectors no metadata (as clojure.core's); a list nested in a stored
  map or vector keeps its own."
  [kind how c]
  (case [kind how]
    [:map :share] (slab/share c)
    [:map :hash-map] (apply slab/hash-map (apply concat c))
    [:map :into] (into (slab/hash-map) c)
    [:map :transient] (persistent! (reduce (fn [t [k v]] (assoc! t k v)) (transient (slab/hash-map)) c))
    [:set :share] (slab/share c)
    [:set :hash-set] (apply slab/hash-set c)
    [:set :into] (into (slab/hash-set) c)
    [:set :transient] (persistent! (reduce conj! (transient (slab/hash-set)) c))
    [:vector :share] (slab/share c)
    [:vector :vector] (apply slab/vector c)
    [:vector :vec] (slab/vec c)
    [:vector :into] (into (slab/vector) c)
    [:vector :transient] (persistent! (reduce conj! (transient (slab/vector)) c))
    [:list :share] (slab/share c)
    [:list :in-map] (get (slab/share {:l c}) :l)
    [:list :in-vector] (nth (slab/share [:x c]) 1)))

(def ^:private builds
  {:map [:share :share :hash-map :into :transient]
   :set [:share :share :hash-set :into :transient]
   :vector [:share :share :vector :vec :into :transient]
   :list [:share :in-map :in-vector]})

(defn- trial
  "Builds s from the generated c and runs every family; true, or throws
  ex-info listing what differed."
  [kind {:keys [how c] :as in}]
  (binding [*failures* (atom [])
            *shape-cache* (java.util.IdentityHashMap.)]
    (let [c (if (or (= how :share) (= kind :list)) c (with-meta c nil))   ; a nested list keeps it
          s (build kind how c)
          c0 (stored c (= how :share))]        ; metadata read back from the segment is stored too
      (when (#{:map :set :vector} kind)
        (expect :shared? (slab/shared? s)))
      (expect :nested-shared? (all-nested-shared? s false))
      (check-common s c c0 in)
      (case kind
        :map (check-map s c0 in)
        :set (check-set s c0 in)
        :vector (check-vector s c0 in)
        :list (check-list s c0 in))
      (binding [*shape-cache* nil]                  ; s itself, read again
        (same :unchanged-after-all-calls s c0))
      (when-let [fs (seq @*failures*)]
        (throw (ex-info (str (count fs) " difference(s) from clojure.core in "
                             (pr-str (distinct (map #(let [w (:check %)] (if (vector? w) (first w) w)) fs))))
                        {:failures (vec (take 6 fs))}))))
    true))

(defn- trial-prop [kind value-gen other-gen]
  (prop/for-all [c value-gen
                 how (gen/elements (builds kind))
                 probes (gen/vector g/index-probe 8)
                 ks (gen/tuple g/any-key g/any-key-scalar g/any-key-scalar)
                 vs (gen/tuple g/any-value g/any-value-scalar g/any-value-scalar)
                 other (gen/scale #(quot % 4) other-gen)]
    (trial kind {:c c :how how :probes probes :ks ks :vs vs :other other})))

(defn- passes?
  "True if the quick-check result passed; else prints its seed (to replay:
  (tc/quick-check n prop :seed s)), the smallest input found and the
  differences, and returns false."
  [result]
  (or (true? (:pass? result))
      (let [shrunk (:shrunk result)
            e (:result shrunk)]
        (println "FAILED:" (pr-str (select-keys result [:seed :num-tests :failed-after-ms])))
        (println "  smallest input:" (binding [*print-meta* true] (pr-str (:smallest shrunk))))
        (if (instance? Throwable e)
          (do (println " " (ex-message e))
              (doseq [f (:failures (ex-data e))]
                (println "   " (binding [*print-meta* true] (pr-str f)))))
          (println "  result:" (pr-str e)))
        false)))

(defmacro ^:private check-property
  "Runs quick-check and reports through passes? (a boolean for is, so a
  failure prints the differences, not the whole result map)."
  [n prop]
  `(let [ok# (passes? (tc/quick-check ~n ~prop :max-size max-size))]
     (is (true? ok#) "see FAILED above")))


(deftest maps-are-drop-ins
  (check-property trials (trial-prop :map g/any-map (gen/map g/any-key g/any-value {:max-elements 4}))))

(deftest sets-are-drop-ins
  (check-property trials (trial-prop :set g/any-set (gen/set g/any-key {:max-elements 4}))))

(deftest vectors-are-drop-ins
  (check-property trials (trial-prop :vector g/any-vector (gen/vector g/any-value 0 4))))

(deftest lists-are-drop-ins
  (check-property trials (trial-prop :list g/any-list (gen/vector g/any-value 0 4))))

;; --- records are refused, wherever they are ------------------------------------------------

(defrecord Refused [a])

(defn- plant
  "x with a Refused record put where probes lead: a value, a key, an
  element, metadata (a symbol's too), or x itself."
  [x probes]
  (if (empty? probes)
    (->Refused 1)
    (let [[p & ps] probes
          p (long p)
          deeper #(plant % ps)
          in-meta #(vary-meta % assoc :r (deeper nil))]
      (cond
        (sorted? x)                                 ; keys and elements must stay comparable
        (if (and (map? x) (seq x) (even? p))
          (let [[k v] (nth-of x p)] (assoc x k (deeper v)))
          (in-meta x))
        (map? x)
        (if-let [[k v] (nth-of x p)]
          (case (long (mod p 4))
            0 (assoc x k (deeper v))
            1 (assoc (dissoc x k) (deeper k) v)
            2 (in-meta x)
            3 (assoc x (deeper :new) v))
          (if (even? p) (assoc x :r (deeper nil)) (in-meta x)))
        (set? x)
        (if-let [e (nth-of x p)]
          (if (even? p) (conj (disj x e) (deeper e)) (in-meta x))
          (if (even? p) (conj x (deeper nil)) (in-meta x)))
        (sequential? x)
        (let [v (vec x)
              v' (if (and (seq v) (even? p))
                   (let [i (mod p (count v))] (assoc v i (deeper (nth v i))))
                   (conj v (deeper nil)))
              v' (if (zero? (mod p 3)) (in-meta v') (with-meta v' (meta x)))]
          (cond (vector? x) v'
                (list? x) (with-meta (apply list v') (meta v'))
                :else (with-meta (map identity v') (meta v'))))
        (symbol? x) (in-meta x)
        :else (->Refused 1)))))

(defonce ^:private refusal-segment (Segment/anonymous (* 64 1024 1024) 5 5))

(def ^:private refusal-base
  "The only value ever stored in refusal-segment: a refused write must
  leave its bytes in use exactly as they were."
  (delay (slab/with-segment refusal-segment
           (slab/share {:base [1 "a string longer than eight" #{:x}] 'sym {:n 1.5}}))))

(defn- refusal
  "The ex-data of what storing x (by how) threw, or [:stored result]."
  [how x]
  (slab/with-segment refusal-segment
    (try
      [:stored (case how
                 :share (slab/share x)
                 :share-option (slab/share x {:segment refusal-segment})
                 :hash-map (slab/hash-map :k x)
                 :hash-set (slab/hash-set x)
                 :vector (slab/vector x)
                 :assoc (assoc @refusal-base :k x)
                 :conj-vector (conj (:base @refusal-base) x)
                 :assoc! (persistent! (assoc! (transient @refusal-base) x 1))
                 :conj! (persistent! (conj! (transient (slab/vector)) x)))]
      (catch clojure.lang.ExceptionInfo e (ex-data e)))))

(deftest records-are-refused-anywhere-and-nothing-is-written
  (let [base @refusal-base
        base-shape (shape base)
        bytes #(:bytes-in-use (slab/stats refusal-segment))]
    (check-property
          trials
          (prop/for-all [x g/any-value
                         probes (gen/vector (gen/choose 0 1000) 0 4)
                         how (gen/elements [:share :share :share-option :hash-map :hash-set :vector
                                            :assoc :conj-vector :assoc! :conj!])]
            (let [x (plant x probes)
                  before (bytes)
                  r (refusal how x)
                  after (bytes)]
              (or (and (map? r)
                       (= :unsupported-value (:slab/error r))
                       (= (.getName Refused) (:class r))
                       (vector? (:path r))
                       (= before after)
                       (= base-shape (shape base)))
                  (throw (ex-info "a record was not refused, or the refusal wrote"
                                  {:failures [{:check :refused :slab r :core :unsupported-value
                                               :bytes-before before :bytes-after after}]}))))))))

;; --- the NaN rule, and the generators' reach ------------------------------------------------

(deftest a-stored-nan-is-equal-to-any-nan
  (let [other-nan (Double/valueOf Double/NaN)]          ; not the box that was stored
    (testing "maps: get, find, contains?, dissoc, assoc with a NaN key (any box)"
      (let [s (slab/hash-map ##NaN :v, 1 2)]
        (is (= :v (get s other-nan) (s other-nan) (.get ^java.util.Map s other-nan)))
        (is (= [other-nan :v] (update (vec (find s other-nan)) 0 #(if (nan? %) other-nan %))))
        (is (contains? s other-nan))
        (is (= {1 2} (dissoc s other-nan)))
        (is (= 2 (count (assoc s other-nan :w))))
        (is (= :v (get-in (slab/share {:m {[other-nan] :v}}) [:m [##NaN]])))))
    (testing "sets and vectors"
      (is (contains? (slab/hash-set ##NaN) other-nan))
      (is (= #{} (disj (slab/hash-set ##NaN) other-nan)))
      (is (= 0 (.indexOf ^java.util.List (slab/vector other-nan) ##NaN))))
    (testing "a NaN inside a stored list is a stored NaN too"
      (is (= (slab/vector (list ##NaN)) [(list other-nan)]))
      (is (= 1 (get (slab/hash-map (list ##NaN) 1) (list other-nan))))
      (is (contains? (slab/hash-set [(list ##NaN)]) [(list other-nan)])))
    (testing "= and hash: the slab side applies the rule, both ways between slab values"
      (let [c {:a other-nan :b [other-nan #{other-nan}]}
            s (slab/share c)]
        (is (= s c))
        (is (= s (slab/share c)))
        (is (= (hash c) (hash s)))
        (is (not= c s) "clojure.core compares the NaN read back by identity (README)")))
    (testing "a float NaN is stored as a float NaN"
      (let [s (slab/vector (Float/valueOf Float/NaN))]
        (is (instance? Float (first s)))
        (is (nan? (first s)))
        (is (= s [(Float/valueOf Float/NaN)]))))))

(defn- features
  "The kinds of values inside x, for the coverage test."
  [x]
  (let [out (volatile! #{})
        walk (fn walk [x in]
               (let [add #(vswap! out conj %)]
                 (when (and (instance? clojure.lang.IObj x) (seq (meta x)))
                   (add (if (symbol? x) :symbol-with-meta :collection-with-meta)))
                 (cond
                   (nan? x) (add (if (instance? Float x) :float-nan :nan))
                   (and (instance? Double x) (= -0.0 x) (neg? (Math/copySign 1.0 (double x)))) (add :negative-zero)
                   (instance? Float x) (add :float)
                   (instance? Integer x) (add :int)
                   (instance? java.math.BigDecimal x) (add :bigdec)
                   (ratio? x) (add :ratio)
                   (instance? java.time.Instant x) (add :instant)
                   (instance? java.util.Date x) (add :date)
                   (instance? java.util.UUID x) (add :uuid)
                   (char? x) (add :char)
                   (and (string? x) (some #(Character/isSurrogate %) x)) (add :utf16-surrogates)
                   (and (string? x) (> (count x) 200)) (add :very-long-string))
                 (when (and (sorted? x) (map? x)) (add :sorted-map))
                 (when (and (sorted? x) (set? x)) (add :sorted-set))
                 (when (instance? clojure.lang.LazySeq x)
                   (add :lazy-seq)
                   (when (some coll? x) (add :lazy-seq-of-collections)))
                 (when (and (coll? x) (> (long in) 2)) (add :collection-depth-3))
                 (when (and (map? x) (some coll? (keys x))) (add :collection-key))
                 (cond (map? x) (doseq [[k v] x] (walk k (inc in)) (walk v (inc in)))
                       (coll? x) (doseq [e x] (walk e (inc in))))))]
    (walk x 0)
    @out))

(deftest the-generators-reach-the-whole-value-space
  (let [seen (into #{} (mapcat features) (gen/sample (gen/resize max-size g/any-value) 3000))]
    (is (= #{} (cset/difference #{:nan :negative-zero :float :int :bigdec :ratio :instant :date :uuid
                                  :char :utf16-surrogates :very-long-string :sorted-map :sorted-set :lazy-seq
                                  :lazy-seq-of-collections :collection-depth-3 :collection-key
                                  :symbol-with-meta :collection-with-meta}
                                seen)))))
