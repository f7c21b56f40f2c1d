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

;; --- canonical forms -------------------------------------------------------------

(defn- nan? [x]
  (or (and (instance? Double x) (Double/isNaN (double x)))
      (and (instance? Float x) (Float/isNaN (float x)))))

(defn shape
  "A strict canonical form of x for comparison with =. NaN-aware (every NaN
  is ::nan), sign- and scale-aware (-0.0, 1.50M), type-aware (float vs
  double, BigInt vs BigInteger, list vs vector, map vs set), with metadata
  at every depth. ints, shorts and bytes are longs (slab stores them so);
  a sorted map or set is a map or set, a lazy seq a seq (as slab stores them)."
  [x]
  (cond
    (nil? x) nil
    (instance? Double x) (if (nan? x) ::nan [::double (Double/doubleToLongBits x)])
    (instance? Float x) (if (nan? x) ::float-nan [::float (Float/floatToIntBits x)])
    (or (instance? Long x) (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
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
        (map? x) (boolean (some (fn [[k v]] (or (has-nan? k) (has-nan? v))) x))
        (coll? x) (boolean (some has-nan? x))
        :else false))

(defn stored
  "c as slab stores it (see the ns doc): deep, metadata kept, every map and
  set a PersistentHashMap / PersistentHashSet built in c's iteration order."
  [x]
  (cond
    (or (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
    (map? x) (with-meta (reduce (fn [m [k v]] (assoc m (stored k) (stored v))) PersistentHashMap/EMPTY x) (meta x))
    (set? x) (with-meta (reduce (fn [s k] (conj s (stored k))) PersistentHashSet/EMPTY x) (meta x))
    (vector? x) (with-meta (mapv stored x) (meta x))
    (sequential? x) (with-meta (apply list (map stored x)) (meta x))
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

(defn- note! [what s c]
  (swap! *failures* conj {:check what :slab s :core c}))

(defn- outcome-shape [[tag v] f] (if (= tag :ok) [:ok (shape (f v))] [tag v]))

(defmacro ^:private same-by
  "Records a difference when (f result) of s-expr and c-expr differ in shape
  (or they threw different exception classes)."
  [what f s-expr c-expr]
  `(let [s# (outcome ~s-expr), c# (outcome ~c-expr), f# ~f]
     (when-not (= (outcome-shape s# f#) (outcome-shape c# f#))
       (note! ~what (second s#) (second c#)))))

(defmacro ^:private same [what s-expr c-expr]
  `(same-by ~what identity ~s-expr ~c-expr))

(defmacro ^:private expect
  "Records a failure when expr is not true (or throws)."
  [what expr]
  `(let [r# (outcome ~expr)]
     (when-not (= [:ok true] r#) (note! ~what (second r#) true))))

(defn- collection-report
  "What must match between a collection result and its twin's: shape (with
  metadata at every depth), hash, count and printing."
  [x]
  (if (coll? x)
    [(shape x) (hash x) (count x) (printed x)]
    [(shape x)]))

(defn- same-coll*
  [what [st sv :as s] [ct cv :as c] slab-result?]
  (if (and (= :ok st) (= :ok ct))
    (when-not (and (= (collection-report sv) (collection-report cv))
                   (= sv cv)
                   (or (has-nan? cv) (= cv sv))
                   (or (not slab-result?) (all-nested-shared? sv true)))
      (note! what sv cv))
    (when-not (= (outcome-shape s identity) (outcome-shape c identity))
      (note! what sv cv))))

(defmacro ^:private same-coll
  "For calls returning a collection: shape, hash, count and printing equal,
  and the results = (both ways when no NaN)."
  [what s-expr c-expr]
  `(same-coll* ~what (outcome ~s-expr) (outcome ~c-expr) false))

(defmacro ^:private same-slab
  "As same-coll, for calls on a slab collection that return a new version:
  it, and every map, set and vector inside it, is a slab collection."
  [what s-expr c-expr]
  `(same-coll* ~what (outcome ~s-expr) (outcome ~c-expr) true))
