;; A reference-count audit for leak tests (not a test itself): recomputes every block's in-degree and compares it with its stored count.
(ns slab.support.audit
  "A reference-count audit for leak tests: walks every block of a still
  segment, recomputes each block's in-degree from the reference graph
  (RefWalker.pushRefs) and compares it with the stored count, so a failed
  leak assertion can say which blocks leaked, of what kind, and whether a
  handle release failed in the Cleaner (where exceptions are otherwise
  swallowed).

  Only for a quiescent segment: no thread may allocate or change counts while
  it walks."
  (:require [clojure.string :as str])
  (:import (slab.mem Allocator$BlockVisitor Segment SizeClasses AllocatorDescriptor LongStack BlockTypes)
           (slab.ref Heap Ownership RefWalker)))

(set! *warn-on-reflection* true)

(def type-names
  {BlockTypes/RAW :raw, BlockTypes/BLOB :blob, BlockTypes/INTERNED :interned,
   BlockTypes/INTERN_TABLE :intern-table, BlockTypes/COLL :coll, BlockTypes/MAP_NODE :map-node,
   BlockTypes/MAP_COLLISION :map-collision, BlockTypes/SET_NODE :set-node,
   BlockTypes/SET_COLLISION :set-collision, BlockTypes/VEC_BRANCH :vec-branch,
   BlockTypes/VEC_LEAF :vec-leaf, BlockTypes/ROOT_TABLE :root-table,
   BlockTypes/PROCESS_TABLE :process-table, BlockTypes/LEDGER :ledger, BlockTypes/BOX :box,
   BlockTypes/CELL :cell, BlockTypes/META_SYMBOL :meta-symbol, BlockTypes/VEC_PRIM_LEAF :vec-prim-leaf})

(defn live-blocks
  "offset -> {:type :size :refcount} for every live block of the heap."
  [^Segment seg]
  (let [acc (java.util.HashMap.)]
    (.forEachBlock (.allocator seg)
                   (reify Allocator$BlockVisitor
                     (visit [_ off h]
                       (when (== (AllocatorDescriptor/stateOf h) AllocatorDescriptor/STATE_LIVE)
                         (.put acc off {:type (type-names (AllocatorDescriptor/typeOf h) (AllocatorDescriptor/typeOf h))
                                        :size (SizeClasses/sizeOf (AllocatorDescriptor/classOf h))
                                        :refcount (AllocatorDescriptor/refcountOf h)})))))
    (into {} acc)))

(defn- in-degrees [^Heap heap blocks]
  (let [st (LongStack.)]
    (reduce (fn [m off]
              (RefWalker/pushRefs heap (long off) st)
              (loop [m m]
                (if (.isEmpty st) m (recur (update m (.pop st) (fnil inc 0))))))
            {} (keys blocks))))

(defn audit
  "{:counted bytes the allocator's counters report in use, :walked bytes of
    the live blocks found, :mismatch blocks whose count differs from the
    references live blocks hold on them (excess = held by handles, or leaked),
    :dangling references to blocks that are not live, :cleanup-failures and
    :last-cleanup-failure of the heap's Cleaner actions}."
  [^Segment seg]
  (let [heap (Heap/of seg)
        ^Ownership ownership (.ownership heap)
        blocks (live-blocks seg)
        deg (in-degrees heap blocks)]
    {:counted (.bytesInUse (.stats (.allocator seg)))
     :walked (reduce + 0 (map :size (vals blocks)))
     :mismatch (->> blocks
                    (keep (fn [[off {:keys [type refcount] :as b}]]
                            (let [d (get deg off 0)]
                              (when (and (not= refcount d) (not (#{:interned :intern-table} type)))
                                (assoc b :offset off :in-degree d)))))
                    (sort-by :offset)
                    vec)
     :dangling (vec (sort (remove #(contains? blocks %) (keys deg))))
     :cleanup-failures (.cleanupFailures ownership)
     :last-cleanup-failure (.lastCleanupFailure ownership)}))

(defn describe
  "A readable summary of (audit seg) for an assertion message."
  [^Segment seg]
  (let [{:keys [counted walked mismatch dangling cleanup-failures last-cleanup-failure]} (audit seg)]
    (str/join "\n"
              (concat
               [(str "audit: counters say " counted " bytes in use, live blocks add up to " walked)
                (str "blocks whose count is not their in-degree (" (count mismatch) "):")]
               (map pr-str (take 40 mismatch))
               [(str "references to blocks that are not live: " (pr-str (take 40 dangling)))
                (str "Cleaner actions that threw: " cleanup-failures
                     (when last-cleanup-failure (str ", last: " last-cleanup-failure)))]))))
