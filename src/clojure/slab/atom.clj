(ns slab.atom
  "SharedAtom: an IAtom2 over a cell in a segment (a named root, or an
  anonymous cell). Every swap publishes by compare-and-set in the segment,
  so atoms in different processes on the same named root see one value.
  Watches and validators are per atom object: watches fire in the process
  that made the change."
  (:import (slab.share AtomCell Cells Cells$Snapshot Cells$Swapped Sharing)
           (clojure.lang IFn IPersistentMap)))

(set! *warn-on-reflection* true)

(declare ->SharedAtom swap-vals*)

(defn- notify [this watches old new]
  (doseq [[k f] watches]
    (.invoke ^IFn f k this old new)))

(deftype SharedAtom [^AtomCell cell
                     ^:volatile-mutable ^IFn validator
                     watches   ; a clojure.core atom of key -> fn
                     ^:volatile-mutable meta]
  clojure.lang.IDeref
  (deref [_] (.value (Cells/read (.sharing cell) (.word cell))))

  clojure.lang.IAtom
  (swap [this f] (.newValue ^Cells$Swapped (swap-vals* this f nil)))
  (swap [this f x] (.newValue ^Cells$Swapped (swap-vals* this f (object-array [x]))))
  (swap [this f x y] (.newValue ^Cells$Swapped (swap-vals* this f (object-array [x y]))))
  (swap [this f x y more] (.newValue ^Cells$Swapped (swap-vals* this f (object-array (list* x y more)))))
  (compareAndSet [this old new]
    (let [ok (Cells/compareAndSet (.sharing cell) (.word cell) old new validator)]
      (when (and ok (seq @watches)) (notify this @watches old new))
      ok))
  (reset [this v]
    (let [old (when (seq @watches) @this)]
      (Cells/reset (.sharing cell) (.word cell) v validator)
      (when (seq @watches) (notify this @watches old v))
      v))

  clojure.lang.IAtom2
  (swapVals [this f] (let [^Cells$Swapped s (swap-vals* this f nil)] [(.oldValue s) (.newValue s)]))
  (swapVals [this f x] (let [^Cells$Swapped s (swap-vals* this f (object-array [x]))] [(.oldValue s) (.newValue s)]))
  (swapVals [this f x y] (let [^Cells$Swapped s (swap-vals* this f (object-array [x y]))] [(.oldValue s) (.newValue s)]))
  (swapVals [this f x y more]
    (let [^Cells$Swapped s (swap-vals* this f (object-array (list* x y more)))] [(.oldValue s) (.newValue s)]))
  (resetVals [this v]
    (let [^Cells$Snapshot old (Cells/read (.sharing cell) (.word cell))]
      (if (Cells/compareAndSet (.sharing cell) (.word cell) (.value old) v validator)
        (do (when (seq @watches) (notify this @watches (.value old) v)) [(.value old) v])
        (recur v))))

  clojure.lang.IRef
  (setValidator [this f]
    (when (and f (not (f @this))) (throw (IllegalStateException. "Invalid reference state")))
    (set! validator f))
  (getValidator [_] validator)
  (getWatches [_] @watches)
  (addWatch [this k f] (swap! watches assoc k f) this)
  (removeWatch [this k] (swap! watches dissoc k) this)

  clojure.lang.IReference
  (meta [_] meta)
  (alterMeta [_ f args]
    (locking watches
      (set! meta (apply f meta args))
      meta))
  (resetMeta [_ m]
    (locking watches
      (set! meta m)
      m))

  Object
  (toString [this] (str "#slab/atom " (pr-str (.name cell)))))

(defn- swap-vals*
  "Runs the Java swap loop, then this atom's watches if something was published."
  ^Cells$Swapped [^SharedAtom a f args]
  (let [^AtomCell cell (.-cell a)
        ^Cells$Swapped s (Cells/swap (.sharing cell) (.word cell) f args (.getValidator a))]
    (when (and (.published s) (seq (.getWatches a)))
      (notify a (.getWatches a) (.oldValue s) (.newValue s)))
    s))

(defn make
  "A SharedAtom over cell."
  [^AtomCell cell meta]
  (SharedAtom. cell nil (clojure.core/atom {}) meta))

(alter-meta! #'->SharedAtom assoc :private true)

(defmethod print-method SharedAtom [^SharedAtom a ^java.io.Writer w]
  (.write w (str "#object[slab.atom.SharedAtom " (pr-str {:root (.-name ^AtomCell (.-cell a)) :val @a}) "]")))
