(ns slab.map.layout-test
  "persistent! lays the nodes a transient made, and the small nested maps
  and sets only it holds, out in the order a walk reads them (MapLayout):
  a walk then reads memory front to back instead of in the order the
  entries were added. Only blocks nothing else can name may move."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check.clojure-test :refer [defspec]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.core :as slab]
            [slab.support.generators :as g]
            [slab.support.util :as tu])
  (:import (slab.mem Allocator Segment)
           (slab.ref Handle SharedColl)))

(set! *warn-on-reflection* true)

(defn- node-of
  "The one node of a small collection: a map's root, a small vector's tail."
  ^long [x]
  (let [h ^Handle (.slabHandle ^SharedColl x)]
    (if (zero? (.node h)) (.tail h) (.node h))))

(defn- walk-offsets
  "The root node offsets of the nested collections of m, in reduce-kv order (keys, then values)."
  [m]
  (persistent! (reduce-kv (fn [acc k v]
                            (cond-> acc
                              (instance? SharedColl k) (conj! (node-of k))
                              (instance? SharedColl v) (conj! (node-of v))))
                          (transient []) m)))

(defn- ascending-share
  "The share of neighbours in offsets that go up in memory."
  ^double [offsets]
  (/ (double (count (filter true? (map < offsets (rest offsets))))) (max 1 (dec (count offsets)))))

;; MapLayout is package-private: its threshold is read by reflection.
(def ^:private nested-after
  (.getLong ^java.lang.reflect.Field (doto (.getDeclaredField (Class/forName "slab.map.MapLayout") "NESTED_AFTER") (.setAccessible true)) nil))

(defn- build [empty f n]
  (persistent! (reduce (fn [t i] (f t i)) (transient empty) (range n))))

(deftest nested-maps-follow-the-walk
  (let [seg (tu/anonymous (* 256 tu/MiB))]
    (slab/with-segment seg
      (let [n 20000
            m (build (slab/hash-map) (fn [t i] (assoc! t i {:id i :n (* 3 i)})) n)
            sets (build (slab/hash-map) (fn [t i] (assoc! t (str "k" i) #{i (str i)})) n)
            keyed (build (slab/hash-set) (fn [t i] (conj! t {:k i})) n)
            ;; a dozen keys: most such maps have a child node or two below the root
            records (build (slab/hash-map) (fn [t i] (assoc! t i (zipmap (map #(keyword (str "f" %)) (range 12)) (range i (+ i 12))))) n)
            ;; hundreds of keys: too many nodes to move; it stays where it was built, and reads the same
            big (build (slab/hash-map) (fn [t i] (assoc! t i (zipmap (range 300) (repeat i)))) 50)
            vecs (build (slab/hash-map) (fn [t i] (assoc! t i [i (str "v" i)])) n)
            prims (build (slab/hash-map) (fn [t i] (assoc! t i (vector-of :double i (/ i 2.0)))) n)]
        (testing "they read as built"
          (is (= (into {} (map (fn [i] [i {:id i :n (* 3 i)}])) (range n)) m))
          (is (= (into {} (map (fn [i] [(str "k" i) #{i (str i)}])) (range n)) sets))
          (is (= (into #{} (map (fn [i] {:k i})) (range n)) keyed))
          (is (= (into {} (map (fn [i] [i [i (str "v" i)]])) (range n)) vecs))
          (is (= (into {} (map (fn [i] [i (vector-of :double i (/ i 2.0))])) (range n)) prims))
          (is (= [5.0 2.5] (get prims 5)))
          (is (= (into {} (map (fn [i] [i (zipmap (map #(keyword (str "f" %)) (range 12)) (range i (+ i 12)))])) (range n)) records))
          (is (= (into {} (map (fn [i] [i (zipmap (range 300) (repeat i))])) (range 50)) big)))
        ;; in build order (hashed keys) about half the neighbours would go up
        (testing "a walk meets their nodes in ascending memory"
          (is (< 0.95 (ascending-share (walk-offsets m))))
          (is (< 0.95 (ascending-share (walk-offsets sets))))
          (is (< 0.95 (ascending-share (walk-offsets vecs))))
          (is (< 0.95 (ascending-share (walk-offsets records))))
          (is (< 0.95 (ascending-share (walk-offsets prims))))
          (is (< 0.95 (ascending-share (persistent! (reduce (fn [acc k] (conj! acc (node-of k))) (transient []) keyed))))))
        (is (nil? (tu/verify-values seg m sets keyed records big vecs prims)))))))

(deftest small-maps-keep-their-nested-values
  ;; up to MapLayout/NESTED_AFTER entries only the map's own nodes move: its nested
  ;; values stay where assoc! put them (hash order, about half the neighbours up)
  (let [seg (tu/anonymous (* 64 tu/MiB))
        after (long nested-after)]
    (slab/with-segment seg
      (let [small (build (slab/hash-map) (fn [t i] (assoc! t i {:id i})) after)
            big (build (slab/hash-map) (fn [t i] (assoc! t i {:id i})) (inc after))]
        (is (= (into {} (map (fn [i] [i {:id i}])) (range after)) small))
        (is (= (into {} (map (fn [i] [i {:id i}])) (range (inc after))) big))
        (is (> 0.8 (ascending-share (walk-offsets small))))
        (is (< 0.95 (ascending-share (walk-offsets big))))
        (is (nil? (tu/verify-values seg small big)))))))

(deftest holes-left-by-earlier-frees-do-not-scatter-the-layout
  (let [seg (tu/anonymous (* 256 tu/MiB))]
    (slab/with-segment seg
      (let [junk (mapv #(slab/hash-map :id % :n %) (range 60000))
            _ (run! slab/release! (take-nth 2 junk))   ; every other block of those classes free
            m (build (slab/hash-map) (fn [t i] (assoc! t i {:id i :n (* 3 i)})) 20000)]
        (is (= {:id 7 :n 21} (get m 7)))
        (is (< 0.95 (ascending-share (walk-offsets m))) "the copies go to untouched room, not into the holes")
        (is (nil? (tu/verify-values seg m (slab/vec (take-nth 2 (rest junk))))))))))

(deftest what-others-can-name-stays-put
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [shared (slab/hash-map :shared 1)
            t (reduce (fn [t i] (assoc! t i (if (even? i) shared {:own i}))) (transient (slab/hash-map)) (range 2000))
            held (get t 7)                      ; a handle the user holds on a nested map
            held-node (node-of held)
            m (persistent! t)]
        (testing "a nested map also held elsewhere keeps its place"
          (is (= (node-of shared) (node-of (get m 0)) (node-of (get m 1998))))
          (is (= held-node (node-of held) (node-of (get m 7)))))
        (testing "and everything reads as built"
          (is (= {:own 7} held))
          (is (= (into {} (map (fn [i] [i (if (even? i) {:shared 1} {:own i})])) (range 2000)) m)))
        (is (nil? (tu/verify-values seg m shared held)))))))

(deftest laying-out-gives-every-byte-back
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [warm (slab/hash-map :a {:b #{:c}})   ; keywords stay interned once stored
            before (tu/bytes-in-use seg)]
        (dotimes [round 20]
          (let [m (build (slab/hash-map) (fn [t i] (assoc! t i {:a i :b #{:c round}})) 1500)]
            (is (= {:a 9 :b #{:c round}} (get m 9)))
            (slab/release! m)))
        (is (= before (tu/settle! seg before)) "every moved-from block and every version given back")
        (is (= {:b #{:c}} (:a warm)))
        (is (nil? (tu/verify-values seg warm)))))))

(deftest a-full-segment-leaves-the-layout-as-built
  (let [seg (tu/anonymous (* 16 tu/MiB))
        a (.allocator ^Segment seg)]
    (tu/quiet-pressure! a)
    (slab/with-segment seg
      (let [n 3000
            t (reduce (fn [t i] (assoc! t i {:id i})) (transient (slab/hash-map)) (range n))
            ;; no room left for a single move: persistent! must still end the edit
            fillers (loop [acc []]
                      (let [off (.allocateIfRoom ^Allocator a 16 0)]
                        (if (zero? off) acc (recur (conj acc off)))))
            m (persistent! t)]
        (is (seq fillers))
        (is (= (into {} (map (fn [i] [i {:id i}])) (range n)) m))
        (doseq [off fillers] (.free ^Allocator a (long off)))
        (is (= {:id 5} (get (assoc m 5 {:id 5}) 5)) "the segment works on once room is back")
        (is (nil? (tu/verify-values seg m)))))))

(def ^:private prop-seg (tu/anonymous (* 256 tu/MiB)))

(def ^:private nested-value
  (gen/one-of [g/any-map g/any-set g/any-vector g/any-value
               (gen/map g/key-gen g/value-gen {:max-elements 40})
               (gen/fmap #(apply vector-of :long %) (gen/vector gen/large-integer 0 40))]))

;; Entries of every kind, some values handed in as slab collections also held
;; outside (shared: they must not move), some read back from the transient
;; before persistent! (held: must still read right after it).
(defspec laid-out-maps-read-as-built 100
  (prop/for-all [entries (gen/vector (gen/tuple g/any-key nested-value gen/boolean gen/boolean) 0 60)
                 pad? gen/boolean]
    (slab/with-segment prop-seg
      ;; keywords and symbols stay interned once stored: store everything once before measuring
      (slab/release! (slab/share (mapv (fn [[k v]] [k v]) entries)))
      (tu/verify-values prop-seg)          ; and the root name verify-values publishes under
      (let [before (tu/settle! prop-seg -1)
            outside (atom [])
            ;; scalar entries first in half the trials, so that the map is big enough for nested
            ;; values to move; in the others it is small, and they stay where assoc! put them
            filler (map (fn [i] [(- -1000000 i) i false false]) (range (if pad? (inc nested-after) 0)))
            t (reduce (fn [t [k v shared? _]]
                        (let [v (if (and shared? (coll? v)) (let [sv (slab/share v)] (swap! outside conj sv) sv) v)]
                          (assoc! t k v)))
                      (transient (slab/hash-map)) (concat filler entries))
            expect (reduce (fn [m [k v]] (assoc m k v)) {} (concat filler entries))
            held (into [] (keep (fn [[k _ _ hold?]] (when hold? [k (get t k)]))) entries)
            m (persistent! t)
            ok (and (= (count expect) (count m))
                    ;; compared from slab's side (slab's = holds a stored NaN equal to a NaN)
                    (every? (fn [[k v]] (= (slab/vector (get m k)) [v])) expect)
                    ;; a handle read out before persistent! reads as the map does after it
                    (every? (fn [[k v]] (= (slab/vector v) (slab/vector (get m k)))) held)
                    (every? (fn [sv] (some #(identical? % sv) (vals m)) true) @outside)
                    (nil? (tu/verify-values prop-seg m)))]
        (slab/release! m)
        (run! slab/release! @outside)
        (run! (fn [[_ v]] (when (instance? SharedColl v) (slab/release! v))) held)
        (and ok (= before (tu/settle! prop-seg before)))))))

(deftest repeated-layouts-strand-no-room
  ;; builds big enough to take untouched room, each dropped a few builds later:
  ;; the segment's high-water mark must level off, not climb with every layout
  (let [seg (tu/anonymous (* 1024 tu/MiB))
        high-water #(:frontier (tu/stats (.allocator ^Segment seg)))]
    (slab/with-segment seg
      (loop [i 0, window clojure.lang.PersistentQueue/EMPTY, early nil]
        (if (< i 700)
          (let [m (build (slab/hash-map) (fn [t j] (assoc! t j {:a j :b i})) (+ 1100 (mod (* i 37) 900)))
                window (conj window m)
                window (if (> (count window) 4) (do (slab/release! (peek window)) (pop window)) window)]
            (recur (inc i) window (if (= i 100) (high-water) early)))
          (let [late (high-water)]
            (is (<= late (+ early (quot early 8)))
                (str "high-water mark " early " after 100 builds, " late " after 700"))
            (is (nil? (tu/verify-values seg (slab/vec window))))))))))
