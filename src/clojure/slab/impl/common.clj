(ns slab.impl.common
  "What every collection type shares: the handle factory the Java codec calls
  to wrap decoded nested collections, the reachability fence, and the
  default segment."
  (:import (slab.codec Codec HandleFactory Root)
           (slab.mem Segment)
           (java.lang.ref Reference)))

(set! *warn-on-reflection* true)

(defmacro fenced
  "Checks that the handle `root` is usable, runs body, then keeps `root`
  reachable until body is done, so the Cleaner cannot free nodes that body
  is still reading."
  [root & body]
  `(let [^Root r# ~root]
     (.check r#)
     (try ~@body (finally (Reference/reachabilityFence r#)))))

(defonce ^{:doc "kind tag (slab.codec.Tags/MAP ...) -> (fn [^Root root meta] collection)"}
  makers (atom {}))

(defn register-maker!
  "Makes `f` the constructor the codec uses for decoded collections of `kind`."
  [kind f]
  (swap! makers assoc (int kind) f))

(Codec/setFactory
 (reify HandleFactory
   (make [_ kind root meta]
     (if-let [f (get @makers kind)]
       (f root meta)
       (throw (IllegalStateException. (str "slab: no collection type registered for kind " kind)))))))

(defonce ^:private default-segment
  (delay (Segment/anonymous (Segment/defaultCapacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS)))

(defn default-codec
  "The codec of the default anonymous segment, created on first use."
  ^Codec []
  (Codec/of @default-segment))

(defn codec-of
  "The codec for a segment option: nil means the default segment."
  ^Codec [seg]
  (if seg (Codec/of ^Segment seg) (default-codec)))
