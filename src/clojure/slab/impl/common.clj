(ns slab.impl.common
  "What every collection type shares: the handle factory the Java core
  calls to wrap decoded nested collections, and the default segment."
  (:import (slab.ref Handles HandleFactory Heap)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defonce ^{:doc "kind tag (slab.value.Tags/MAP ...) -> (fn [^Handle handle meta] collection)"}
  makers (atom {}))

(defn register-maker!
  "Makes `f` the constructor the Java core uses for decoded collections of `kind`."
  [kind f]
  (swap! makers assoc (int kind) f))

(Handles/setFactory
 (reify HandleFactory
   (make [_ kind handle meta]
     (if-let [f (get @makers kind)]
       (f handle meta)
       (throw (IllegalStateException. (str "slab: no collection type registered for kind " kind)))))))

(defonce ^:private default-segment
  (delay (Segment/anonymous (Segment/defaultCapacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS)))

(defn default-heap
  "The heap of the default anonymous segment, created on first use."
  ^Heap []
  (Heap/of @default-segment))

(defn heap-of
  "The heap for a segment option: nil means the default segment."
  ^Heap [seg]
  (if seg (Heap/of ^Segment seg) (default-heap)))
