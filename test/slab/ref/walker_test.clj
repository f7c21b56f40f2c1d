;; Proves RefWalker yields, for every block type, exactly the counted references the block's layout (read byte by byte with the descriptor constants) says it holds, and that the reclaimer's shortcuts (the places where a copy and its base differ, a node counted among children alone) agree with those lists.
(ns slab.ref.walker-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.util :as u :refer [settle!]])
  (:import (java.lang.ref Reference)
           (slab.mem LongStack Segment)
           (slab.value MetaSymbolDescriptor Tags)
           (slab.ref CollDescriptor Heap RefWalker SlotList)
           (slab.map MapNodeDescriptor MapNodeRefs)
           (slab.vector VecNodeDescriptor VecNodeRefs)
           (slab.share BoxDescriptor)))

(set! *warn-on-reflection* true)

;; --- the layout, read independently of the walker ---------------------------------------

(defn- tag-at
  "The unsigned tag byte at off."
  ^long [^Segment seg ^long off]
  (bit-and 0xFF (long (.getByte seg off))))

(defn- counted-tag? [^long tag] (>= tag Tags/FIRST_COUNTED))

(defn- map-node-refs
  "The counted slots of a CHAMP node's entries (keys, and values unless it is
  a set node), then its children; a collision node has no children."
  [^Segment seg ^long b set? collision?]
  (let [entry-length (long (if set? MapNodeDescriptor/SET_ENTRY_LENGTH MapNodeDescriptor/MAP_ENTRY_LENGTH))
        entries (long (if collision?
                        (.getInt seg (+ b MapNodeDescriptor/COLLISION_COUNT_OFFSET))
                        (Integer/bitCount (.getInt seg (+ b MapNodeDescriptor/DATAMAP_OFFSET)))))
        children (long (if collision?
                         0
                         (Integer/bitCount (.getInt seg (+ b MapNodeDescriptor/NODEMAP_OFFSET)))))
        entry (fn ^long [^long i] (+ b MapNodeDescriptor/ENTRIES_OFFSET (* i entry-length)))
        slots (cond-> [[MapNodeDescriptor/ENTRY_KEY_TAG_OFFSET MapNodeDescriptor/ENTRY_KEY_OFFSET]]
                (not set?) (conj [MapNodeDescriptor/ENTRY_VALUE_TAG_OFFSET MapNodeDescriptor/ENTRY_VALUE_OFFSET]))
        counted (for [i (range entries)
                      [tag-offset payload-offset] slots
                      :let [e (entry i)]
                      :when (counted-tag? (tag-at seg (+ e (long tag-offset))))]
                  (.getLong seg (+ e (long payload-offset))))
        first-child (entry entries)]
    (into (vec counted)
          (map (fn [j] (.getLong seg (+ first-child (* (long j) MapNodeDescriptor/CHILD_LENGTH)))))
          (range children))))

(defn- vec-node-refs
  "A branch's non-zero children, or a leaf's counted slots; the capacity is
  the low 8 bits of the node word."
  [^Segment seg ^long b branch?]
  (let [cap (bit-and (.getLong seg (+ b VecNodeDescriptor/NODE_WORD_OFFSET)) VecNodeDescriptor/CAPACITY_MASK)]
    (if branch?
      (vec (for [i (range cap)
                 :let [child (.getLong seg (+ b (VecNodeDescriptor/childOffset (int i))))]
                 :when (not (zero? child))]
             child))
      (vec (for [i (range cap)
                 :when (counted-tag? (tag-at seg (+ b (VecNodeDescriptor/tagOffset (int cap) (int i)))))]
             (.getLong seg (+ b (VecNodeDescriptor/payloadOffset (int i)))))))))

(defn- coll-refs
  "A collection block's root and tail (when non-zero) and its metadata when
  the metadata tag is counted."
  [^Segment seg ^long b]
  (let [root (.getLong seg (+ b CollDescriptor/COLL_ROOT_OFFSET))
        tail (.getLong seg (+ b CollDescriptor/COLL_TAIL_OFFSET))]
    (cond-> []
      (not (zero? root)) (conj root)
      (not (zero? tail)) (conj tail)
      (counted-tag? (tag-at seg (+ b CollDescriptor/COLL_META_TAG_OFFSET)))
      (conj (.getLong seg (+ b CollDescriptor/COLL_META_OFFSET))))))

(defn- layout-refs
  "The counted references block b of type t holds, by its layout."
  [^Segment seg t ^long b]
  (case t
    (:blob :interned :vec-prim-leaf) []   ; bytes and unboxed numbers: no references
    :coll (coll-refs seg b)
    :map-node (map-node-refs seg b false false)
    :map-collision (map-node-refs seg b false true)
    :set-node (map-node-refs seg b true false)
    :set-collision (map-node-refs seg b true true)
    :vec-branch (vec-node-refs seg b true)
    :vec-leaf (vec-node-refs seg b false)
    :box (if (counted-tag? (tag-at seg (+ b BoxDescriptor/BOX_TAG_OFFSET)))
           [(.getLong seg (+ b BoxDescriptor/BOX_PAYLOAD_OFFSET))]
           [])
    :cell (let [w (.getLong seg (+ b BoxDescriptor/CELL_WORD_OFFSET))]
            (if (zero? w) [] [w]))
    :meta-symbol (if (counted-tag? (tag-at seg (+ b MetaSymbolDescriptor/META_SYMBOL_META_TAG_OFFSET)))
                   [(.getLong seg (+ b MetaSymbolDescriptor/META_SYMBOL_META_OFFSET))]
                   [])))

(defn- walked-refs
  "What RefWalker pushes for block b."
  [^Heap heap ^long b]
  (let [st (LongStack.)]
    (RefWalker/pushRefs heap b st)
    (loop [out []]
      (if (.isEmpty st) out (recur (conj out (.pop st)))))))

(defn- collected-refs
  "What the reclaimer's bulk read (MapNodeRefs/collect, VecNodeRefs/collect) yields for node b, in order."
  [^Segment seg t ^long b]
  (let [out (SlotList.)]
    (if (#{:vec-branch :vec-leaf} t)
      (VecNodeRefs/collect seg b out)
      (MapNodeRefs/collect seg b out))
    (vec (take (.n out) (.s out)))))

(def ^:private holding-types
  "Block types that hold counted references."
  #{:coll :map-node :map-collision :set-node :set-collision :vec-branch :vec-leaf :box :cell :meta-symbol})

(def ^:private checked-types
  "Those, and types that hold none."
  (into holding-types #{:blob :interned :vec-prim-leaf}))

(defn- walk
  "Compares RefWalker with the layout for every live block of seg of a
  checked type. Returns {:types {type blocks} :holding #{types with a block
  that holds a reference} :counted-meta collection blocks with counted
  metadata :wrong [...] :dangling [...]}."
  [^Segment seg]
  (let [heap (Heap/of seg)
        blocks (audit/live-blocks seg)
        checked (filter (fn [[_ {:keys [type]}]] (checked-types type)) blocks)
        results (mapv (fn [[off {:keys [type]}]]
                        (let [off (long off)]
                          {:offset off
                           :type type
                           :expected (vec (sort (layout-refs seg type off)))
                           :actual (vec (sort (walked-refs heap off)))
                          ;; the bulk read keeps the layout's order too (the reclaimer compares places)
                          :collected (when (#{:map-node :map-collision :set-node :set-collision :vec-branch :vec-leaf} type)
                                       [(layout-refs seg type off) (collected-refs seg type off)])}))
                      checked)]
    {:types (frequencies (map :type results))
     :holding (set (keep (fn [{:keys [type expected]}] (when (seq expected) type)) results))
     :counted-meta (count (filter (fn [{:keys [type offset]}]
                                    (and (= :coll type)
                                         (counted-tag? (tag-at seg (+ (long offset) CollDescriptor/COLL_META_TAG_OFFSET)))))
                                  results))
     :wrong (vec (remove (fn [{:keys [expected actual collected]}]
                           (and (= expected actual) (or (nil? collected) (apply = collected))))
                         results))
     :dangling (vec (for [{:keys [offset type expected]} results
                          ref expected
                          :when (not (contains? blocks ref))]
                      {:offset offset :type type :ref ref}))}))

;; --- data that makes every kind of block ---------------------------------------------------

(def ^:private colliding-short
  "Equal String hashCodes, so equal hasheq: these keys share one collision node (inline strings)."
  ["AaAa" "AaBB" "BBAa" "BBBB"])

(def ^:private colliding-long
  "All 32 strings of five \"Aa\"/\"BB\" blocks share one hashCode too, and are
  too long to be inline: counted keys in a collision node."
  (vec (for [bits (range 32)]
         (apply str (map #(if (bit-test bits %) "Aa" "BB") (range 5))))))

(defn- build-anonymous!
  "Collections of every shape in *segment*; returns what must stay reachable."
  []
  (let [m (slab/share
           {:name "a string long enough to need a blob"
            :big 12345678901234567890123N
            :dec 123456789.123456789M
            :ratio 22/7
            :id #uuid "961a993c-8a5e-4726-9bde-dd60cdd39817"
            :at (java.time.Instant/ofEpochSecond 1700000000 123456789)
            :sym 'a-symbol
            :meta-sym (with-meta 'a-symbol {:line 12 :doc "a docstring long enough to need a blob"})
            :meta-sym-key {(with-meta 'k {:tag 'String}) 1}
            :nested {:inner {:s "another string long enough for a blob" :n 1 :v [1 2 3]}
                     :set #{1 "a string in a set, long enough for a blob" {:m 1}}
                     :deeper {:a {:b {:c [{:d "deep, and long enough for a blob"}]}}}}
            :collide (zipmap colliding-short (map #(str "the value of colliding key " %) colliding-short))
            :collide-long (zipmap colliding-long (range))
            :collide-set (set (concat colliding-short colliding-long))
            :long-vec (vec (range 2000))
            :vec-of-maps (mapv (fn [i] {:i i :s (str "map number " i " in a vector, long enough")}) (range 100))
            :vec-of-vecs (mapv (fn [i] [i (str "inner vector " i " with a long string")]) (range 40))
            :meta (with-meta {:a [1 2]} {:note "metadata long enough to need a blob" :m {:deep 1}})
            :vec-meta (with-meta (vec (range 40)) {:tag :v :why "metadata on a nested vector"})
            :vector-of (apply vector-of :double (range 100))   ; branches over primitive leaves
            :vector-of-small (vector-of :byte 1 2 3)
            :set-meta (with-meta #{1 2 3} {:about #{:sets}})
            :empty-vec []
            :empty-map {}})
        s (slab/hash-set "a top-level set member long enough for a blob" 42 {:a 1} [1 2] :k)
        cs (apply slab/hash-set (concat colliding-short colliding-long))
        v (slab/vec (concat (range 5000) [{:last "a map at the end of a long vector"}]))
        vo (conj (apply slab/vector-of :long (range 3000)) 1)
        a (slab/atom {:i 0 :s "an anonymous atom's value, long enough for a blob"})]
    (swap! a update :i inc)
    [m s cs v vo a]))

(defn- build-named!
  "Named roots (boxes), a named atom and an anonymous atom (a cell) in seg;
  returns what must stay reachable."
  [seg]
  (slab/set-root! seg :config {:threads 4 :name "a root's value, long enough for a blob" :v [1 2 3]})
  (slab/set-root! seg :scalar 42)                      ; a box whose slot is not counted
  (let [named (slab/atom seg :counter {:n 0})
        anon (slab/with-segment seg (slab/atom [1 "an anonymous atom in a named segment"]))]
    (swap! named update :n inc)
    (swap! anon conj :more)
    [named anon]))

;; --- the check ---------------------------------------------------------------------------------

(defn- check-walk! [what result]
  (testing what
    (is (empty? (:wrong result))
        (str (count (:wrong result)) " blocks where RefWalker and the layout disagree, e.g. "
             (pr-str (take 5 (:wrong result)))))
    (is (empty? (:dangling result))
        (str "references to blocks that are not live: " (pr-str (take 5 (:dangling result)))))))

(deftest every-block-type-yields-the-references-its-layout-holds
  (let [anon (Segment/anonymous (* 64 1024 1024) 5 5)]
    (try
      (u/with-temp-dir [dir "slab-walker"]
        (let [named (slab/open-segment (str (.resolve dir "walker.slab")) {:capacity (* 64 1024 1024)})]
          (try
            (let [held-anon (slab/with-segment anon (build-anonymous!))
                  held-named (build-named! named)]
              ;; Walk still segments: no dropped version is left for the Cleaner.
              (settle! anon -1)
              (settle! named -1)
              (let [a (walk anon)
                    n (walk named)
                    types (merge-with + (:types a) (:types n))
                    holding (into (:holding a) (:holding n))]
                (check-walk! "anonymous segment" a)
                (check-walk! "named segment" n)
                (doseq [t checked-types]
                  (is (pos? (long (get types t 0))) (str "no live block of type " t " was walked")))
                (doseq [t holding-types]
                  (is (contains? holding t) (str "no block of type " t " held a reference")))
                (is (pos? (long (:counted-meta a))) "some nested collection carries counted metadata"))
              (Reference/reachabilityFence held-anon)
              (Reference/reachabilityFence held-named))
            (finally (slab/close-segment! named)))))
      (finally (slab/close-segment! anon)))))

;; --- the reclaimer's shortcuts: only the places a copy changed ----------------------------------

(defn- excess
  "The multiset (a - b)+ as a frequency map."
  [a b]
  (let [fb (frequencies b)]
    (into {} (keep (fn [[c n]] (let [d (- (long n) (long (get fb c 0)))] (when (pos? d) [c d])))) (frequencies a))))

(defn- differing-excess
  "(x - y)+ from what SegmentLineage/collectDiffering gives for the pair."
  [^Heap heap ^long x ^long y]
  (let [xs (SlotList.) ys (SlotList.)]
    (.collectDiffering (.lineage heap) x y xs ys)
    (excess (take (.n xs) (.s xs)) (take (.n ys) (.s ys)))))

(defn- count-child ^long [^Segment seg t ^long n ^long c]
  (if (#{:vec-branch :vec-leaf :vec-prim-leaf} t) (VecNodeRefs/countChild seg n c) (MapNodeRefs/countChild seg n c)))

(def ^:private node-types #{:map-node :map-collision :set-node :set-collision :vec-branch :vec-leaf})

(defn- versions!
  "Histories of persistent edits from shared starting versions, so that many
  nodes carry a base: values of every counted kind, one slab collection
  stored under many keys and places, values replaced by others of their
  type and of other types, colliding keys. Returns the versions."
  [^java.util.Random rnd]
  (let [shared-m (slab/share {:shared "a map stored under many keys, long enough"})
        shared-v (slab/vec ["a vector stored at many places, long enough"])
        value (fn [^long i]
                (case (.nextInt rnd 7)
                  0 i
                  1 (str "a blob string, long enough to be counted " (.nextInt rnd 50))
                  2 shared-m
                  3 shared-v
                  4 {:fresh i}
                  5 nil
                  6 (keyword (str "k" (.nextInt rnd 20)))))
        ks (vec (concat (range 300) colliding-short colliding-long))
        m0 (slab/share (into {} (map (fn [k] [k (value 0)])) ks))
        s0 (slab/share (set (take 200 ks)))
        v0 (slab/vec (map value (range 1500)))]
    (vec (concat
          (reductions (fn [m ^long i]
                        (let [k (ks (.nextInt rnd (count ks)))]
                          (if (zero? (.nextInt rnd 5)) (dissoc m k) (assoc m k (value i)))))
                      m0 (range 300))
          (reductions (fn [s ^long i]
                        (let [k (ks (.nextInt rnd (count ks)))]
                          (if (even? i) (disj s k) (conj s k))))
                      s0 (range 150))
          (reductions (fn [v ^long i]
                        (case (.nextInt rnd 3)
                          0 (assoc v (.nextInt rnd (count v)) (value i))
                          1 (conj v (value i))
                          2 (pop v)))
                      v0 (range 300))))))

(deftest the-reclaimers-shortcuts-agree-with-the-full-slot-lists
  (let [seg (Segment/anonymous (* 128 1024 1024) 5 5)
        rnd (java.util.Random. 11)]
    (try
      (slab/with-segment seg
        (let [held (versions! rnd)
              heap (Heap/of seg)
              lineage (.lineage heap)
              nodes (vec (filter (fn [[_ {:keys [type]}]] (node-types type)) (audit/live-blocks seg)))
              by-type (group-by (comp :type second) nodes)
              full (into {} (map (fn [[off {:keys [type]}]] [off (layout-refs seg type off)])) nodes)
              bases (keep (fn [[off _]] (let [b (.base lineage (long off))] (when-not (zero? b) [off b]))) nodes)]
          (testing "pairs of a node and its base (the death of a copy)"
            (is (< 100 (count bases)) "the histories made copies that borrow from their bases")
            (is (< 50 (count (filter (fn [[x b]] (seq (excess (full x) (full b)))) bases))))
            (is (empty? (remove (fn [[x b]] (= (excess (full x) (full b)) (differing-excess heap x b))) bases))
                "collectDiffering gives each node's excess over its base"))
          (testing "pairs of nodes of one type, whatever their shapes"
            (let [pairs (for [[off {:keys [type]}] nodes
                              :let [peers (by-type type)]]
                          [off (key (nth peers (.nextInt rnd (count peers))))])]
              (is (empty? (remove (fn [[x y]] (= (excess (full x) (full y)) (differing-excess heap x y))) pairs)))))
          (testing "a node counted among children alone, as among all slots (the settle of a copy)"
            (let [offsets (vec (keys full))
                  checks (for [[off {:keys [type]}] nodes
                               c (distinct (concat (filter full (full off))
                                                   [(offsets (.nextInt rnd (count offsets)))]))]
                           [off type c])]
              (is (< 1000 (count checks)))
              (is (empty? (remove (fn [[off type c]]
                                    (== (count (filter #(== (long c) (long %)) (full off))) (count-child seg type off c)))
                                  checks)))))
          (Reference/reachabilityFence held)))
      (finally (slab/close-segment! seg)))))
