;; Proves the seals (FORMAT.md, Seals): the function gives the spec's test vectors; a byte changed inside any sealed block's covered range is reported by verify (offset, type, root) and by a read under {:verify :on-read}; persistent! and persistent updates leave every reachable block sealed; transients stay readable under :on-read.
(ns slab.share.seal-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (slab.map MapNodeDescriptor)
           (slab.mem BlockTypes SealDescriptor Seals Segment)
           (slab.ref CollDescriptor Handle SharedColl)
           (slab.share BoxDescriptor RootTable Sharing)
           (slab.value BlobDescriptor InternDescriptor MetaSymbolDescriptor)
           (slab.vector PrimLeafDescriptor VecNodeDescriptor)))

(set! *warn-on-reflection* true)

(deftest the-spec-test-vectors
  (let [seal (fn [^bytes b] (bit-and 0xFFFFFFFF (Seals/ofBytes b)))]
    (is (= 0xd918dd23 (seal (byte-array 0))))
    (is (= 0xbd05e9ec (seal (byte-array 1))))
    (is (= 0xa648fd54 (seal (.getBytes "abc" "US-ASCII"))))
    (is (= 0x218ebf48 (seal (byte-array (range 16)))))
    (is (= 0xc4ba6cb7 (seal (byte-array (range 24)))))
    (is (= 0xba15800f (seal (.getBytes "slab seals every immutable block" "US-ASCII")))))
  (is (= (bit-shift-left 1 63) SealDescriptor/SEAL_FLAG))
  (is (= (dec (bit-shift-left 1 47)) VecNodeDescriptor/MAX_EDIT)))

;; --- helpers ----------------------------------------------------------------------

(defn- handle ^Handle [x] (.slabHandle ^SharedColl x))

(defn- entry-value
  "The value payload of entry 0 of map m's root node (a one-entry map)."
  ^long [^Segment seg m]
  (.getLong seg (+ (.node (handle m)) MapNodeDescriptor/ENTRIES_OFFSET MapNodeDescriptor/ENTRY_VALUE_OFFSET)))

(defn- box-of ^long [^Segment seg root-name]
  (.getLongVolatile seg (RootTable/cell (Sharing/of seg) root-name)))

(defn- flip-byte! [path ^long off]
  (with-open [f (RandomAccessFile. (str path) "rw")]
    (.seek f off)
    (let [b (.read f)]
      (.seek f off)
      (.write f (int (bit-xor b 0x40))))))

(defn- damage-kind
  "Runs f: :damaged for slab's :damaged-segment, [:value v] otherwise (other errors propagate)."
  [f]
  (try [:value (f)]
       (catch clojure.lang.ExceptionInfo e
         (if (= :damaged-segment (:slab/error (ex-data e))) :damaged (throw e)))))

(def ^:private cases
  "name -> [value put under the root, fn of (seg, root value) giving [block offset, byte offset to flip, block type],
  a full read of the root]."
  {:string [{:k "a string long enough to be a blob"}
            (fn [seg m] (let [b (entry-value seg m)] [b (+ b BlobDescriptor/STRING_DATA_OFFSET 5) BlockTypes/BLOB]))
            #(get % :k)]
   :entry-value [{:k 123456789}
                 (fn [seg m] (let [n (.node (handle m))]
                               [n (+ n MapNodeDescriptor/ENTRIES_OFFSET MapNodeDescriptor/ENTRY_VALUE_OFFSET 1) BlockTypes/MAP_NODE]))
                 #(get % :k)]
   :vector-leaf [(vec (range 10))
                 (fn [_ v] (let [t (.tail (handle v))] [t (+ t (VecNodeDescriptor/payloadOffset 3)) BlockTypes/VEC_LEAF]))
                 #(nth % 3)]
   :prim-leaf [(vector-of :long 1 2 3 4)
               (fn [_ v] (let [t (.tail (handle v))]
                           [t (+ t PrimLeafDescriptor/ELEMENTS_OFFSET 8) BlockTypes/VEC_PRIM_LEAF]))
               #(nth % 1)]
   :coll-count [{:inner {:a 1 :b 2}}
                (fn [seg m] (let [c (entry-value seg m)] [c (+ c CollDescriptor/COLL_COUNT_OFFSET) BlockTypes/COLL]))
                #(count (get % :inner))]
   :box [987654321
         (fn [seg _] (let [b (box-of seg :box)] [b (+ b BoxDescriptor/BOX_PAYLOAD_OFFSET 2) BlockTypes/BOX]))
         identity]
   :keyword [{:k :a-keyword-only-this-test-uses}
             (fn [seg m] (let [b (entry-value seg m)] [b (+ b InternDescriptor/INTERN_DATA_OFFSET 3) BlockTypes/INTERNED]))
             #(get % :k)]
   :meta-symbol [{:k (with-meta 'sym-with-meta {:line 42})}
                 (fn [seg m] (let [b (entry-value seg m)]
                               [b (+ b MetaSymbolDescriptor/META_SYMBOL_HASH_OFFSET 1) BlockTypes/META_SYMBOL]))
                 #(meta (get % :k))]})

(deftest a-changed-byte-in-any-sealed-block-is-damage
  (doseq [[root [value locate read]] cases]
    (testing (name root)
      (u/with-temp-dir [dir "slab-seal"]
        (let [path (str dir "/s.slab")
              seg (slab/open-segment path {:capacity "8m"})
              _ (slab/set-root! seg root value)
              [block off type] (locate seg (slab/root seg root))]
          (is (= [] (:damaged (slab/verify seg))) "sound before the change")
          (slab/close-segment! seg)
          (flip-byte! path off)
          (testing "verify names the block, its type and the root"
            (let [seg (slab/open-segment path)]
              (try
                (let [found (filter #(= block (:offset %)) (:damaged (slab/verify seg)))]
                  (is (seq found))
                  (is (every? #(= type (:type %)) found))
                  (is (every? #(some #{root} (:roots %)) found)))
                (finally (slab/close-segment! seg)))))
          (testing "a read under :on-read refuses it, read-only or not"
            (doseq [opts [{:verify :on-read} {:verify :on-read :read-only true}]]
              (let [seg (slab/open-segment path opts)]
                (try
                  (is (= :damaged (damage-kind #(read (slab/root seg root)))) (pr-str opts))
                  (finally (slab/close-segment! seg))))))
          (testing "a default read need not notice, but never fails otherwise"
            (let [seg (slab/open-segment path {:read-only true})]
              (try
                (is (contains? #{:damaged :value} (let [r (damage-kind #(read (slab/root seg root)))]
                                                    (if (vector? r) (first r) r))))
                (finally (slab/close-segment! seg))))))))))

(deftest an-unsealed-published-node-is-damage
  (u/with-temp-dir [dir "slab-seal"]
    (let [path (str dir "/s.slab")
          seg (slab/open-segment path {:capacity "8m"})]
      (try
        (slab/set-root! seg :m {:a 1 :b 2})
        (let [n (.node (handle (slab/root seg :m)))]
          (.putLong seg (+ n MapNodeDescriptor/EDIT_OFFSET) 0)
          (let [found (filter #(= n (:offset %)) (:damaged (slab/verify seg)))]
            (is (seq found))
            (is (every? #(= [:m] (:roots %)) found))))
        (finally (slab/close-segment! seg))))))

(deftest a-torn-unlinked-interned-block-is-not-damage
  ;; What a process killed while interning leaves: a live INTERNED block (a root of the
  ;; sweep's mark, as every system block) that no bucket chain links, written only in part.
  (u/with-temp-dir [dir "slab-seal"]
    (let [seg (slab/open-segment (str dir "/s.slab") {:capacity "8m"})]
      (try
        (slab/set-root! seg :m {:k :a-keyword})
        (let [b (.allocate (.allocator seg) 40 BlockTypes/INTERNED)]
          (.putInt seg (+ b InternDescriptor/INTERN_NAME_LENGTH_OFFSET) 3)
          (.putLong seg (+ b InternDescriptor/INTERN_DATA_OFFSET) 0x1234567)
          (is (= [] (:damaged (slab/verify seg))))
          (let [r (slab/recover! seg)]
            (is (:swept r) "the sweep ran, and did not refuse")
            (is (= [] (:damaged r))))
          (is (= {:k :a-keyword} (slab/root seg :m))))
        (finally (slab/close-segment! seg))))))

(deftest persistent!-and-updates-leave-everything-sealed
  (u/with-temp-dir [dir "slab-seal"]
    (let [seg (slab/open-segment (str dir "/s.slab") {:capacity "256m"})
          n 60000]
      (try
       (slab/with-segment seg
        (slab/set-root! seg :map (persistent! (reduce #(assoc! %1 %2 (str "value-" %2 "-long-enough")) (transient (slab/hash-map)) (range n))))
        (slab/set-root! seg :set (persistent! (reduce conj! (transient (slab/hash-set)) (range n))))
        (slab/set-root! seg :vec (persistent! (reduce conj! (transient (slab/vector)) (range n))))
        (slab/set-root! seg :vof (persistent! (reduce conj! (transient (slab/vector-of :double)) (range n))))
        (slab/set-root! seg :vof-short (persistent! (reduce conj! (transient (slab/vector-of :byte)) (range 40))))
        ;; a transient of a persistent version: copies along its paths, sealed at persistent!
        (slab/set-root! seg :map2 (persistent! (reduce #(dissoc! (assoc! %1 (- %2) %2) %2) (transient (slab/root seg :map)) (range 0 n 7))))
        (slab/set-root! seg :vec2 (persistent! (-> (reduce #(assoc! %1 %2 :x) (transient (slab/root seg :vec)) (range 0 n 13)) pop! pop!)))
        ;; persistent updates, tails and collisions included
        (slab/set-root! seg :upd (-> (reduce #(assoc %1 %2 [%2]) (slab/root seg :map) (range 500)) (dissoc 501 502)))
        (slab/set-root! seg :vupd (-> (reduce conj (slab/root seg :vof) (range 2000)) (assoc 7 1.5) pop))
        (slab/set-root! seg :vupd2 (-> (reduce conj (slab/root seg :vec) (range 2000)) (assoc 9 "s-long-string") pop pop))
        (is (= [] (:damaged (slab/verify seg)))))
        (finally (slab/close-segment! seg))))))

(deftest reads-under-on-read
  (u/with-temp-dir [dir "slab-seal"]
    (let [seg (slab/open-segment (str dir "/s.slab") {:capacity "64m" :verify :on-read})]
      (try
       (slab/with-segment seg
        (testing "a transient is readable while it builds (its nodes carry its edit id, unsealed)"
          (let [t (reduce #(assoc! %1 %2 (str "v" %2 "-long-enough-for-a-blob")) (transient (slab/hash-map)) (range 3000))]
            (is (= "v17-long-enough-for-a-blob" (get t 17)))
            (is (= 3000 (count t)))
            (let [m (persistent! t)]
              (is (= "v2999-long-enough-for-a-blob" (get m 2999)))
              (is (= 3000 (reduce-kv (fn [n _ _] (inc n)) 0 m)))))
          (let [t (reduce conj! (transient (slab/vector)) (range 3000))]
            (is (= 2500 (nth t 2500)))
            (is (= (range 3000) (seq (persistent! t)))))
          (let [t (reduce conj! (transient (slab/vector-of :int)) (range 100))]
            (is (= 50 (nth t 50)))))
        (testing "persistent updates and nested values read back"
          (slab/set-root! seg :x {:a [1 2 {:b #{3 "four-long-string"}}] :c 1/3 :d (java.util.UUID. 1 2)})
          (is (= {:a [1 2 {:b #{3 "four-long-string"}}] :c 1/3 :d (java.util.UUID. 1 2)} (slab/root seg :x))))
        (testing "a segment open with one setting is refused with the other"
          (is (= :bad-argument (:error (u/error-of #(slab/open-segment (str dir "/s.slab"))))))))
        (finally (slab/close-segment! seg))))))
