;; Proves that the damage the integrity issue names (a child naming its own node, a cycle through two nodes, a size class of 251, lengths past the frontier, a free block reachable from a root) is reported as :damaged-segment by reads and verify, promptly, and that the sweep refuses a damaged heap.
(ns slab.share.damage-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import (slab.mem AllocatorDescriptor BlockTypes HeaderDescriptor Segment)
           (slab.map MapNodeDescriptor)
           (slab.ref Handle SharedColl)
           (slab.share SharingDescriptor)
           (slab.value BlobDescriptor Interner)
           (slab.vector VecNodeDescriptor)))

(set! *warn-on-reflection* true)

(defn- outcome
  "Runs f in a future: :damaged for slab's :damaged-segment error, :hang if
  it has not finished after 30 s, [:value v] or [:other-error e] otherwise."
  [f]
  (let [fut (future (try [:value (f)]
                         (catch Throwable e
                           (if (= :damaged-segment (:slab/error (ex-data e))) :damaged [:other-error e]))))
        r (deref fut 30000 :hang)]
    (when (= r :hang) (future-cancel fut))
    r))

(defmacro ^:private with-seg
  "Binds sym to a fresh named segment (opts as open-segment's), closed afterwards."
  [[sym opts] & body]
  `(u/with-temp-dir [dir# "slab-damage"]
     (let [~sym (slab/open-segment (str dir# "/d.slab") (merge {:capacity "16m"} ~opts))]
       (try ~@body
            (finally (try (slab/close-segment! ~sym) (catch Throwable _#)))))))

(defn- handle ^Handle [x] (.slabHandle ^SharedColl x))

(defn- map-child-slot
  "Offset of the word holding child j of bitmap node n of a map."
  ^long [^Segment seg ^long n ^long j]
  (let [entries (Long/bitCount (bit-and 0xFFFFFFFF (.getInt seg (+ n MapNodeDescriptor/DATAMAP_OFFSET))))]
    (+ n MapNodeDescriptor/ENTRIES_OFFSET (* entries MapNodeDescriptor/MAP_ENTRY_LENGTH) (* j MapNodeDescriptor/CHILD_LENGTH))))

(defn- map-reads
  "Every whole read of m: seq, reduce-kv, get of every key, =."
  [m expected]
  {:seq (outcome #(count (doall (seq m))))
   :reduce-kv (outcome #(reduce-kv (fn [n _ _] (inc n)) 0 m))
   :get (outcome #(doall (map (fn [k] (get m k)) (keys expected))))
   := (outcome #(= m expected))})

(defn- damaged-verify? [seg]
  (let [r (outcome #(slab/verify seg))]
    (and (vector? r) (= :value (first r)) (boolean (seq (:damaged (second r)))))))

(def ^:private deep-map (into {} (map (fn [i] [i (str "v" i)])) (range 300)))

(deftest a-child-naming-its-own-node
  ;; One bit per level: a deep trie, so the loop would have many levels to go round.
  (with-seg [seg {:map-bits 1}]
    (slab/set-root! seg :m deep-map)
    (let [m (slab/root seg :m)
          root (.node (handle m))]
      (.putLong seg (map-child-slot seg root 0) root)
      (let [reads (map-reads (slab/root seg :m) deep-map)]
        (is (= {:seq :damaged :reduce-kv :damaged :get :damaged := :damaged} reads)))
      (is (damaged-verify? seg)))))

(deftest a-cycle-through-two-nodes
  (with-seg [seg {:map-bits 1}]
    (slab/set-root! seg :m deep-map)
    (let [root (.node (handle (slab/root seg :m)))
          child (.getLong seg (map-child-slot seg root 0))]
      (.putLong seg (map-child-slot seg child 0) root)
      (is (= {:seq :damaged :reduce-kv :damaged :get :damaged := :damaged}
             (map-reads (slab/root seg :m) deep-map)))
      (is (damaged-verify? seg)))))

(deftest a-vector-branch-naming-itself
  (with-seg [seg {:vec-bits 1}]
    (slab/set-root! seg :v (vec (range 100)))
    (let [root (.node (handle (slab/root seg :v)))]
      (.putLong seg (+ root (VecNodeDescriptor/childOffset 0)) root)
      (let [v (slab/root seg :v)]
        (is (= :damaged (outcome #(nth v 0))))
        (is (= :damaged (outcome #(reduce + v))))
        (is (= :damaged (outcome #(= v (vec (range 100)))))))
      (is (damaged-verify? seg)))))

(defn- set-class!
  "Sets the size-class field of the block header at off."
  [^Segment seg ^long off cls]
  (let [h (.getLong seg off)]
    (.putLong seg off (bit-or (bit-and h (bit-not (bit-shift-left 0xFFFF AllocatorDescriptor/CLASS_SHIFT)))
                              (bit-shift-left (long cls) AllocatorDescriptor/CLASS_SHIFT)))))

(defn- set-header-field!
  "Sets the 8-bit field (state or type) or 16-bit size class at shift in the block header at off."
  [^Segment seg off shift bits v]
  (let [off (long off) shift (long shift)
        h (.getLong seg off)
        mask (bit-shift-left (dec (bit-shift-left 1 (long bits))) shift)]
    (.putLong seg off (bit-or (bit-and h (bit-not mask)) (bit-shift-left (long v) shift)))))

(deftest a-vector-trie-node-not-as-allocated
  ;; nth checks a trie node in two compares (its header exactly as allocated: class, state
  ;; and type; its capacity); any other header or capacity takes the full check.
  (with-seg [seg {}]
    (slab/set-root! seg :v (vec (range 1000)))   ; one branch level: the root's children are leaves
    (let [v (slab/root seg :v)
          root (.node (handle v))
          leaf (.getLong seg (+ root (VecNodeDescriptor/childOffset 1)))   ; elements 32..63
          h (.getLong seg leaf)
          nw (.getLong seg (+ leaf VecNodeDescriptor/NODE_WORD_OFFSET))
          cls (AllocatorDescriptor/classOf h)
          restore! (fn [] (.putLong seg leaf h) (.putLong seg (+ leaf VecNodeDescriptor/NODE_WORD_OFFSET) nw))]
      (is (= [40 900] [(nth v 40) (nth v 900)]))
      (doseq [[what f] [["a free block" #(set-header-field! seg leaf AllocatorDescriptor/STATE_SHIFT 8 AllocatorDescriptor/STATE_FREE)]
                        ["a branch's type" #(set-header-field! seg leaf AllocatorDescriptor/TYPE_SHIFT 8 BlockTypes/VEC_BRANCH)]
                        ["a smaller size class" #(set-header-field! seg leaf AllocatorDescriptor/CLASS_SHIFT 16 (dec cls))]
                        ["a size class of 251" #(set-header-field! seg leaf AllocatorDescriptor/CLASS_SHIFT 16 251)]
                        ["a capacity of 31" #(.putLong seg (+ leaf VecNodeDescriptor/NODE_WORD_OFFSET) (dec nw))]]]
        (f)
        (is (= :damaged (outcome #(nth v 40))) what)
        (is (= [:value 900] (outcome #(nth v 900))) (str what ": another leaf reads as before"))
        (restore!))
      (testing "a larger size class still holds the leaf: read through the full check"
        (set-header-field! seg leaf AllocatorDescriptor/CLASS_SHIFT 16 (inc cls))
        (is (= [:value 40] (outcome #(nth v 40))))
        (restore!))
      (is (= (range 1000) (map #(nth v %) (range 1000)))))))

(deftest a-size-class-of-251
  (testing "in a node's header: whole reads and verify report it"
    (with-seg [seg {}]
      (slab/set-root! seg :m deep-map)
      (set-class! seg (.node (handle (slab/root seg :m))) 251)
      (let [{:keys [seq reduce-kv get] :as reads} (map-reads (slab/root seg :m) deep-map)]
        (is (= [:damaged :damaged] [seq reduce-kv]))
        ;; A lookup checks offset, state, type and depth but not the class, which only
        ;; sizes the block: it reads the right entry (or reports damage), never another.
        (is (contains? #{:damaged [:value (map deep-map (keys deep-map))]} get))
        (is (contains? #{:damaged [:value true]} (:= reads))))
      (is (damaged-verify? seg))))
  (testing "in the page table: verify ends and reports it, the sweep refuses to run and frees nothing"
    (with-seg [seg {}]
      (slab/set-root! seg :m deep-map)
      (let [node (.node (handle (slab/root seg :m)))
            base (HeaderDescriptor/heapBase (.capacity seg))
            word-of (fn ^long [^long page] (+ HeaderDescriptor/PAGE_TABLE_OFFSET (* page AllocatorDescriptor/PAGE_WORD_LENGTH)))
            page (quot (- node base) AllocatorDescriptor/PAGE_LENGTH)
            w (.getLong seg (word-of page))
            first-page (if (= AllocatorDescriptor/PAGE_INNER (AllocatorDescriptor/pageKind w))
                         (- page (AllocatorDescriptor/pageCount w))
                         page)
            fw (.getLong seg (word-of first-page))]
        (.putLong seg (word-of first-page)
                  (bit-or (bit-and fw (bit-not (bit-shift-left 0xFFFF AllocatorDescriptor/PAGE_CLASS_SHIFT)))
                          (bit-shift-left 251 AllocatorDescriptor/PAGE_CLASS_SHIFT)))
        (is (damaged-verify? seg))
        (is (= :damaged (outcome #(slab/recover! seg))))
        (is (= [:value true] (outcome #(= deep-map (slab/root seg :m))))
            "nothing was freed by the refused sweep")))))

(deftest a-span-of-another-size-class-in-the-page-table
  ;; The page table names the span of the boxes (32 bytes) as one of 16-byte
  ;; blocks, of as many pages: the heap walk steps through the span at 16
  ;; bytes, meets every real block (whose header names its own class), so
  ;; every reachable block is still met, and lands inside each. verify must
  ;; report it, and the sweep must refuse, not rebuild free lists through the
  ;; middle of live blocks.
  (with-seg [seg {}]
    (slab/set-root! seg :v [1 2 3])
    (slab/set-root! seg :m {:a [1 2 3]})
    (let [rt (.getLong seg HeaderDescriptor/ROOT_TABLE_OFFSET)
          leaf (first (for [i (range 65536)
                            :let [cell (.getLong seg (+ rt 64 (* 16 i) 8))]
                            :when (not= 0 cell)]
                        cell))   ; a box
          base (HeaderDescriptor/heapBase (.capacity seg))
          word-of (fn ^long [^long page] (+ HeaderDescriptor/PAGE_TABLE_OFFSET (* page AllocatorDescriptor/PAGE_WORD_LENGTH)))
          page (quot (- leaf base) AllocatorDescriptor/PAGE_LENGTH)
          w (.getLong seg (word-of page))
          first-page (if (= AllocatorDescriptor/PAGE_INNER (AllocatorDescriptor/pageKind w))
                       (- page (AllocatorDescriptor/pageCount w))
                       page)
          fw (.getLong seg (word-of first-page))
          cls (AllocatorDescriptor/pageClass fw)]
      (is (= AllocatorDescriptor/PAGE_SPAN (AllocatorDescriptor/pageKind fw)))
      (is (= (AllocatorDescriptor/spanPages cls) (AllocatorDescriptor/spanPages (dec cls))) "a word the table trusts")
      (.putLong seg (word-of first-page) (AllocatorDescriptor/pageWord AllocatorDescriptor/PAGE_SPAN (dec cls) (AllocatorDescriptor/pageCount fw)))
      (is (damaged-verify? seg))
      (is (= :damaged (outcome #(slab/recover! seg))))
      (.putLong seg (word-of first-page) fw)
      (is (= [:value true] (outcome #(and (= [1 2 3] (slab/root seg :v)) (= {:a [1 2 3]} (slab/root seg :m)))))
          "nothing was changed by the refused sweep")
      (is (not (damaged-verify? seg))))))

(deftest lengths-past-the-block-and-the-frontier
  (doseq [[what value ^long length] [["a string" (apply str (repeat 100 "x")) 0x7FFFFFF0]
                                     ["a UTF-16 string" (apply str (repeat 100 "\u0394")) (unchecked-int 0xFFFFFFFF)]
                                     ["a big integer" (* 1000000000000000000000N 7) 0x7FFFFFFF]
                                     ["a big integer of no bytes" (* 1000000000000000000000N 7) 0]
                                     ["a big decimal" 1.23456789012345678901234567890M -5]]]
    (testing what
      (with-seg [seg {}]
        (slab/set-root! seg :v [value])
        (let [leaf (.tail (handle (slab/root seg :v)))
              blob (.getLong seg (+ leaf (VecNodeDescriptor/payloadOffset 0)))]
          (.putInt seg (+ blob BlobDescriptor/LENGTH_OFFSET) (unchecked-int length))
          (let [v (slab/root seg :v)]
            (is (= :damaged (outcome #(nth v 0))))
            (is (= :damaged (outcome #(= v [value])))))
          (is (damaged-verify? seg)))))))

(deftest a-free-block-reachable-from-a-root
  (with-seg [seg {}]
    (slab/set-root! seg :v [(apply str (repeat 50 "y")) 1 2])
    (let [leaf (.tail (handle (slab/root seg :v)))
          blob (.getLong seg (+ leaf (VecNodeDescriptor/payloadOffset 0)))
          h (.getLong seg blob)]
      ;; the state a freed block has (its count is moot)
      (.putLong seg blob (AllocatorDescriptor/header (AllocatorDescriptor/classOf h) AllocatorDescriptor/STATE_FREE 0 0))
      (let [v (slab/root seg :v)]
        (is (= :damaged (outcome #(nth v 0))))
        (is (= [:value 1] (outcome #(nth v 1))) "the rest of the vector still reads"))
      (is (damaged-verify? seg)))))

(deftest a-root-node-that-is-not-live
  ;; Reading a root takes a count on its version's nodes: a node whose header is
  ;; no longer live (zeroed, or freed) is damage, not a refused retain.
  (doseq [[what value node-of] [["a map's root node" deep-map #(.node (handle %))]
                                ["a set's root node" (set (range 100)) #(.node (handle %))]
                                ["a vector's root node" (vec (range 100)) #(.node (handle %))]
                                ["a vector's tail" (vec (range 100)) #(.tail (handle %))]
                                ["a vector-of's root node" (apply vector-of :double (range 100)) #(.node (handle %))]
                                ["a vector-of's tail" (apply vector-of :double (range 100)) #(.tail (handle %))]]
          header [0 :free]]
    (testing (str what ", header " header)
      (with-seg [seg {}]
        (slab/set-root! seg :x value)
        (slab/set-root! seg :outer {:in (slab/root seg :x)})   ; shares the nodes
        (let [^long node (node-of (slab/root seg :x))
              h (.getLong seg node)]
          (.putLong seg node (if (= header :free)
                               (AllocatorDescriptor/header (AllocatorDescriptor/classOf h) AllocatorDescriptor/STATE_FREE 0 0)
                               0))
          (is (= :damaged (outcome #(slab/root seg :x))))
          (is (= :damaged (outcome #(= value (get (slab/root seg :outer) :in)))) "nested, read through the outer version")
          (is (damaged-verify? seg)))))))

(deftest a-sound-segment-verifies-clean
  (with-seg [seg {}]
    (slab/set-root! seg :m {:a [1 2 {:b #{"x" 2.5 3/4 12345678901234567890N}}] :s (apply str (repeat 40 "z"))
                            (with-meta 'sym {:line 1}) (java.util.UUID/randomUUID) :i (java.time.Instant/now)})
    (slab/set-root! seg :v (vec (range 2000)))
    (is (= [] (:damaged (slab/verify seg))))))

(deftest a-root-table-entry-naming-another-keyword
  ;; A root-table entry whose name word was changed to another interned
  ;; keyword lists a root the table cannot find by its hash: snapshot! of
  ;; every root reports damage, not "no root of that name".
  (with-seg [seg {}]
    (slab/set-root! seg :a {:x 1})
    (slab/set-root! seg :b {:not-a-root 2})              ; interns :not-a-root
    (let [t (.getLong seg HeaderDescriptor/ROOT_TABLE_OFFSET)
          ^Interner interner (.interner (slab.ref.Heap/of seg))
          a-name (.find interner :a)
          other (.find interner :not-a-root)
          entry (first (for [i (range SharingDescriptor/ROOTS_CAPACITY)
                             :let [e (+ t SharingDescriptor/ROOTS_ENTRIES_OFFSET (* i SharingDescriptor/ROOTS_ENTRY_LENGTH))]
                             :when (= a-name (.getLong seg (+ e SharingDescriptor/ROOTS_ENTRY_NAME_OFFSET)))]
                         e))]
      (is (pos? (long other)))
      (.putLong seg (+ (long entry) SharingDescriptor/ROOTS_ENTRY_NAME_OFFSET) other)
      (u/with-temp-dir [dir "slab-damage-snap"]
        (is (= :damaged (outcome #(slab/snapshot! seg (str dir "/s.slab")))))))))

(deftest a-process-slot-state-no-protocol-writes
  ;; A damaged state word in the process table read as a live process (so a
  ;; read-only opening said :segment-in-use, naming a made-up pid): it is damage.
  (u/with-temp-dir [dir "slab-damage-slot"]
    (let [p (str dir "/d.slab")
          seg (slab/open-segment p {:capacity "16m"})]
      (slab/set-root! seg :a {:x 1})
      (slab/close-segment! seg)
      (with-open [raf (java.io.RandomAccessFile. p "rw")]
        (.seek raf HeaderDescriptor/PROCESS_TABLE_OFFSET)
        (let [t (Long/reverseBytes (.readLong raf))
              sl (+ t SharingDescriptor/SLOTS_OFFSET (* 5 SharingDescriptor/SLOT_LENGTH))]
          (.seek raf (+ sl SharingDescriptor/SLOT_STATE_OFFSET))
          (.writeLong raf (Long/reverseBytes 0x0000123400000057))))
      (testing "read-only"
        (is (= :damaged (outcome #(slab/close-segment! (slab/open-segment p {:read-only true}))))))
      (testing "for writing"
        (is (= :damaged (outcome #(slab/close-segment! (slab/open-segment p)))))))))
