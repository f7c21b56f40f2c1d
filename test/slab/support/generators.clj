;; The one set of test.check generators for values slab stores (not tests themselves): map keys and values, vector elements, and keys built to collide.
(ns slab.support.generators
  "test.check generators for values slab stores, including keys built to
  collide: strings made of \"Aa\" and \"BB\" blocks all share one String
  hashCode, so they land in one collision node.

  Map and set tests draw keys from key-gen and values from value-gen; vector
  tests draw elements from vector-value (scalars from vector-scalar), whose
  mix leans to large longs, inline strings and big numbers, and nests
  vectors and lists."
  (:require [clojure.test.check.generators :as gen]))

(def collision-key
  "Strings with equal hashCode (and so equal hasheq): \"AaAa\", \"AaBB\", \"BBAa\" ..."
  (gen/fmap #(apply str %) (gen/vector (gen/elements ["Aa" "BB"]) 3)))

(def long-string (gen/fmap #(str "a-string-longer-than-eight-" %) gen/string-alphanumeric))

(def scalar
  (gen/frequency
   [[10 gen/small-integer]
    [5 gen/large-integer]
    [8 gen/keyword]
    [3 gen/keyword-ns]
    [6 gen/string-alphanumeric]
    [3 long-string]
    [2 (gen/fmap #(apply str %) (gen/vector gen/char 0 12))]
    [3 collision-key]
    [2 (gen/double* {:NaN? false})]
    ;; No floats among doubles: (= 2.5 (float 2.5)) but their hashes differ,
    ;; and PersistentHashMap then keeps one key or two depending on hash bits.
    [1 (gen/elements [0.0 -0.0 1.5 2.5])]
    [1 gen/boolean]
    [1 (gen/return nil)]
    [1 gen/char]
    [1 gen/symbol]
    [1 gen/uuid]
    [1 gen/ratio]
    [1 (gen/elements [1N 12345678901234567890123N (biginteger 7) (biginteger 98765432109876543210)])]
    [1 (gen/elements [1.5M 1.50M 0.0M 123456789.123456789M])]
    ;; java.time.Instant round-trips too (see slab.map.property-test), but prints
    ;; with its identity hash, so it stays out of the printing comparisons.
    [1 (gen/elements [(java.util.Date. 0) (java.util.Date. 1700000000000)])]]))

(def key-gen
  "Keys: scalars, plus ints and bigints that are = to longs, and small maps/sets."
  (gen/frequency
   [[20 scalar]
    [1 (gen/fmap int gen/small-integer)]
    [1 (gen/fmap bigint gen/small-integer)]
    [1 (gen/map gen/keyword gen/small-integer {:max-elements 3})]
    [1 (gen/set gen/small-integer {:max-elements 3})]]))

(def value-gen
  "Values: scalars and nested maps and sets, some carrying metadata."
  (gen/recursive-gen
   (fn [inner]
     (gen/frequency
      [[3 (gen/map key-gen inner {:max-elements 4})]
       [1 (gen/set scalar {:max-elements 4})]
       [1 (gen/fmap (fn [m] (with-meta m {:tag-meta (count m)}))
                    (gen/map gen/keyword inner {:max-elements 3}))]]))
   scalar))

;; --- vector elements ----------------------------------------------------------------

(def vector-scalar
  "Scalars for vector elements: mostly longs, strings short enough to live
  inline and longer ones that need a blob (some UTF-16), keywords, symbols,
  doubles, and big numbers stored as blobs."
  (gen/frequency
   [[6 gen/large-integer]
    [2 gen/small-integer]
    [3 (gen/fmap #(subs % 0 (min 8 (count %))) gen/string-alphanumeric)]    ; inline strings
    [2 (gen/fmap #(str "a longer string " %) gen/string)]                      ; blobs, some UTF-16
    [2 gen/keyword]
    [1 gen/keyword-ns]
    [1 gen/symbol]
    [2 (gen/double* {:NaN? false})]
    [1 (gen/return nil)]
    [1 gen/boolean]
    [1 gen/char]
    [1 gen/ratio]
    [1 (gen/fmap #(* (bigint %) 100000000000000000000N) gen/large-integer)]
    [1 (gen/fmap bigint gen/small-integer)]
    [1 (gen/fmap #(bigdec %) gen/small-integer)]
    [1 gen/uuid]]))

(def vector-value
  "Vector elements: vector-scalar mostly, and small nested vectors (some two
  deep, some with metadata), lists, maps and sets of them."
  (gen/frequency
   [[14 vector-scalar]
    [1 (gen/vector vector-scalar 0 6)]
    [1 (gen/vector (gen/vector vector-scalar 0 3) 0 3)]
    [1 (gen/fmap #(with-meta % {:tag :nested}) (gen/vector vector-scalar 0 3))]
    [1 (gen/fmap #(apply list %) (gen/vector vector-scalar 0 4))]
    [1 (gen/map gen/keyword vector-scalar {:max-elements 3})]
    [1 (gen/set vector-scalar {:max-elements 3})]]))

(def index-probe
  "A number that picks an index in a collection of any size n as
  (mod probe n): nearly uniform over 0..n-1, and part of the generated input,
  so a failure replays from its seed and shrinks (toward index 0)."
  (gen/choose 0 Integer/MAX_VALUE))

;; --- the whole supported value space (slab.dropin-test) ------------------------------
;; any-value, any-key and the top-level any-map, any-set, any-vector, any-list draw from
;; every kind of value slab stores; sizes stay modest (2,000 trials of each per run).

(def the-nan
  "The one Double NaN box the generators below use. clojure.core finds a NaN
  key, or an element, only through the same box (identity first), so every
  generated NaN is this box; slab's rule (a stored NaN is = to any NaN) does
  not depend on it."
  (Double/valueOf Double/NaN))

(def any-double
  (gen/frequency
   [[6 (gen/double* {:NaN? false})]
    [4 (gen/elements [the-nan -0.0 0.0 ##Inf ##-Inf 1.5 -2.5 1.0E300 Double/MIN_VALUE])]]))

(def utf16-string
  "Any UTF-16 content: BMP chars, surrogate pairs, lone surrogates."
  (gen/one-of
   [(gen/fmap #(apply str %) (gen/vector (gen/fmap char (gen/choose 0 0xFFFF)) 0 12))
    (gen/elements ["" "é" "日本語" "\uD83D\uDE00 emoji" "\uD83D" "\uDE00x" "\u0000nul" "a string longer than eight \u2603"])]))

(def very-long-string
  (gen/fmap (fn [[s n]] (apply str (repeat n (str s "-"))))
            (gen/tuple (gen/resize 8 gen/string-alphanumeric) (gen/choose 20 80))))

(def symbol-with-meta
  "Symbols carrying metadata, as the reader makes them ('foo with {:line 1})."
  (gen/one-of
   [(gen/return (with-meta 'foo {:line 1}))
    (gen/fmap (fn [[s m]] (with-meta s m))
              (gen/tuple (gen/one-of [gen/symbol gen/symbol-ns])
                         (gen/map gen/keyword (gen/one-of [gen/small-integer gen/string-alphanumeric gen/keyword])
                                  {:min-elements 1 :max-elements 2})))]))

(def any-key-scalar
  "Every scalar slab stores, except floats (a float and an = double hash
  differently, which hash maps and sets treat inconsistently; see README)."
  (gen/frequency
   [[6 gen/small-integer]
    [4 gen/large-integer]
    [1 (gen/fmap int gen/small-integer)]
    [1 (gen/fmap short gen/small-integer)]
    [1 (gen/fmap #(byte (mod % 128)) gen/small-integer)]
    [1 (gen/fmap bigint gen/small-integer)]
    [1 (gen/fmap #(* (bigint %) 100000000000000000000N) gen/large-integer)]
    [1 (gen/fmap biginteger gen/large-integer)]
    [1 gen/ratio]
    [1 (gen/fmap bigdec gen/small-integer)]
    [1 (gen/elements [1.5M 1.50M 0.0M -0.00M 123456789.123456789M 1E+3M])]
    [5 any-double]
    [4 gen/string-alphanumeric]
    [2 long-string]
    [2 utf16-string]
    [1 very-long-string]
    [2 collision-key]
    [4 gen/keyword]
    [2 gen/keyword-ns]
    [2 gen/symbol]
    [1 gen/symbol-ns]
    [2 symbol-with-meta]
    [1 gen/char]
    [1 (gen/fmap char (gen/choose 0 0xFFFF))]
    [1 gen/boolean]
    [2 (gen/return nil)]
    [1 gen/uuid]
    [1 (gen/fmap #(java.util.Date. (long %)) gen/large-integer)]
    [1 (gen/fmap (fn [[s n]] (java.time.Instant/ofEpochSecond s n))
                 (gen/tuple (gen/choose -100000000000 100000000000) (gen/choose 0 999999999)))]]))

(def any-value-scalar
  "Every scalar slab stores, floats included. (No float NaN: slab's rule
  makes it = to a double NaN, which clojure.core's identity check cannot
  mirror; slab.dropin-test checks it by hand.)"
  (gen/frequency
   [[20 any-key-scalar]
    [1 (gen/fmap float (gen/double* {:NaN? false :min -1.0E30 :max 1.0E30}))]
    [1 (gen/elements [(float -0.0) (float 2.5) Float/MAX_VALUE])]]))

(defn- sorted-coll
  "Sorted maps (of value-g values) and sorted sets; slab stores them as hash
  maps and sets."
  [value-g]
  (gen/one-of
   [(gen/fmap #(into (sorted-map) %) (gen/map gen/small-integer value-g {:max-elements 5}))
    (gen/fmap #(into (sorted-map) %) (gen/map gen/keyword value-g {:max-elements 5}))
    (gen/fmap #(into (sorted-set) %) (gen/set gen/string-alphanumeric {:max-elements 5}))
    (gen/fmap #(into (sorted-set) %) (gen/set gen/large-integer {:max-elements 5}))]))

(def small-meta
  "Metadata maps for generated collections."
  (gen/one-of [(gen/map gen/keyword (gen/one-of [gen/small-integer gen/keyword gen/string-alphanumeric
                                                 (gen/vector gen/small-integer 0 2)])
                        {:min-elements 1 :max-elements 2})
               (gen/return {:line 1 :column 2})]))

(defn- seqs-of
  "Sequential values that are not vectors: lists, lazy seqs, and other seqs."
  [value-g]
  (gen/one-of
   [(gen/fmap #(apply list %) (gen/vector value-g 0 5))
    (gen/fmap #(map identity %) (gen/vector value-g 0 5))
    (gen/fmap #(lazy-seq %) (gen/vector value-g 0 5))
    (gen/fmap seq (gen/vector value-g 1 5))
    (gen/fmap (fn [[x xs]] (cons x xs)) (gen/tuple value-g (gen/vector value-g 0 3)))
    (gen/fmap #(range %) (gen/choose 0 4))]))

(defn- colls-of
  "Maps, sets, vectors, lists, lazy seqs and (when sorted?) sorted
  collections of key-g keys and value-g values, a quarter of them carrying
  metadata. No sorted collections among keys: clojure.core itself throws
  ClassCastException when a sorted map meets an equal-hash key whose keys
  it cannot compare with its own."
  [key-g value-g sorted?]
  (let [plain (gen/frequency
               (cond-> [[3 (gen/map key-g value-g {:max-elements 5})]
                        [2 (gen/set key-g {:max-elements 5})]
                        [3 (gen/vector value-g 0 5)]
                        [3 (seqs-of value-g)]]
                 sorted? (conj [1 (sorted-coll value-g)])))]
    (gen/frequency
     [[3 plain]
      [1 (gen/fmap (fn [[c m]] (with-meta c m)) (gen/tuple plain small-meta))]])))

(def any-key
  "Map keys and set elements from the whole value space (no floats, no
  sorted collections): scalars, and collections of any kind and depth, some
  with metadata."
  (gen/scale #(min % 8) (gen/recursive-gen (fn [inner] (colls-of inner inner false)) any-key-scalar)))

(def any-value
  "A value from the whole space slab stores: every scalar (NaN, -0.0,
  floats, symbols with metadata, UTF-16 strings, ...), and maps, sets,
  vectors, lists, lazy seqs and sorted collections of them at any depth,
  some with metadata."
  (gen/scale #(min % 10) (gen/recursive-gen (fn [inner] (colls-of any-key inner true)) any-value-scalar)))

(defn- with-some-meta [g]
  (gen/frequency [[3 g] [1 (gen/fmap (fn [[c m]] (with-meta c m)) (gen/tuple g small-meta))]]))

(def any-map
  "Top-level maps: array maps, hash maps (of scalars, up to 40 entries),
  colliding keys, sorted maps, some with metadata."
  (with-some-meta
    (gen/frequency
     [[6 (gen/map any-key any-value {:max-elements 6})]
      [1 (gen/map any-key-scalar any-value-scalar {:min-elements 9 :max-elements 40})]
      [1 (gen/map collision-key any-value {:max-elements 8})]
      [1 (gen/fmap #(into (sorted-map) %) (gen/map gen/small-integer any-value {:max-elements 8}))]
      [1 (gen/fmap #(into (sorted-map) %) (gen/map gen/string-alphanumeric any-value {:max-elements 8}))]])))

(def any-set
  "Top-level sets: hash sets of any keys, of scalars (up to 40), of colliding
  strings, sorted sets, some with metadata."
  (with-some-meta
    (gen/frequency
     [[6 (gen/set any-key {:max-elements 6})]
      [1 (gen/set any-key-scalar {:min-elements 9 :max-elements 40})]
      [1 (gen/set collision-key {:max-elements 8})]
      [1 (gen/fmap #(into (sorted-set) %) (gen/set gen/large-integer {:max-elements 10}))]
      [1 (gen/fmap #(into (sorted-set) %) (gen/set gen/keyword {:max-elements 10}))]])))

(def any-vector
  "Top-level vectors: of any values, of 25-70 scalars (past the 32-wide
  tail), of ~1,040 longs (a two-level trie), some with metadata."
  (with-some-meta
    (gen/frequency
     [[6 (gen/vector any-value 0 6)]
      [1 (gen/vector any-value-scalar 25 70)]
      [1 (gen/fmap #(vec (range %)) (gen/choose 1020 1060))]])))

(def any-list
  "Top-level lists and seqs: lists, lazy seqs, other seqs, some with metadata."
  (with-some-meta
    (gen/frequency
     [[6 (seqs-of any-value)]
      [2 (gen/fmap #(apply list %) (gen/vector any-value 0 6))]
      [1 (gen/fmap #(map identity %) (gen/vector any-value-scalar 25 70))]])))
