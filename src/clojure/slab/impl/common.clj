(ns slab.impl.common
  "What every collection type shares: the handle factory the Java core
  calls to wrap decoded nested collections, the default segment, and the
  IFn boilerplate (wrong arities throw ArityException, as clojure.core's
  collections do)."
  (:import (clojure.lang AFn ArityException)
           (slab.ref Handles HandleFactory Heap)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defonce ^{:private true :tag 'objects
            :doc "kind tag (slab.value.Tags/MAP ...) -> (fn [^Handle handle meta] collection): an
  array, not a map in an atom, since every nested collection read goes through it."}
  makers (object-array 64))

(defn register-maker!
  "Makes `f` the constructor the Java core uses for decoded collections of `kind`."
  [kind f]
  (aset makers (int kind) f))

(Handles/setFactory
 (reify HandleFactory
   (make [_ kind handle meta]
     (if-let [f (aget makers kind)]
       (.invoke ^clojure.lang.IFn f handle meta)
       (throw (IllegalStateException. (str "slab: no collection type registered for kind " kind)))))))

(defonce ^:private default-segment (atom nil))

(defn default-heap
  "The heap of the default anonymous segment, created on first use, and
  again on the first use after close-segment! closed it."
  ^Heap []
  (let [^Segment s @default-segment]
    (if (and s (not (.isClosed s)))
      (Heap/of s)
      (locking default-segment
        (let [^Segment s @default-segment]
          (if (and s (not (.isClosed s)))
            (Heap/of s)
            (let [fresh (Segment/anonymous (Segment/defaultCapacity) Segment/DEFAULT_MAP_BITS
                                           Segment/DEFAULT_VEC_BITS)]
              (reset! default-segment fresh)
              (Heap/of fresh))))))))

(defn heap-of
  "The heap to build new values in, for a segment option: nil means the
  default segment; a segment opened read-only is refused (:read-only)."
  ^Heap [seg]
  (if seg (Heap/forWriting ^Segment seg) (default-heap)))

;; --- IFn boilerplate -----------------------------------------------------------

(defn- arity-error-methods
  "invoke methods for every arity not in `implemented`, throwing
  ArityException as AFn's do, plus applyTo, call and run."
  [class-name implemented]
  (concat
   (for [n (range 0 21) :when (not (contains? implemented n))
         :let [args (vec (repeatedly n gensym))]]
     `(~'invoke [this# ~@args] (throw (ArityException. ~n ~class-name))))
   (let [args (vec (repeatedly 20 gensym))
         more (gensym "more")]
     [`(~'invoke [this# ~@args ~(with-meta more {:tag 'objects})]
        (throw (ArityException. (+ 20 (alength ~more)) ~class-name)))])
   [`(~'applyTo [this# args#] (AFn/applyToHelper this# args#))
    `(~'call [this#] (.invoke this#))
    `(~'run [this#] (.invoke this#))]))

(defmacro deftype-with-arities
  "deftype, where a form (arity-errors n ...) in the body, naming the invoke
  arities the type implements, stands for every other invoke arity
  (throwing ArityException), applyTo, call and run."
  [type-name fields & body]
  (let [class-name (str (namespace-munge *ns*) "." type-name)]
    `(deftype ~type-name ~fields
       ~@(mapcat (fn [x] (if (and (seq? x) (= 'arity-errors (first x)))
                           (arity-error-methods class-name (set (rest x)))
                           [x]))
                 body))))
