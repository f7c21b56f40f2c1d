(ns slab.vector
  "Shared persistent vectors: `SharedVector` and `TransientSharedVector`,
  drop-ins for clojure.core's vector and its transient whose nodes live in
  a slab segment (see slab.vector.Vectors). The types hold no algorithms:
  each method delegates to Java, which checks the handle and keeps it
  reachable until the call returns.

  A vector-of (unboxed numbers, as clojure.core/vector-of) is a
  SharedVector too: its handle says so (kind VECTOR_OF and an element
  type), and the Java core keeps its elements unboxed in leaves of
  primitives, casting what is conj'd or assoc'd as clojure.core does.

  A stored list (tag LIST) is decoded into a
  clojure.lang.PersistentList: it is `list?`, `seq?` and `=` to what was
  stored, at the cost of copying it to the heap on each read."
  (:refer-clojure :exclude [vector vec])
  (:require [slab.impl.common :as common :refer [deftype-with-arities]])
  (:import (clojure.lang APersistentVector$RSeq MapEntry PersistentList RT Util)
           (java.util Arrays)
           (slab.ref Handle Heap SharedColl)
           (slab.value Tags)
           (slab.vector Vectors VecTransient)))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(defn- key-error []
  (IllegalArgumentException. "Key must be integer"))

;; --- SharedVector ---------------------------------------------------------------

(declare ->TransientSharedVector)

(deftype-with-arities SharedVector [^Handle root meta ^:unsynchronized-mutable ^int hcode]
  SharedColl
  (slabHandle [_] root)
  (slabKind [_] (if (== (.-kind root) Tags/VECTOR_OF) Tags/VECTOR_OF Tags/VECTOR))

  clojure.lang.IMeta
  (meta [_] meta)

  clojure.lang.IObj
  (withMeta [this m]
    (if (identical? m meta) this (SharedVector. root m -1)))

  clojure.lang.Counted
  (count [_] (Vectors/count root))

  clojure.lang.IPersistentCollection
  (cons [_ x] (SharedVector. (Vectors/cons root x) meta -1))
  ;; clojure.core's vector keeps metadata on empty, its vector-of does not
  (empty [_] (SharedVector. (Vectors/emptyLike root) (when (== (.-kind root) Tags/VECTOR) meta) -1))
  (equiv [_ o] (Vectors/equiv root o))

  clojure.lang.Seqable
  (seq [_] (Vectors/seq root 0))

  clojure.lang.Reversible
  (rseq [this]
    (let [n (Vectors/count root)]
      (when (pos? n) (APersistentVector$RSeq. this (dec n)))))

  clojure.lang.Indexed
  (nth [_ i] (Vectors/nth root i))
  (nth [_ i not-found] (Vectors/nth root i not-found))

  clojure.lang.ILookup
  (valAt [this k] (.valAt this k nil))
  (valAt [_ k not-found]
    (if (Util/isInteger k)
      (Vectors/nth root (.intValue ^Number k) not-found)
      not-found))

  clojure.lang.Associative
  (containsKey [_ k]
    (and (Util/isInteger k)
         (let [i (.intValue ^Number k)]
           (and (>= i 0) (< i (Vectors/count root))))))
  (entryAt [_ k]
    (when (Util/isInteger k)
      (let [i (.intValue ^Number k)]
        (when (and (>= i 0) (< i (Vectors/count root)))
          (MapEntry/create k (Vectors/nth root i))))))
  (assoc [_ k v]
    (if (Util/isInteger k)
      (SharedVector. (Vectors/assocN root (.intValue ^Number k) v) meta -1)
      (throw (key-error))))

  clojure.lang.IPersistentStack
  (peek [_] (Vectors/peek root))
  (pop [_] (SharedVector. (Vectors/pop root) meta -1))

  clojure.lang.IPersistentVector
  (length [_] (Vectors/count root))
  (assocN [_ i v] (SharedVector. (Vectors/assocN root i v) meta -1))

  clojure.lang.Sequential

  clojure.lang.IFn
  (invoke [_ k]
    (if (Util/isInteger k)
      (Vectors/nth root (.intValue ^Number k))
      (throw (key-error))))
  (arity-errors 1)

  clojure.lang.IHashEq
  (hasheq [_] (Vectors/hasheq root))

  clojure.lang.IKVReduce
  (kvreduce [_ f init] (Vectors/kvreduce root f init))

  clojure.lang.IReduceInit
  (reduce [_ f init] (Vectors/reduce root 0 ^clojure.lang.IFn f init))

  clojure.lang.IReduce
  (reduce [_ f] (Vectors/reduce root 0 ^clojure.lang.IFn f))

  clojure.lang.IDrop
  (drop [this n] (if (neg? n) (do (Vectors/count root) this) (Vectors/drop root n)))

  clojure.lang.IEditableCollection
  (asTransient [_] (->TransientSharedVector (Vectors/asTransient root)))

  Comparable
  (compareTo [_ o] (Vectors/compare root o))

  Iterable
  (iterator [_] (Vectors/iterator root))

  java.util.RandomAccess

  java.util.List
  (size [_] (Vectors/count root))
  (isEmpty [_] (zero? (Vectors/count root)))
  (contains [_ o] (not= -1 (Vectors/indexOf root o)))
  (containsAll [this c] (every? #(.contains this %) c))
  (toArray [_] (Vectors/toArray root))
  (^objects toArray [_ ^objects a]
    (let [src (Vectors/toArray root)
          n (alength src)]
      (if (>= (alength a) n)
        (do (System/arraycopy src 0 a 0 n)
            (when (> (alength a) n) (aset a n nil))
            a)
        src)))
  (get [_ i] (Vectors/nth root i))
  (indexOf [_ o] (Vectors/indexOf root o))
  (lastIndexOf [_ o] (Vectors/lastIndexOf root o))
  (listIterator [_] (Vectors/listIterator root 0))
  (listIterator [_ i] (Vectors/listIterator root i))
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
      (let [h (Vectors/javaHashCode root)]
        (set! hcode (int h))
        h)
      hcode))
  (equals [this o] (Vectors/equals root this o))
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
  (arity-errors 1))

(alter-meta! #'->SharedVector assoc :private true)
(alter-meta! #'->TransientSharedVector assoc :private true)

(defmethod print-method SharedVector [v ^java.io.Writer w]
  ((get-method print-method clojure.lang.IPersistentVector) v w))

;; --- decoding nested collections ---------------------------------------------------

(defn- list-of
  "A PersistentList of a stored list's elements. Collections among them
  borrow the handle's counts (they hold the handle), so the handle is left
  to the Cleaner: releasing it here would void them."
  [^Handle root meta]
  (let [l (PersistentList/create (Arrays/asList (Vectors/toArray root)))]
    (if meta (with-meta l meta) l)))

(common/register-maker! Tags/VECTOR (fn [root meta] (SharedVector. root meta -1)))
(common/register-maker! Tags/VECTOR_OF (fn [root meta] (SharedVector. root meta -1)))
(common/register-maker! Tags/LIST list-of)

;; --- constructors --------------------------------------------------------------------

(defn vector-in
  "A shared vector of xs in the segment of `heap`."
  [^Heap heap & xs]
  (SharedVector. (Vectors/build heap xs Tags/VECTOR) nil -1))

(defn vec-in
  "A shared vector of coll's elements in the segment of `heap`. A shared
  vector of that segment comes back without metadata, sharing its nodes."
  [^Heap heap coll]
  (if (and (instance? SharedVector coll)
           (identical? heap (.-heap ^Handle (.slabHandle ^SharedVector coll)))
           (== Tags/VECTOR (.-kind ^Handle (.slabHandle ^SharedVector coll))))
    (with-meta coll nil)
    (SharedVector. (Vectors/build heap coll Tags/VECTOR) nil -1)))

(defn vector
  "A shared vector of xs in the default segment: like clojure.core/vector."
  [& xs]
  (SharedVector. (Vectors/build (common/default-heap) xs Tags/VECTOR) nil -1))

(defn vec
  "A shared vector of coll's elements in the default segment: like clojure.core/vec."
  [coll]
  (vec-in (common/default-heap) coll))

(defn vector-of-in
  "A shared vector-of of element type t (:long, :double, :int, :float,
  :short, :char, :byte or :boolean) holding xs, in the segment of `heap`."
  [^Heap heap t xs]
  (SharedVector. (Vectors/buildOf heap t xs) nil -1))

(defn shared-vector?
  "True when x is a SharedVector (a vector or a vector-of)."
  [x]
  (instance? SharedVector x))

(defn nth-long
  "See slab.core/nth-long: v a slab vector."
  ^long [^SharedVector v ^long i]
  (Vectors/nthLong (.-root v) i))

(defn reduce-leaves
  "See slab.core/reduce-leaves."
  [f init ^SharedColl v]
  (Vectors/reduceLeaves (.slabHandle v) f init))

(defn element-type
  "The element type of a shared vector-of (:double ...), nil for any other value."
  [x]
  (when (instance? SharedVector x)
    (Vectors/elemType (.slabHandle ^SharedVector x))))
