(ns slab.map
  "SharedMap and TransientSharedMap: facades over slab.map.Maps. Every
  method checks and fences its handle inside the Java call it delegates to."
  (:require [slab.impl.common :as common :refer [deftype-with-arities]])
  (:import (slab.ref Handle Heap SharedColl)
           (slab.map Maps MapTransient MapViews)
           (slab.value Tags)
           (clojure.lang IPersistentMap IPersistentVector MapEntry RT Util
                         IMapIterable ITransientMap ISeq)
           (java.util Map Map$Entry)))

(set! *warn-on-reflection* true)

(declare ->SharedMap ->TransientSharedMap)

(defn- cons-entries
  "APersistentMap.cons: an entry, a [k v] vector, or a collection of entries."
  [m o assoc-fn]
  (cond
    (instance? Map$Entry o) (assoc-fn m (.getKey ^Map$Entry o) (.getValue ^Map$Entry o))
    (instance? IPersistentVector o)
    (let [^IPersistentVector v o]
      (when-not (== 2 (.count v))
        (throw (IllegalArgumentException. "Vector arg to map conj must be a pair")))
      (assoc-fn m (.nth v 0) (.nth v 1)))
    :else
    (loop [m m, s (RT/seq o)]
      (if s
        (let [^Map$Entry e (.first ^ISeq s)]
          (recur (assoc-fn m (.getKey e) (.getValue e)) (.next ^ISeq s)))
        m))))

(def ^:private ^:const unknown-hash Long/MIN_VALUE)

(deftype-with-arities SharedMap [^Handle root meta ^:unsynchronized-mutable ^long jhash]
  SharedColl
  (slabHandle [_] root)
  (slabKind [_] Tags/MAP)

  IPersistentMap
  (assoc [this k v]
    (let [r (Maps/assoc root k v)]
      (if (identical? r root) this (SharedMap. r meta unknown-hash))))
  (assocEx [this k v]
    (when (Maps/containsKey root k)
      (throw (Util/runtimeException "Key already present")))
    (.assoc this k v))
  (without [this k]
    (let [r (Maps/dissoc root k)]
      (if (identical? r root) this (SharedMap. r meta unknown-hash))))
  (containsKey [_ k] (Maps/containsKey root k))
  (entryAt [_ k] (Maps/entryAt root k))
  (count [_] (Maps/count root))
  (cons [this o] (cons-entries this o (fn [^IPersistentMap m k v] (.assoc m k v))))
  (empty [_] (SharedMap. (Maps/empty (.heap root) Tags/MAP) meta unknown-hash))
  (equiv [_ o] (Maps/equiv root o))
  (seq [_] (Maps/seq root))
  (valAt [_ k] (Maps/valAt root k nil))
  (valAt [_ k not-found] (Maps/valAt root k not-found))
  (iterator [_] (Maps/iterator root))

  IMapIterable
  (keyIterator [_] (Maps/keyIterator root))
  (valIterator [_] (Maps/valIterator root))

  clojure.lang.MapEquivalence

  clojure.lang.IHashEq
  (hasheq [_] (Maps/hasheq root))

  clojure.lang.IObj
  (meta [_] meta)
  (withMeta [this m] (if (identical? m meta) this (SharedMap. root m jhash)))

  clojure.lang.IFn
  (invoke [_ k] (Maps/valAt root k nil))
  (invoke [_ k not-found] (Maps/valAt root k not-found))
  (arity-errors 1 2)

  clojure.lang.IKVReduce
  (kvreduce [_ f init] (Maps/kvreduce root f init))

  clojure.lang.IReduceInit
  (reduce [_ f init] (Maps/reduce root f init))

  clojure.lang.IReduce
  (reduce [_ f] (Maps/reduce root ^clojure.lang.IFn f))

  clojure.lang.IEditableCollection
  (asTransient [_] (->TransientSharedMap (Maps/asTransient root)))

  Map
  (size [_] (Maps/count root))
  (isEmpty [_] (zero? (Maps/count root)))
  (containsValue [this v] (.contains (MapViews/values this) v))
  (get [_ k] (Maps/valAt root k nil))
  (put [_ _ _] (throw (UnsupportedOperationException.)))
  (remove [_ _] (throw (UnsupportedOperationException.)))
  (putAll [_ _] (throw (UnsupportedOperationException.)))
  (clear [_] (throw (UnsupportedOperationException.)))
  (keySet [this] (MapViews/keySet this))
  (values [this] (MapViews/values this))
  (entrySet [this] (MapViews/entrySet this))

  Object
  (equals [_ o] (Maps/javaEquals root o))
  (hashCode [_]
    (when (== jhash unknown-hash) (set! jhash (long (Maps/javaHashCode root))))
    (unchecked-int jhash))
  (toString [this] (RT/printString this)))

(deftype-with-arities TransientSharedMap [^MapTransient t]
  clojure.lang.ITransientMap
  (assoc [this k v] (.assoc t k v) this)
  (without [this k] (.dissoc t k) this)
  (persistent [_] (SharedMap. (.persistent t) nil unknown-hash))
  (conj [this o] (cons-entries this o (fn [^TransientSharedMap m k v] (.assoc m k v))))
  (count [_] (int (.count t)))
  (valAt [_ k] (.valAt t k nil))
  (valAt [_ k not-found] (.valAt t k not-found))

  clojure.lang.ITransientAssociative2
  (containsKey [_ k] (.containsKey t k))
  (entryAt [_ k]
    (let [none (Object.)
          v (.valAt t k none)]
      (when-not (identical? v none) (MapEntry/create k v))))

  clojure.lang.IFn
  (invoke [_ k] (.valAt t k nil))
  (invoke [_ k not-found] (.valAt t k not-found))
  (arity-errors 1 2))

(defn- make [^Handle root meta] (SharedMap. root meta unknown-hash))

(common/register-maker! Tags/MAP make)

(defn shared-map?
  "True if x is a slab map."
  [x]
  (instance? SharedMap x))

(defn get-long
  "See slab.core/get-long: m a slab map."
  ^long [^SharedMap m k not-found]
  (Maps/getLong (.-root m) k not-found))

(defn get-in-map
  "See slab.core/get-in: m a slab map, ks not empty."
  [^SharedMap m ks not-found]
  (Maps/getIn (.-root m) ks not-found))

(defn reduce-kv-in-map
  "See slab.core/reduce-kv-in: m a slab map."
  [^SharedMap m ks f init]
  (Maps/kvreduceIn (.-root m) ks f init))

(defn hash-map-in
  "A slab map with the given keys and values, in the segment of heap."
  [^Heap heap kvs]
  (SharedMap. (Maps/build heap Tags/MAP (seq kvs)) nil unknown-hash))

(alter-meta! #'->SharedMap assoc :private true)
(alter-meta! #'->TransientSharedMap assoc :private true)

(defmethod print-method SharedMap [m ^java.io.Writer w]
  ((get-method print-method clojure.lang.IPersistentMap) m w))
