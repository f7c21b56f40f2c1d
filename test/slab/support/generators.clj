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
