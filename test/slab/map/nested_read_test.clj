(ns slab.map.nested-read-test
  "Proves the read paths that look through nested maps and probe by keyword
  (slab/get-in, slab/reduce-kv-in, reduce-kv handing out nested maps,
  keyword probes) give
  clojure.core's answers, stop at reduced, allocate nothing per nested map on
  a get-in, and report a damaged nested collection block as damage."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [clojure.test.check.clojure-test :refer [defspec]]
            [slab.core :as slab]
            [slab.support.generators :as g]
            [slab.support.corruption :as c]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (java.lang.management ManagementFactory)
           (com.sun.management ThreadMXBean)
           (slab.map MapNodeDescriptor)
           (slab.mem HeaderDescriptor Segment)
           (slab.ref CollDescriptor Handle SharedColl)
           (slab.value Tags)))

(set! *warn-on-reflection* true)

(def trials (Long/getLong "slab.trials" 200))

(defn- paths
  "Key paths into m: every path to a value (nested maps followed), plus
  paths that go wrong one step in: an absent key, a key past a scalar."
  [m]
  (letfn [(walk [prefix x]
            (when (map? x)
              (mapcat (fn [[k v]] (cons (conj prefix k) (walk (conj prefix k) v))) x)))]
    (let [ps (vec (walk [] m))]
      (concat ps (map #(conj % ::absent) ps) [[::absent] [::absent :x]]))))

(defspec get-in-equals-clojure-core trials
  (prop/for-all [m (gen/map g/key-gen g/value-gen {:max-elements 8})]
    (let [s (slab/share m)]
      (every? (fn [ks] (and (= (get-in m ks) (slab/get-in s ks))
                            (= (get-in m ks ::nf) (slab/get-in s ks ::nf))
                            (= (get-in m ks) (slab/get-in s (seq ks)))))   ; a seq of keys, not a vector
              (paths m)))))

(deftest get-in-through-other-collections
  (let [m {:a {:v [1 {:x 2}] :s #{:k} :n nil :f false :z 0} :b nil}
        s (slab/share m)]
    (doseq [ks [[:a :v 1 :x] [:a :v 0] [:a :v 5] [:a :s :k] [:a :s :q] [:a :n :q] [:a :f :q] [:a :z :q]
                [:b] [:b :q] [:a] [:a :v]]]
      (is (= (get-in m ks) (slab/get-in s ks)) (pr-str ks))
      (is (= (get-in m ks ::nf) (slab/get-in s ks ::nf)) (pr-str ks)))
    (is (identical? s (slab/get-in s [])))
    (is (= 1 (slab/get-in {:a 1} [:a])) "anything else is clojure.core/get-in")))

(defn- allocated-bytes ^long []
  (.getCurrentThreadAllocatedBytes ^ThreadMXBean (ManagementFactory/getThreadMXBean)))

(deftest get-in-makes-no-handle-per-nested-map
  ;; long keys -> small maps whose :n is a cached Long: the nested map is only looked into
  (let [n 2000
        s (slab/share (into {} (map (fn [i] [i {:id i :n (mod i 100) :more {:deep (mod i 7)}}])) (range n)))
        paths (object-array (map (fn [i] [i :more :deep]) (range n)))
        run #(areduce ^objects paths i acc 0 (+ acc (long (slab/get-in s (aget ^objects paths i)))))]
    (dotimes [_ 100] (run))
    (let [before (allocated-bytes)
          sum (run)
          per (/ (double (- (allocated-bytes) before)) n)]
      (is (= sum (reduce + (map #(mod % 7) (range n)))))
      (is (< per 1.0) (str per " heap bytes per get-in")))))

(deftest reduce-kv-over-nested-maps-stops-at-reduced
  (let [m (into {} (map (fn [i] [i {:n i :s (str "v" i)}])) (range 500))
        s (slab/share m)
        upto (fn [limit] (fn [acc _ v] (let [acc (+ acc (long (:n v)))] (if (>= acc limit) (reduced acc) acc))))]
    (is (= (reduce-kv (fn [acc _ v] (+ acc (long (:n v)))) 0 m)
           (reduce-kv (fn [acc _ v] (+ acc (long (:n v)))) 0 s)))
    (is (= (into {} (map (fn [[k v]] [k (:s v)])) m)
           (persistent! (reduce-kv (fn [t k v] (assoc! t k (:s v))) (transient {}) s))))
    (let [calls (volatile! 0)
          out (reduce-kv (fn [acc k v] (vswap! calls inc) ((upto 1000) acc k v)) 0 s)]
      (is (>= (long out) 1000))
      (is (< (long @calls) 500) "reduce-kv stopped at reduced"))
    (is (= 7 (reduce-kv (fn [_ _ _] (reduced 7)) 0 s)))
    (is (= :none (reduce-kv (fn [_ _ _] (reduced :x)) :none (slab/hash-map))))))

(deftest keyword-probes-of-keywords-never-stored
  (let [stored (mapv #(keyword "stored" (str %)) (range 300))
        s (slab/share (zipmap stored (range)))
        ;; made after the map, never written to its segment
        absent (mapv #(keyword "never" (str %)) (range 300))]
    (is (every? nil? (map #(get s %) absent)))
    (is (every? #(not (contains? s %)) absent))
    (is (= (range 300) (map #(get s %) stored)))
    (is (= (range 300) (map #(get s (keyword "stored" (str %))) (range 300))) "equal keywords made again")
    (is (nil? (get s (symbol "stored" "1"))) "a symbol with a keyword's name is not the keyword")))

(defn- handle ^Handle [x] (.slabHandle ^SharedColl x))

(deftest a-damaged-nested-collection-block-under-get-in-and-reduce-kv-in
  (u/with-temp-dir [dir "slab-nested"]
    (let [seg (slab/open-segment (str dir "/n.slab") {:capacity "16m"})]
      (try
        (slab/set-root! seg :m {1 {:n 3} 2 {:n 4}})
        (let [m (slab/root seg :m)
              root (.node (handle m))
              ;; the root holds both entries (positions 1 and 2); find the one for key 1
              e (some (fn [i] (let [e (+ root MapNodeDescriptor/ENTRIES_OFFSET (* i MapNodeDescriptor/MAP_ENTRY_LENGTH))]
                                (when (= 1 (.getLong seg (+ e MapNodeDescriptor/ENTRY_KEY_OFFSET))) e)))
                      (range 2))
              coll (.getLong seg (+ e MapNodeDescriptor/ENTRY_VALUE_OFFSET))
              damaged? (fn [f] (try (f) false
                                    (catch Throwable t (= :damaged-segment (:slab/error (ex-data t))))))
              sum #(slab/reduce-kv-in m [:n] (fn [acc _ v] (+ acc (long v))) 0)]
          (is (= Tags/MAP (.getByte seg (+ e MapNodeDescriptor/ENTRY_VALUE_TAG_OFFSET))))
          (is (= 3 (slab/get-in m [1 :n])))
          (is (= 7 (sum)))
          (.putByte seg (+ coll CollDescriptor/COLL_KIND_OFFSET) (byte Tags/VECTOR))
          (is (damaged? #(slab/get-in m [1 :n])) "a block of the wrong kind")
          (is (damaged? sum) "a block of the wrong kind, under reduce-kv-in")
          (.putByte seg (+ coll CollDescriptor/COLL_KIND_OFFSET) (byte Tags/MAP))
          (is (= 3 (slab/get-in m [1 :n])))
          (is (= 7 (sum)))
          (.putLong seg (+ coll CollDescriptor/COLL_ROOT_OFFSET) (+ coll 8))
          (is (damaged? #(slab/get-in m [1 :n])) "a root that is no block")
          (is (damaged? sum) "a root that is no block, under reduce-kv-in")
          (is (= 4 (slab/get-in m [2 :n])) "the other entry still reads"))
        (finally (slab/close-segment! seg))))))

;; --- reading ahead (slab.map.NestedWarm) -------------------------------------------------

(def ^:private ahead-n
  "Entries enough for the walks to read ahead (NestedWarm.AHEAD_FROM is 4,096)."
  5000)

(defn- scattered
  "A slab map of n entries built by persistent assoc, so its nested values
  lie in the order they were added, not the order a walk reads them: the
  walks read them ahead."
  [n value-of]
  (reduce (fn [m i] (assoc m i (value-of i))) (slab/hash-map) (range n)))

(deftest walks-read-ahead-of-scattered-nested-values-and-read-the-same
  (let [value-of (fn [i] (case (int (mod i 5))
                           0 {:n i :s (str "v" i)}
                           1 #{i (- i)}
                           2 [i (inc i)]
                           3 (slab/vector-of :double (double i))
                           i))
        n ahead-n
        s (scattered n value-of)
        m (into {} (map (fn [i] [i (value-of i)])) (range n))]
    (is (= m s))
    (is (= (reduce-kv (fn [acc k v] (conj acc [k v])) [] m) (reduce-kv (fn [acc k v] (conj acc [k v])) [] s)))
    (is (= (reduce conj [] m) (reduce conj [] s)))
    (is (= (seq m) (seq s)))
    (is (= (vals m) (vals s)))
    (is (= (into [] (map val) m) (into [] (map val) s)))))

;; Walks of big maps gather the next entries before stepping any (MapReads.Ahead,
;; MapIterator.following): the order, the calls of f and where reduced stops must not change.
(deftest walks-that-gather-ahead-call-f-as-clojure-core-does
  (let [ks (concat [nil] (range ahead-n) (map #(keyword (str "k" %)) (range 300)))
        value-of (fn [k] (if (and (number? k) (even? k)) {:n k} k))
        m (into {} (map (fn [k] [k (value-of k)])) ks)
        calls (fn [reduce-fn coll stop]
                (let [seen (volatile! [])]
                  [(reduce-fn (fn [acc & kv]
                                (vswap! seen conj kv)
                                (if (= (count @seen) stop) (reduced [:stopped acc]) (inc acc)))
                              0 coll)
                   @seen]))]
    ;; scattered values (persistent assoc) are gathered, laid-out ones (a transient's) stepped
    ;; at once; scalars between nested values make the walk switch between the two
    (doseq [[build s] [[:assoc (reduce (fn [s k] (assoc s k (value-of k))) (slab/hash-map) ks)]
                       [:transient (into (slab/hash-map) (map (fn [k] [k (value-of k)])) ks)]]]
      (testing (str "built by " build)
        (is (= m s))
        (doseq [stop [1 2 31 32 33 64 65 1000 (count m) (inc (count m))]]
          (testing (str "stopping at call " stop)
            (is (= (calls reduce-kv m stop) (calls reduce-kv s stop)))
            (is (= (calls reduce m stop) (calls reduce s stop)))))
        (testing "seqs and iterators, keys and vals, from the first element on"
          (is (= (seq m) (seq s)))
          (is (= (keys m) (keys s)))
          (is (= (vals m) (vals s)))
          (is (= (iterator-seq (.iterator ^Iterable m)) (iterator-seq (.iterator ^Iterable s))))
          (is (= (take 40 s) (take 40 m)))
          (is (= (first s) (first m) [nil nil])))))
    (testing "sets"
      (let [cs (set ks)
            ss (reduce conj (slab/hash-set) ks)]
        (is (= (seq cs) (seq ss)))
        (doseq [stop [1 33 (count cs)]]
          (is (= (calls reduce cs stop) (calls reduce ss stop))))))))

;; Review of the gathered walks: the walk checked nodes up to 32 entries before stepping them,
;; so a reduce that stops before damage, or the entries before it, failed with it.
(deftest walks-that-gather-ahead-report-damage-where-they-reach-it
  (u/with-temp-dir [dir "slab-gather-damage"]
    (let [seg (slab/open-segment (str dir "/g.slab") {:capacity "64m"})]
      (try
        (let [m (slab/with-segment seg
                  (reduce (fn [m i] (assoc m i {:n i})) (slab/hash-map) (range ahead-n)))
              ks (vec (keys m))
              datamap #(.getInt seg (+ (long %) MapNodeDescriptor/DATAMAP_OFFSET))
              nodemap #(.getInt seg (+ (long %) MapNodeDescriptor/NODEMAP_OFFSET))
              child-slot (fn [n j] (+ (long n) MapNodeDescriptor/ENTRIES_OFFSET
                                      (* (Integer/bitCount (datamap n)) MapNodeDescriptor/MAP_ENTRY_LENGTH)
                                      (* (long j) MapNodeDescriptor/CHILD_LENGTH)))
              bits-of (fn [bits] (filter #(bit-test bits %) (range 32)))
              root (.node (handle m))
              ;; the slots of the root's grandchildren, each with the number of entries the walk
              ;; yields before the first key below it
              damage-points (for [[a pos0] (map-indexed vector (bits-of (nodemap root)))
                                  :let [c (.getLong seg (child-slot root a))]
                                  [b pos1] (map-indexed vector (bits-of (nodemap c)))]
                              {:slot (child-slot c b)
                               :before (count (take-while #(not (and (= pos0 (bit-and (hash %) 31))
                                                                     (= pos1 (bit-and (unsigned-bit-shift-right (hash %) 5) 31))))
                                                          ks))})
              calls-before-damage (fn [walk]
                                    (let [n (volatile! 0)]
                                      [(try (walk #(vswap! n inc)) :no-error
                                            (catch clojure.lang.ExceptionInfo e (:slab/error (ex-data e))))
                                       @n]))
              ;; damage in the first batch, and past the first 32 (where an iterator gathers too)
              points (keep (fn [[lo hi]] (first (filter #(<= lo (:before %) hi) damage-points))) [[3 31] [33 63]])]
          (is (= 2 (count points)) "found a damage point for each case")
          (doseq [{:keys [slot before]} points
                  :let [good (.getLong seg slot)]]
            (testing (str "damage after " before " entries")
              (.putLong seg slot 8)
              (try
                (is (= (first ks) (reduce-kv (fn [_ k _] (reduced k)) nil m)) "a reduce that stops first")
                (is (= (nth ks (dec before)) (reduce-kv (fn [i k _] (if (= i (dec before)) (reduced k) (inc i))) 0 m))
                    "a reduce that stops at the last entry before the damage")
                (is (= [:damaged-segment before]
                       (calls-before-damage (fn [tick] (reduce-kv (fn [acc _ _] (tick) acc) nil m))))
                    "a whole reduce-kv steps every entry before the damage, then reports it")
                (is (= [:damaged-segment before]
                       (calls-before-damage (fn [tick] (reduce (fn [acc _] (tick) acc) nil m)))))
                (is (= [:damaged-segment before]
                       (calls-before-damage (fn [tick] (let [it (.iterator ^Iterable m)]
                                                         (while (.hasNext it) (.next it) (tick))))))
                    "an iterator hands out every entry before the damage")
                (is (= [:damaged-segment before]
                       (calls-before-damage (fn [tick] (run! (fn [_] (tick)) (seq m)))))
                    "a seq too, its last chunk cut short")
                (finally (.putLong seg slot good)))))
          (is (= (count ks) (count (into [] m))) "sound again"))
        (finally (slab/close-segment! seg))))))

(deftest reading-ahead-trusts-no-offset
  (u/with-temp-dir [dir "slab-ahead"]
    (let [seg (slab/open-segment (str dir "/a.slab") {:capacity "64m"})]
      (try
        (slab/with-segment seg
          (slab/set-root! seg :m (scattered ahead-n (fn [i] {:n i}))))
        ;; The versions the build dropped pass their counts on to the published one when the
        ;; Cleaner gives them back, reading its slots: let that finish before damaging one.
        (u/settle! seg -1)
        (let [m (slab/root seg :m)
              frontier (:frontier (u/stats (.allocator seg)))
              ;; the first nested value's slot of the first node (breadth first) with several entries
              slot (let [datamap #(.getInt seg (+ (long %) MapNodeDescriptor/DATAMAP_OFFSET))
                         children (fn [node]
                                    (let [entries (Integer/bitCount (datamap node))]
                                      (for [j (range (Integer/bitCount (.getInt seg (+ (long node) MapNodeDescriptor/NODEMAP_OFFSET))))]
                                        (.getLong seg (+ (long node) MapNodeDescriptor/ENTRIES_OFFSET
                                                         (* entries MapNodeDescriptor/MAP_ENTRY_LENGTH)
                                                         (* j MapNodeDescriptor/CHILD_LENGTH))))))
                         node (->> (iterate #(mapcat children %) [(.node (handle m))])
                                   (take-while seq)
                                   (mapcat identity)
                                   (filter #(>= (Integer/bitCount (datamap %)) 2))
                                   first)]
                     (when node
                       (+ node MapNodeDescriptor/ENTRIES_OFFSET MapNodeDescriptor/ENTRY_VALUE_OFFSET)))
              good (.getLong seg slot)
              damaged? (fn [f] (= :damaged-segment (:error (u/error-of f))))]
          (is (some? slot) "found a node with several nested values")
          (is (= Tags/MAP (.getByte seg (+ (- slot MapNodeDescriptor/ENTRY_VALUE_OFFSET) MapNodeDescriptor/ENTRY_VALUE_TAG_OFFSET))))
          (is (.readableAhead seg good CollDescriptor/COLL_LENGTH))
          (is (not (.readableAhead seg 0 8)))
          (is (not (.readableAhead seg (inc good) 8)) "unaligned")
          (is (not (.readableAhead seg (- frontier 8) 16)) "past the frontier")
          (is (not (.readableAhead seg (* 1024 1024 1024) 8)) "past the mapping")
          (doseq [bad [0 -8 (+ good 3) (- frontier 8) (* 1024 1024 1024) Long/MIN_VALUE]]
            (.putLong seg slot (long bad))
            (is (damaged? #(reduce-kv (fn [acc _ v] (+ acc (long (:n v)))) 0 m)) (str "reduce-kv, slot " bad))
            (is (damaged? #(doall (map (comp :n val) m))) (str "seq, slot " bad)))
          (.putLong seg slot good)
          (is (= (reduce + (range ahead-n)) (reduce-kv (fn [acc _ v] (+ acc (long (:n v)))) 0 m))))
        (finally (slab/close-segment! seg))))))

(deftest reading-ahead-sees-blocks-allocated-since-the-last-checked-read
  ;; persistent! reads ahead over blocks its own build allocated, which no checked read has
  ;; seen yet: the frontier those are compared with must be read again, not the one of the
  ;; last checked read (review: it was, and persistent! read nothing ahead)
  (let [seg (u/anonymous (* 64 1024 1024))]
    (try
      (let [a (.allocator seg)
            offs (vec (repeatedly 2000 #(.allocate a 1000 0)))
            frontier (:frontier (u/stats a))]
        (is (every? #(.readableAhead seg (long %) 1000) offs))
        (is (not (.readableAhead seg frontier 8)))
        (is (not (.readableAhead seg (- frontier 4) 8))))
      (finally (.close seg)))))

(deftest reading-ahead-stays-inside-a-read-only-snapshot
  ;; A snapshot opened read-only maps its file only, which ends at its frontier; a frontier
  ;; word raised in the file afterwards must not let a read ahead past the mapping, where it
  ;; would fail a walk that never reaches the damaged part (review).
  (u/with-temp-dir [dir "slab-ahead-snap"]
    (let [src (slab/open-segment (str dir "/s.slab") {:capacity "16m"})
          snap (str dir "/snap.slab")]
      (slab/with-segment src
        (slab/set-root! src :m (scattered 5000 (fn [i] {:n i}))))
      (slab/snapshot! src snap {:capacity "32m"})
      (slab/close-segment! src)
      (let [seg (slab/open-segment snap {:read-only true})
            size (.length (java.io.File. snap))]
        (try
          (with-open [f (RandomAccessFile. snap "rw")]
            (let [m (slab/root seg :m)
                  root (.node (handle m))
                  entries (Integer/bitCount (.getInt seg (+ root MapNodeDescriptor/DATAMAP_OFFSET)))
                  children (Integer/bitCount (.getInt seg (+ root MapNodeDescriptor/NODEMAP_OFFSET)))
                  ;; the root's last child, which a walk that stops at its first entry never enters
                  slot (+ root MapNodeDescriptor/ENTRIES_OFFSET (* entries MapNodeDescriptor/MAP_ENTRY_LENGTH)
                          (* (dec children) MapNodeDescriptor/CHILD_LENGTH))
                  first-n (fn [] (reduce-kv (fn [_ _ v] (reduced (:n v))) nil m))
                  expected (first-n)]
              (is (> children 16))
              (c/write-long! f HeaderDescriptor/FRONTIER_OFFSET (.capacity seg))
              ;; a checked read past the file sees the raised frontier (and reports the damage)
              (is (= :damaged-segment (:error (u/error-of #(.header seg (+ size 4096) "a block past the file")))))
              (is (not (.readableAhead seg (- size 8) 16)) "past the file, below the raised frontier")
              (is (not (.readableAhead seg (+ size 4096) 8)))
              (doseq [bad [size (+ size 4096) (- (.capacity seg) 64)]]
                (c/write-long! f slot bad)
                (is (= expected (first-n)) (str "a walk that stops before the damaged child, child at " bad))
                (is (= :damaged-segment (:error (u/error-of #(reduce-kv (fn [a _ _] (inc a)) 0 m))))
                    "a walk that reaches it"))))
          (finally (slab/close-segment! seg)))))))

;; --- reduce-kv-in: get-in on every value of a walk ----------------------------------------

(defn- reduce-kv-in-as-core
  "What slab/reduce-kv-in promises, written with clojure.core alone."
  [m ks f init]
  (reduce-kv (fn [acc k v] (f acc k (get-in v ks))) init m))

(defn- value-paths
  "Paths to look up in every value of m: into nested maps (and one key
  further), through vectors and sets, absent keys, and the empty path."
  [m]
  (let [inner (for [v (vals m), :when (map? v), p (paths v)] p)]
    (distinct (concat [[] [::absent] [0] [:a :b]] (take 12 inner)))))

(defspec reduce-kv-in-equals-clojure-core trials
  (prop/for-all [m (gen/map g/key-gen (gen/one-of [g/value-gen (gen/map g/key-gen g/value-gen {:max-elements 6})])
                            {:max-elements 12})]
    (let [s (slab/share m)
          collect (fn [acc k v] (conj acc [k v]))]
      ;; in the slab map's own order (a small clojure.core map is an array map, in insertion order)
      (every? (fn [ks] (let [out (slab/reduce-kv-in s ks collect [])]
                         (and (= (reduce-kv-in-as-core s ks collect []) out)
                              (= (into {} (reduce-kv-in-as-core m ks collect [])) (into {} out))
                              (= out (slab/reduce-kv-in s (seq ks) collect [])))))
              (value-paths m)))))

(deftest reduce-kv-in-through-other-collections
  (let [m {nil {:n 0}
           1 {:n 1 :v [10 {:x 11}] :s #{:k}}
           2 {:n nil}
           3 [7 8]
           4 "str"
           5 #{:n}
           6 nil
           7 {:m {:n 70}}
           8 (slab/vector-of :long 80 81)}
        s (slab/share m)
        collect (fn [acc k v] (conj acc [k v]))]
    (doseq [ks [[:n] [:v 1 :x] [:v 0] [:s :k] [:n :q] [0] [1] [:m :n] [:m] [] nil '(:v 1 :x)]]
      (is (= (reduce-kv-in-as-core s ks collect []) (slab/reduce-kv-in s ks collect [])) (pr-str ks))
      (is (= (into {} (reduce-kv-in-as-core m ks collect [])) (into {} (slab/reduce-kv-in s ks collect []))) (pr-str ks)))
    (is (= (reduce-kv-in-as-core m [:n] collect []) (slab/reduce-kv-in m [:n] collect []))
        "anything else is clojure.core's reduce-kv and get-in")
    (is (= [[0 [0 1]] [1 [2 3]]] (slab/reduce-kv-in (slab/vector [0 1] [2 3]) [] collect []))
        "a vector, by clojure.core's reduce-kv")))

(deftest reduce-kv-in-stops-at-reduced
  (let [n ahead-n   ; big enough for the walk to gather entries ahead
        m (into {nil {:n -1}} (map (fn [i] [i (if (even? i) {:n i} i)])) (range n))]
    (doseq [[build s] [[:assoc (scattered n #(get m %))]
                       [:share (slab/share m)]]
            :let [s (if (= build :assoc) (assoc s nil {:n -1}) s)]]
      (testing (str "built by " build)
        (is (= m s))
        (doseq [stop [1 2 33 1000 (count m) (inc (count m))]]
          (let [calls (fn [reduce-fn coll]
                        (let [seen (volatile! [])]
                          [(reduce-fn coll [:n] (fn [acc k v]
                                                  (vswap! seen conj [k v])
                                                  (if (= (count @seen) stop) (reduced [:stopped acc]) (inc acc)))
                                      0)
                           @seen]))]
            (is (= (calls reduce-kv-in-as-core m) (calls slab/reduce-kv-in s)) (str "stopping at call " stop))))))))

(deftest reduce-kv-in-makes-no-handle-per-nested-map
  ;; keys below 128 and values under :n that are cached Longs: nothing need be allocated per
  ;; entry but what f's own arithmetic boxes, where reduce-kv makes a map object per value
  (let [s (slab/share (into {} (map (fn [i] [i {:id i :n (mod i 100) :more {:deep (mod i 7)}}])) (range 128)))
        f (fn [^longs acc _ d] (aset acc 0 (+ (aget acc 0) (long d))) acc)
        per-entry (fn [run] (dotimes [_ 2000] (run))
                    (let [before (allocated-bytes)]
                      (dotimes [_ 100] (run))
                      (/ (double (- (allocated-bytes) before)) (* 100 128))))
        in (per-entry #(slab/reduce-kv-in s [:more :deep] f (long-array 1)))
        plain (per-entry #(reduce-kv (fn [acc k v] (f acc k (get-in v [:more :deep]))) (long-array 1) s))]
    (is (= (reduce + (map #(mod % 7) (range 128))) (aget ^longs (slab/reduce-kv-in s [:more :deep] f (long-array 1)) 0)))
    (is (< in 24.0) (str in " heap bytes per entry"))
    (is (> plain (+ in 24.0)) (str "reduce-kv made a map object per value: " plain " against " in))))

(deftest reduce-kv-in-hands-longs-to-a-primitive-function-unboxed
  ;; keys and values far from Clojure's cache of small Longs: boxing either would allocate
  (let [n 2000
        m (into {} (map (fn [i] [(* 1000 i) {:n (* 7 i) :s (str i)}])) (range n))
        s (slab/share (assoc m nil {:n 5} -1 {:s "no n"} -2 3))
        prim (fn [^longs acc ^long k ^long v] (aset acc 0 (+ (aget acc 0) k v)) acc)
        sum #(aget ^longs (slab/reduce-kv-in % [:n] prim (long-array 1)) 0)
        expected (reduce + (map (fn [i] (+ (* 1000 i) (* 7 i))) (range n)))]
    (testing "a nil key, an absent :n and a scalar value go to f boxed, as reduce-kv would"
      (is (thrown? NullPointerException (sum s)))
      (is (= expected (sum (slab/share m)))))
    (let [s (slab/share m)]
      (dotimes [_ 2000] (sum s))
      (let [before (allocated-bytes)]
        (dotimes [_ 100] (sum s))
        (let [per (/ (double (- (allocated-bytes) before)) (* 100 n))]
          (is (< per 1.0) (str per " heap bytes per entry")))))
    (is (= (reduce-kv (fn [acc k v] (+ (long acc) (long k) (long (:n v)))) 0 m)
           (slab/reduce-kv-in (slab/share m) [:n] (fn [acc ^long k ^long v] (+ (long acc) k v)) 0)))))

(deftest reduce-kv-in-on-a-released-map
  (let [m (slab/share {1 {:n 1}})]
    (slab/release! m)
    (is (thrown? IllegalStateException (slab/reduce-kv-in m [:n] (fn [a _ _] a) 0))))
  (testing "released by f during the walk: refused, as get-in on the next nested map is"
    (let [m (slab/share {1 {:m {:k :a}} 2 {:m {:k :b}} 3 {:m {:k :c}}})]
      (is (thrown? IllegalStateException
                   (slab/reduce-kv-in m [:m :k] (fn [acc k v] (when (= 1 (count acc)) (slab/release! m)) (conj acc [k v])) []))))))

;; Review: the path was read and every key hashed before the walk, where get-in reads the
;; path per value and hashes a key only when it looks it up in a map.
(deftest reduce-kv-in-reads-its-path-as-get-in-does
  (let [s (slab/share {1 {:n 1} 2 {:n 2}})
        collect (fn [acc k v] (conj acc [k v]))]
    (testing "a key get-in never reaches is never hashed"
      (is (= (reduce-kv-in-as-core s [:absent (range)] collect []) (slab/reduce-kv-in s [:absent (range)] collect []))))
    (testing "an empty map does not read the path at all"
      (is (= :init (slab/reduce-kv-in (slab/hash-map) :n collect :init)))
      (is (= :init (slab/reduce-kv-in (slab/hash-map) (range) collect :init))))
    (testing "a path that is no seq fails as in get-in"
      (is (= IllegalArgumentException
             (:exception (u/error-of #(reduce-kv-in-as-core s :n collect [])))
             (:exception (u/error-of #(slab/reduce-kv-in s :n collect []))))))
    (testing "the path is read once, when the walk starts"
      (let [ks (object-array [:n])
            out (slab/reduce-kv-in s ks (fn [acc k v] (aset ks 0 :absent) (conj acc [k v])) [])]
        (is (= (reduce-kv-in-as-core s [:n] collect []) out))))))

(deftest reduce-kv-in-leaves-counts-and-blocks-exact
  ;; What f keeps (nested collections at the path's end borrow the walked version's counts),
  ;; f throwing, reduced and a release during the walk: once all is dropped, the segment's
  ;; counts add up, nothing is unreachable and the allocator's structures audit clean.
  (u/with-temp-dir [dir "slab-reduce-in-audit"]
    (let [seg (slab/open-segment (str dir "/a.slab") {:capacity "64m"})
          value-of (fn [i] (case (int (mod i 4))
                             0 {:n {:deep #{i (str "s" i)}} :v [i {:x i}]}
                             1 {:n [i (inc i)]}
                             2 {:n i}
                             3 i))]
      (try
        (slab/set-root! seg :m (into {} (map (fn [i] [i (value-of i)])) (range 5000)))
        (let [baseline (u/settle! seg -1)
              kept (atom [])]
          (let [m (slab/root seg :m)]
            (swap! kept conj (slab/reduce-kv-in m [:n] (fn [acc _ v] (conj acc v)) []))
            (swap! kept conj (slab/reduce-kv-in m [:v 1] (fn [acc _ v] (conj acc v)) []))
            (is (thrown? ArithmeticException
                         (slab/reduce-kv-in m [:n] (fn [acc _ _] (if (= 3 acc) (throw (ArithmeticException. "f failed")) (inc (long acc)))) 0)))
            (is (= :stop (slab/reduce-kv-in m [:n :deep] (fn [_ _ v] (if v (reduced :stop) nil)) nil)))
            (let [m2 (slab/root seg :m)]
              (is (thrown? IllegalStateException
                           (slab/reduce-kv-in m2 [:n] (fn [acc _ _] (when (= 10 acc) (slab/release! m2)) (inc (long acc))) 0)))))
          (let [[ns vs] @kept]
            (is (= 3750 (count (remove nil? ns))))
            (is (= 1250 (count (filter #(= 2 (count (:deep %))) ns))) "the nested maps f kept still read")
            (is (= (vec (range 0 5000 4)) (vec (sort (keep :x vs)))) "and so do the vectors' maps"))
          (reset! kept nil)
          (u/wait-for-no-versions! seg)
          (is (== baseline (u/settle! seg baseline)) "every handle's counts given back")
          (let [r (slab/verify seg)]
            (is (= [] (:damaged r)) (pr-str r))
            (is (zero? (long (:unreachable r))) (pr-str r))
            (is (:counts-add-up r) (pr-str r))
            (is (zero? (long (:count-surplus r))) (pr-str r)))
          (is (map? (u/audit seg nil nil))))
        (finally (slab/close-segment! seg))))))
