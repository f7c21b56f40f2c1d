(ns slab.set
  "SharedSet and TransientSharedSet: facades over slab.map.Maps (a set is
  a CHAMP of keys without values)."
  (:require [slab.impl.common :as common :refer [deftype-with-arities]])
  (:import (slab.ref Handle Heap SharedColl)
           (slab.map Maps MapTransient)
           (slab.value Tags)
           (clojure.lang RT Util)))

(set! *warn-on-reflection* true)

(def ^:private ^:const unknown-hash Long/MIN_VALUE)

(declare ->SharedSet ->TransientSharedSet)

(deftype-with-arities SharedSet [^Handle root meta ^:unsynchronized-mutable ^long jhash]
  SharedColl
  (slabHandle [_] root)
  (slabKind [_] Tags/SET)

  clojure.lang.IPersistentSet
  (disjoin [this k]
    (let [r (Maps/dissoc root k)]
      (if (identical? r root) this (SharedSet. r meta unknown-hash))))
  (contains [_ k] (Maps/containsKey root k))
  (get [_ k] (Maps/valAt root k nil))
  (count [_] (Maps/count root))
  (cons [this k]
    (let [r (Maps/conj root k)]
      (if (identical? r root) this (SharedSet. r meta unknown-hash))))
  (empty [_] (SharedSet. (Maps/empty (.heap root) Tags/SET) meta unknown-hash))
  (equiv [_ o] (Maps/equiv root o))
  (seq [_] (Maps/seq root))

  clojure.lang.IHashEq
  (hasheq [_] (Maps/hasheq root))

  clojure.lang.IObj
  (meta [_] meta)
  (withMeta [this m] (if (identical? m meta) this (SharedSet. root m jhash)))

  ;; As PersistentHashSet: one argument only (its transient takes a not-found too).
  clojure.lang.IFn
  (invoke [_ k] (Maps/valAt root k nil))
  (arity-errors 1)

  clojure.lang.IReduceInit
  (reduce [_ f init] (Maps/reduce root f init))

  clojure.lang.IReduce
  (reduce [_ f] (Maps/reduce root ^clojure.lang.IFn f))

  clojure.lang.IEditableCollection
  (asTransient [_] (->TransientSharedSet (Maps/asTransient root)))

  java.util.Set
  (size [_] (Maps/count root))
  (isEmpty [_] (zero? (Maps/count root)))
  (containsAll [_ c] (every? #(Maps/containsKey root %) c))
  (iterator [_] (Maps/keyIterator root))
  (toArray [this] (RT/seqToArray (seq this)))
  (^objects toArray [this ^objects a] (RT/seqToPassedArray (seq this) a))
  (add [_ _] (throw (UnsupportedOperationException.)))
  (remove [_ _] (throw (UnsupportedOperationException.)))
  (addAll [_ _] (throw (UnsupportedOperationException.)))
  (retainAll [_ _] (throw (UnsupportedOperationException.)))
  (removeAll [_ _] (throw (UnsupportedOperationException.)))
  (clear [_] (throw (UnsupportedOperationException.)))

  Object
  (equals [_ o] (Maps/javaEquals root o))
  (hashCode [_]
    (when (== jhash unknown-hash) (set! jhash (long (Maps/javaHashCode root))))
    (unchecked-int jhash))
  (toString [this] (RT/printString this)))

(deftype-with-arities TransientSharedSet [^MapTransient t]
  clojure.lang.ITransientSet
  (conj [this k] (.conj t k) this)
  (disjoin [this k] (.dissoc t k) this)
  (contains [_ k] (.containsKey t k))
  (get [_ k] (.valAt t k nil))
  (count [_] (int (.count t)))
  (persistent [_] (SharedSet. (.persistent t) nil unknown-hash))

  clojure.lang.IFn
  (invoke [_ k] (.valAt t k nil))
  (invoke [_ k not-found] (.valAt t k not-found))
  (arity-errors 1 2))

(defn- make [^Handle root meta] (SharedSet. root meta unknown-hash))

(common/register-maker! Tags/SET make)

(defn shared-set?
  "True if x is a slab set."
  [x]
  (instance? SharedSet x))

(defn hash-set-in
  "A slab set of the given keys, in the segment of heap."
  [^Heap heap ks]
  (SharedSet. (Maps/build heap Tags/SET (seq ks)) nil unknown-hash))

(alter-meta! #'->SharedSet assoc :private true)
(alter-meta! #'->TransientSharedSet assoc :private true)

(defmethod print-method SharedSet [s ^java.io.Writer w]
  ((get-method print-method clojure.lang.IPersistentSet) s w))
