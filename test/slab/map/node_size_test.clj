(ns slab.map.node-size-test
  "A transient leaves room in the nodes it makes, to grow into; persistent!
  moves each into a block of its own size, so a map built with assoc! (and
  every nested map, which is built that way) takes no more room than one
  built entry by entry."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as tu])
  (:import (slab.map MapNodeDescriptor)
           (slab.ref CollDescriptor)
           (slab.mem Allocator$BlockVisitor BlockTypes Segment SizeClasses)))

(set! *warn-on-reflection* true)

(defn- node-bytes
  "The bytes map or set node n's contents take, by its bitmaps or count."
  ^long [^Segment seg ^long n ^long type]
  (let [es (if (#{BlockTypes/MAP_NODE BlockTypes/MAP_COLLISION} type)
             MapNodeDescriptor/MAP_ENTRY_LENGTH MapNodeDescriptor/SET_ENTRY_LENGTH)]
    (if (#{BlockTypes/MAP_COLLISION BlockTypes/SET_COLLISION} type)
      (MapNodeDescriptor/nodeBytes es (.getInt seg (+ n MapNodeDescriptor/COLLISION_COUNT_OFFSET)) 0)
      (MapNodeDescriptor/nodeBytes es (Integer/bitCount (.getInt seg (+ n MapNodeDescriptor/DATAMAP_OFFSET)))
                                   (Integer/bitCount (.getInt seg (+ n MapNodeDescriptor/NODEMAP_OFFSET)))))))

(defn- oversized-nodes
  "[live map and set nodes, those in a block bigger than their size class] of seg."
  [^Segment seg]
  (let [types #{BlockTypes/MAP_NODE BlockTypes/MAP_COLLISION BlockTypes/SET_NODE BlockTypes/SET_COLLISION}
        a (.allocator seg)
        total (volatile! 0) over (volatile! [])]
    (.forEachBlock a (reify Allocator$BlockVisitor
                       (visit [_ off _]
                         (let [t (.typeOf a off)]
                           (when (and (.isLive a off) (types t))
                             (vswap! total inc)
                             (let [need (SizeClasses/sizeOf (SizeClasses/classFor (node-bytes seg off t)))]
                               (when (< need (.blockSize a off))
                                 (vswap! over conj {:offset off :block (.blockSize a off) :needs need}))))))))
    [@total @over]))

(deftest persistent!-fits-every-node-to-its-block
  (let [seg (tu/anonymous (* 256 tu/MiB))]
    (slab/with-segment seg
      (let [n 20000
            m (persistent! (reduce (fn [t i] (assoc! t i {:id i :n (* 3 i)})) (transient (slab/hash-map)) (range n)))
            s (persistent! (reduce conj! (transient (slab/hash-set)) (map #(str "s" %) (range n))))
            ;; keys whose hashes collide: collision nodes are fitted too
            c (persistent! (reduce (fn [t i] (assoc! t (+ i (bit-shift-left i 32)) i)) (transient (slab/hash-map)) (range 3000)))
            ;; a transient of an existing map: its copies of shared nodes too
            m2 (persistent! (reduce (fn [t i] (assoc! t i i)) (transient m) (range 0 n 7)))
            [total over] (oversized-nodes seg)]
        (testing "the maps still read as built"
          (is (= n (count m) (count s)))
          (is (= {:id 77 :n 231} (get m 77)))
          (is (contains? s "s19999"))
          (is (= 3000 (count c)))
          (is (= 2999 (get c (+ 2999 (bit-shift-left 2999 32)))))
          (is (= 14 (get m2 14)))
          (is (= {:id 15 :n 45} (get m2 15)))
          (is (= (into {} (map (fn [i] [i (if (zero? (mod i 7)) i {:id i :n (* 3 i)})])) (range n)) m2)))
        (is (> total 20000) "the walk met the nodes")
        (is (zero? (count over)) (str (count over) " of " total " map and set nodes sit in a bigger block than they need, e.g. "
                               (first over)))
        (is (nil? (tu/verify-values seg m s c m2)))))))

(deftest nested-small-map-takes-its-size
  (let [seg (tu/anonymous (* 64 tu/MiB))]
    (slab/with-segment seg
      (let [outer (slab/hash-map :a 1)
            outer' (slab/hash-map :a 1)
            ;; keywords are interned in the segment the first time it stores them
            _interned (slab/hash-map :b {:id 0 :n 0})
            b0 (tu/bytes-in-use seg)
            with-scalar (assoc outer :b 5)
            b1 (tu/bytes-in-use seg)
            with-nested (assoc outer' :b {:id 1 :n 3})
            b2 (tu/bytes-in-use seg)]
        ;; the same update with a nested map in place of a long adds the map's
        ;; COLL block and its one node of two entries, in a block of its size
        (is (= (+ CollDescriptor/COLL_LENGTH
                  (SizeClasses/sizeOf (SizeClasses/classFor (MapNodeDescriptor/nodeBytes MapNodeDescriptor/MAP_ENTRY_LENGTH 2 0))))
               (- (- b2 b1) (- b1 b0))))
        (is (= {:a 1 :b 5} with-scalar))
        (is (= {:a 1 :b {:id 1 :n 3}} with-nested))))))
