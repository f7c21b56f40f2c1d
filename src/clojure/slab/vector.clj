(ns slab.vector
  "Shared persistent vectors: `SharedVector` and `TransientSharedVector`,
  drop-ins for clojure.core's vector and its transient whose nodes live in
  a slab segment (see slab.codec.VecNodes). The types hold no algorithms:
  each method checks its handle, calls into Java and keeps the handle
  reachable until the call returns (`fenced`).

  A stored list (codec kind LIST) is decoded into a
  clojure.lang.PersistentList: it is `list?`, `seq?` and `=` to what was
  stored, at the cost of copying it to the heap on each read."
  (:refer-clojure :exclude [vector vec])
  (:require [slab.impl.common :as common :refer [fenced]])
  (:import (clojure.lang AFn APersistentVector$RSeq ArityException IPersistentMap MapEntry
                         PersistentList RT Util)
           (java.util Arrays Collection)
           (slab.codec Codec Root SharedColl Tags VecNodes VecReads VecSeq VecTransient)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

;; --- IFn boilerplate -----------------------------------------------------------

(defn- arity-error-methods
  "invoke methods for every arity but 1, throwing ArityException as AFn's do,
  plus applyTo, call and run."
  [class-name]
  (concat
   (for [n (range 0 21) :when (not= n 1)
         :let [args (clojure.core/vec (repeatedly n gensym))]]
     `(~'invoke [this# ~@args] (throw (ArityException. ~n ~class-name))))
   (let [args (clojure.core/vec (repeatedly 20 gensym))
         more (gensym "more")]
     [`(~'invoke [this# ~@args ~(with-meta more {:tag 'objects})]
        (throw (ArityException. (+ 20 (alength ~more)) ~class-name)))])
   [`(~'applyTo [this# args#] (AFn/applyToHelper this# args#))
    `(~'call [this#] (.invoke this#))
    `(~'run [this#] (.invoke this#))]))

(defmacro ^:private deftype-with-arities
  "deftype, where the form (arity-errors) in the body stands for the
  methods of `arity-error-methods`."
  [type-name fields & body]
  (let [class-name (str (namespace-munge *ns*) "." type-name)]
    `(deftype ~type-name ~fields
       ~@(mapcat (fn [x] (if (and (seq? x) (= 'arity-errors (first x)))
                           (arity-error-methods class-name)
                           [x]))
                 body))))

(defn- key-error []
  (IllegalArgumentException. "Key must be integer"))

(defmacro ^:private cnt
  "The element count of a Root, as an int, after checking that the handle
  is usable (a heap field: no fence needed)."
  [root]
  `(let [r# ~(with-meta root {:tag `Root})]
     (.check r#)
     (int (.-count r#))))

;; --- SharedVector ---------------------------------------------------------------

(declare ->TransientSharedVector)

(deftype-with-arities SharedVector [^Root root meta ^:unsynchronized-mutable ^int hcode]
  SharedColl
  (slabRoot [_] root)
  (slabKind [_] Tags/VECTOR)

  clojure.lang.IMeta
  (meta [_] meta)

  clojure.lang.IObj
  (withMeta [this m]
    (if (identical? m meta) this (SharedVector. root m -1)))

  clojure.lang.Counted
  (count [_] (cnt root))

  clojure.lang.IPersistentCollection
  (cons [_ x] (fenced root (SharedVector. (VecNodes/cons root x) meta -1)))
  (empty [_] (SharedVector. (VecNodes/empty (.-codec root) (.-kind root)) meta -1))
  (equiv [_ o] (fenced root (VecReads/equiv root o)))

  clojure.lang.Seqable
  (seq [_] (fenced root (VecSeq/create root 0)))

  clojure.lang.Reversible
  (rseq [this]
    (let [n (cnt root)]
      (when (pos? n) (APersistentVector$RSeq. this (dec n)))))

  clojure.lang.Indexed
  (nth [_ i] (fenced root (VecNodes/nth root i)))
  (nth [_ i not-found] (fenced root (VecNodes/nth root i not-found)))

  clojure.lang.ILookup
  (valAt [this k] (.valAt this k nil))
  (valAt [_ k not-found]
    (if (Util/isInteger k)
      (fenced root (VecNodes/nth root (.intValue ^Number k) not-found))
      not-found))

  clojure.lang.Associative
  (containsKey [_ k]
    (and (Util/isInteger k)
         (let [i (.intValue ^Number k)]
           (and (>= i 0) (< i (cnt root))))))
  (entryAt [_ k]
    (when (Util/isInteger k)
      (let [i (.intValue ^Number k)]
        (fenced root
          (when (and (>= i 0) (< i (cnt root)))
            (MapEntry/create k (VecNodes/nth root i)))))))
  (assoc [_ k v]
    (if (Util/isInteger k)
      (fenced root (SharedVector. (VecNodes/assocN root (.intValue ^Number k) v) meta -1))
      (throw (key-error))))

  clojure.lang.IPersistentStack
  (peek [_]
    (fenced root
      (let [n (cnt root)]
        (when (pos? n) (VecNodes/nth root (dec n))))))
  (pop [_] (fenced root (SharedVector. (VecNodes/pop root) meta -1)))

  clojure.lang.IPersistentVector
  (length [_] (cnt root))
  (assocN [_ i v] (fenced root (SharedVector. (VecNodes/assocN root i v) meta -1)))

  clojure.lang.Sequential

  clojure.lang.IFn
  (invoke [_ k]
    (if (Util/isInteger k)
      (fenced root (VecNodes/nth root (.intValue ^Number k)))
      (throw (key-error))))
  (arity-errors)

  clojure.lang.IHashEq
  (hasheq [_] (.hasheq root))

  clojure.lang.IKVReduce
  (kvreduce [_ f init] (VecReads/kvreduce root f init))

  clojure.lang.IReduceInit
  (reduce [_ f init] (VecReads/reduce root 0 ^clojure.lang.IFn f init))

  clojure.lang.IReduce
  (reduce [_ f] (VecReads/reduce root 0 ^clojure.lang.IFn f))

  clojure.lang.IDrop
  (drop [this n]
    (fenced root
      (cond (neg? n) this
            (< n (cnt root)) (VecSeq/create root n)
            :else nil)))

  clojure.lang.IEditableCollection
  (asTransient [_] (->TransientSharedVector (VecTransient/of root)))

  Comparable
  (compareTo [_ o] (fenced root (VecReads/compare root o)))

  Iterable
  (iterator [_] (fenced root (VecReads/iterator root)))

  java.util.RandomAccess

  java.util.List
  (size [_] (cnt root))
  (isEmpty [_] (zero? (cnt root)))
  (contains [_ o] (not= -1 (VecReads/indexOf root o)))
  (containsAll [this c] (every? #(.contains this %) c))
  (toArray [_] (VecReads/toArray root))
  (^objects toArray [_ ^objects a]
    (let [src (VecReads/toArray root)
          n (alength src)]
      (if (>= (alength a) n)
        (do (System/arraycopy src 0 a 0 n)
            (when (> (alength a) n) (aset a n nil))
            a)
        src)))
  (get [_ i] (fenced root (VecNodes/nth root i)))
  (indexOf [_ o] (VecReads/indexOf root o))
  (lastIndexOf [_ o] (VecReads/lastIndexOf root o))
  (listIterator [_] (fenced root (VecReads/listIterator root 0)))
  (listIterator [_ i] (fenced root (VecReads/listIterator root i)))
  (subList [this from to] (RT/subvec this from to))
  (add [_ _o] (throw (UnsupportedOperationException.)))
  (^void add [_ ^int _i _o] (throw (UnsupportedOperationException.)))
  (addAll [_ _c] (throw (UnsupportedOperationException.)))
  (addAll [_ _i _c] (throw (UnsupportedOperationException.)))
  (^boolean remove [_ ^Object _o] (throw (UnsupportedOperationException.)))
  (^Object remove [_ ^int _i] (throw (UnsupportedOperationException.)))
  (removeAll [_ _c] (throw (UnsupportedOperationException.)))
  (retainAll [_ _c] (throw (UnsupportedOperationException.)))
  (clear [_] (throw (UnsupportedOperationException.)))
  (set [_ _i _o] (throw (UnsupportedOperationException.)))

  Object
  (hashCode [_]
    (if (== hcode -1)
      (let [h (VecReads/javaHashCode root)]
        (set! hcode (int h))
        h)
      hcode))
  (equals [this o] (VecReads/equals root this o))
  (toString [this] (RT/printString this)))

;; --- TransientSharedVector ---------------------------------------------------------

(deftype-with-arities TransientSharedVector [^VecTransient t]
  clojure.lang.Counted
  (count [_] (.count t))

  clojure.lang.ITransientCollection
  (conj [this x] (.conj t x) this)
  (persistent [_] (SharedVector. (.persistent t) nil -1))

  clojure.lang.ITransientAssociative
  (assoc [this k v]
    (if (Util/isInteger k)
      (do (.assocN t (.intValue ^Number k) v) this)
      (throw (key-error))))

  clojure.lang.ITransientVector
  (assocN [this i v] (.assocN t i v) this)
  (pop [this] (.pop t) this)

  clojure.lang.Indexed
  (nth [_ i] (.nth t i))
  (nth [_ i not-found] (.nth t i not-found))

  clojure.lang.ILookup
  (valAt [this k] (.valAt this k nil))
  (valAt [_ k not-found]
    (let [n (.count t)]
      (if (Util/isInteger k)
        (let [i (.intValue ^Number k)]
          (if (and (>= i 0) (< i n)) (.nth t i) not-found))
        not-found)))

  clojure.lang.ITransientAssociative2
  (containsKey [_ k]
    (and (Util/isInteger k)
         (let [i (.intValue ^Number k)]
           (and (>= i 0) (< i (.count t))))))
  (entryAt [_ k]
    (when (Util/isInteger k)
      (let [i (.intValue ^Number k)]
        (when (and (>= i 0) (< i (.count t)))
          (MapEntry/create k (.nth t i))))))

  clojure.lang.IFn
  (invoke [_ k]
    (if (Util/isInteger k)
      (.nth t (.intValue ^Number k))
      (throw (key-error))))
  (arity-errors))

(alter-meta! #'->SharedVector assoc :private true)
(alter-meta! #'->TransientSharedVector assoc :private true)

(defmethod print-method SharedVector [v ^java.io.Writer w]
  ((get-method print-method clojure.lang.IPersistentVector) v w))

;; --- decoding nested collections ---------------------------------------------------

(defn- list-of
  "A PersistentList of a stored list's elements; gives the handle's counts back at once."
  [^Root root meta]
  (let [l (try (PersistentList/create (Arrays/asList (VecReads/toArray root)))
               (finally (.release root)))]
    (if meta (with-meta l meta) l)))

(common/register-maker! Tags/VECTOR (fn [root meta] (SharedVector. root meta -1)))
(common/register-maker! Tags/LIST list-of)

;; --- constructors --------------------------------------------------------------------

(defn vector-in
  "A shared vector of xs in the segment of `codec`."
  [^Codec codec & xs]
  (SharedVector. (VecNodes/build codec xs Tags/VECTOR) nil -1))

(defn vec-in
  "A shared vector of coll's elements in the segment of `codec`. A shared
  vector of that segment comes back without metadata, sharing its nodes."
  [^Codec codec coll]
  (if (and (instance? SharedVector coll)
           (identical? codec (.-codec ^Root (.slabRoot ^SharedVector coll))))
    (with-meta coll nil)
    (SharedVector. (VecNodes/build codec coll Tags/VECTOR) nil -1)))

(defn vector
  "A shared vector of xs in the default segment: like clojure.core/vector."
  [& xs]
  (SharedVector. (VecNodes/build (common/default-codec) xs Tags/VECTOR) nil -1))

(defn vec
  "A shared vector of coll's elements in the default segment: like clojure.core/vec."
  [coll]
  (vec-in (common/default-codec) coll))

(defn shared-vector?
  "True when x is a SharedVector."
  [x]
  (instance? SharedVector x))
