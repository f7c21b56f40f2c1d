;; Proves that the damage a hostile review found slipping through is reported: a zeroed intern bucket, a next-edit word a transient could mistake for a sealed node's, a forged edit id in place of a seal, damage under a crashed writer's recovery, and a zeroed page table.
(ns slab.share.targeted-damage-test
  "Each case damages a cleanly written file the way a hostile review did,
  then checks that slab names the damage (:damaged-segment, from the read,
  the open or verify) and never reads or writes other data instead."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.corruption :refer [read-long write-long!]]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (slab.map MapNodeDescriptor)
           (slab.mem HeaderDescriptor)
           (slab.ref Handle Heap SharedColl)
           (slab.value InternDescriptor)))

(set! *warn-on-reflection* true)

(defn- error [f] (:error (u/error-of f)))

(defn- written!
  "A closed segment at p with these roots; returns the offset of root k's
  root node (a map's), read while it was open."
  [p roots k]
  (let [seg (slab/open-segment p {:capacity "16m"})]
    (doseq [[r v] roots] (slab/set-root! seg r v))
    (let [node (.node ^Handle (.slabHandle ^SharedColl (slab/root seg k)))]
      (slab/close-segment! seg)
      node)))

(deftest a-zeroed-intern-bucket-is-reported-by-verify
  ;; The root's name can no longer be found by its hash: the root reads as
  ;; absent and a writer would add a second root of that name.
  (u/with-temp-dir [dir "damage-intern"]
    (let [p (str dir "/d.slab")
          _ (written! p {:orders {:k1 1 :sku "abc"}} :orders)]
      (with-open [f (RandomAccessFile. p "rw")]
        (let [t (read-long f HeaderDescriptor/INTERN_TABLE_OFFSET)
              bucket (+ t InternDescriptor/INTERN_BUCKETS_OFFSET
                        (* 8 (bit-and (hash :orders) (dec InternDescriptor/INTERN_BUCKETS))))]
          (write-long! f bucket 0)))
      (let [ro (slab/open-segment p {:read-only true})]
        (try
          (is (seq (:damaged (slab/verify ro))) "verify names the unfindable name")
          (finally (slab/close-segment! ro)))))))

(deftest a-next-edit-word-outside-the-ids-is-refused-on-open
  ;; Set to a sealed node's edit word, a transient would take that node for its
  ;; own and rewrite a published version in place.
  (u/with-temp-dir [dir "damage-next-edit"]
    (let [p (str dir "/d.slab")
          node (written! p {:m {:a 1 :b 2 :c 3}} :m)]
      (with-open [f (RandomAccessFile. p "rw")]
        (write-long! f HeaderDescriptor/NEXT_EDIT_OFFSET (read-long f (+ node MapNodeDescriptor/EDIT_OFFSET))))
      (is (= :damaged-segment (error #(slab/close-segment! (slab/open-segment p)))))
      (is (= :damaged-segment (error #(slab/close-segment! (slab/open-segment p {:read-only true})))))
      (doseq [v [0 -1 (inc (bit-shift-left 1 47))]]
        (with-open [f (RandomAccessFile. p "rw")] (write-long! f HeaderDescriptor/NEXT_EDIT_OFFSET v))
        (is (= :damaged-segment (error #(slab/close-segment! (slab/open-segment p)))) (str v))))))

(deftest a-forged-edit-id-does-not-pass-for-a-seal-on-read
  ;; An edit id below next-edit in place of a node's seal, and a changed value:
  ;; reads under {:verify :on-read} accept an unsealed node only from a
  ;; transient of their own mapping, so this is damage, read-only or not.
  (u/with-temp-dir [dir "damage-forged"]
    (let [p (str dir "/d.slab")
          node (written! p {:m {:a 1 :b 2 :c 3}} :m)]
      (with-open [f (RandomAccessFile. p "rw")]
        (write-long! f (+ node MapNodeDescriptor/ENTRIES_OFFSET MapNodeDescriptor/ENTRY_VALUE_OFFSET) 424242)
        (write-long! f (+ node MapNodeDescriptor/EDIT_OFFSET) 1))
      (doseq [opts [{:read-only true :verify :on-read} {:verify :on-read}]]
        (let [seg (slab/open-segment p opts)]
          (try
            (is (= :damaged-segment (error #(into {} (slab/root seg :m)))) (pr-str opts))
            (finally (slab/close-segment! seg)))))
      (testing "a transient of the reading process still reads its own unsealed nodes"
        (let [seg (slab/open-segment (str dir "/ok.slab") {:capacity "16m" :verify :on-read})]
          (try
            (let [t (reduce #(assoc! %1 %2 %2) (transient (slab/with-segment seg (slab/hash-map))) (range 2000))]
              (is (= 1999 (get t 1999)))
              (is (= 2000 (count (persistent! t)))))
            (finally (slab/close-segment! seg))))))))

(deftest recovery-after-a-crash-refuses-damage-before-changing-anything
  ;; A killed writer leaves a slot whose ledger recovery would replay: with a
  ;; damaged node reachable, the open refuses before a byte changes.
  (u/with-temp-dir [dir "damage-recovery"]
    (let [p (str dir "/d.slab")
          k (u/start-child (pr-str `(do (require '[slab.core :as ~'slab])
                                        (let [seg# (slab/open-segment ~p {:capacity "16m"})]
                                          (slab/set-root! seg# :m (into {} (map (fn [i#] [i# (str "v" i#)])) (range 3000)))
                                          (def ~'held (slab/root seg# :m))   ; a count the ledger records
                                          (println :ready)
                                          (read-line))))
                           :jvm-opts ["-XX:TieredStopAtLevel=1"])]
      (try
        (is (= :ready (u/read-edn! k 60000)))
        (finally (u/destroy! k)))
      (let [node (let [ro (slab/open-segment p {:read-only true})]
                   (try (.node ^Handle (.slabHandle ^SharedColl (slab/root ro :m)))
                        (finally (slab/close-segment! ro))))]
        (with-open [f (RandomAccessFile. p "rw")]
          (let [at (+ node MapNodeDescriptor/EDIT_OFFSET)]
            (write-long! f at (bit-xor (read-long f at) 1))))   ; one bit of its seal
        (let [live #(let [ro (slab/open-segment p {:read-only true})]
                      (try (set (keys (audit/live-blocks ro))) (finally (slab/close-segment! ro))))
              before (live)]
          (is (= :damaged-segment (error #(slab/close-segment! (slab/open-segment p)))))
          (is (= before (live)) "no ledger was replayed and no block freed"))))))

(deftest a-zeroed-page-table-is-damage-not-a-raw-exception
  (u/with-temp-dir [dir "damage-page-table"]
    (let [p (str dir "/d.slab")
          _ (written! p {:m {:a 1} :mixed (vec (range 5000))} :m)]
      (with-open [f (RandomAccessFile. p "rw")]
        (.seek f HeaderDescriptor/PAGE_TABLE_OFFSET)
        (.write f (byte-array 4096)))
      (let [r (u/error-of #(let [seg (slab/open-segment p)]
                             (try (slab/set-root! seg :mixed nil)
                                  (slab/verify seg)
                                  (finally (slab/close-segment! seg)))))]
        (is (or (= :damaged-segment (:error r)) (seq (:damaged (:value r)))) (pr-str (dissoc r :data)))))))

(defn- bucket-word ^long [^RandomAccessFile f k]
  (+ (read-long f HeaderDescriptor/INTERN_TABLE_OFFSET) InternDescriptor/INTERN_BUCKETS_OFFSET
     (* 8 (bit-and (hash k) (dec InternDescriptor/INTERN_BUCKETS)))))

(deftest a-damaged-keyword-key-is-reported-when-the-probe-offset-is-known
  ;; A lookup of a keyword this process has interned compares offsets; a slot
  ;; holding another offset must still be decoded (and so checked), not taken
  ;; for a different key: else get says absent and assoc adds a second :a.
  (u/with-temp-dir [dir "damage-keyword-slot"]
    (let [p (str dir "/d.slab")
          [node a] (let [seg (slab/open-segment p {:capacity "16m"})]
                     (slab/set-root! seg :m {:a 1 :b 2 :c 3})
                     (let [r [(.node ^Handle (.slabHandle ^SharedColl (slab/root seg :m)))
                              (.find (.interner (Heap/of seg)) :a)]]
                       (slab/close-segment! seg)
                       r))
          a-key (with-open [f (RandomAccessFile. p "r")]
                  (first (for [i (range 3)
                               :let [k (+ node MapNodeDescriptor/ENTRIES_OFFSET (* i MapNodeDescriptor/MAP_ENTRY_LENGTH)
                                          MapNodeDescriptor/ENTRY_KEY_OFFSET)]
                               :when (= a (read-long f k))]
                           k)))]
      (is (some? a-key) "found :a's key slot")
      (doseq [bad [8 node (inc a)]]
        (with-open [f (RandomAccessFile. p "rw")] (write-long! f a-key bad))
        (let [seg (slab/open-segment p)]
          (try
            (let [m (slab/root seg :m)]
              (slab/with-segment seg (slab/hash-map :a 0))   ; this process now knows :a's offset
              (doseq [[what f] {"get" #(get m :a) "contains?" #(contains? m :a) "assoc" #(assoc m :a 9)
                                "assoc!" #(persistent! (assoc! (transient m) :a 9)) "dissoc" #(dissoc m :a)}]
                (is (= :damaged-segment (error f)) (str what ", key slot " bad))))
            (finally (slab/close-segment! seg))))))))

(deftest a-name-given-a-second-block-still-equals-its-stored-key
  ;; A zeroed bucket makes a writer intern a second block for :k (FORMAT.md);
  ;; the stored :k must still be the key :k, not a different one beside it.
  (u/with-temp-dir [dir "damage-second-block"]
    (let [p (str dir "/d.slab")]
      (written! p {:m {:k 1 :other 2}} :m)
      (with-open [f (RandomAccessFile. p "rw")] (write-long! f (bucket-word f :k) 0))
      (let [seg (slab/open-segment p)]
        (try
          (let [m (slab/root seg :m)]
            (is (= {:k 2 :other 2} (into {} (assoc m :k 2))))
            (is (= 2 (count (assoc m :k 2))) "no second :k entry")
            (is (= 1 (get m :k)))
            (is (= {:other 2} (into {} (dissoc m :k)))))
          (finally (slab/close-segment! seg)))))))

(deftest verify-walks-the-intern-chains-again
  ;; This process walked the chains while it wrote; damage to a bucket while
  ;; it has the file open is found by verify, not hidden by what it remembers.
  (u/with-temp-dir [dir "damage-live-bucket"]
    (let [p (str dir "/d.slab")
          seg (slab/open-segment p {:capacity "16m"})]
      (try
        (slab/set-root! seg :orders {:k1 1 :sku "abc"})
        (is (empty? (:damaged (slab/verify seg))))
        (with-open [f (RandomAccessFile. p "rw")] (write-long! f (bucket-word f :orders) 0))
        (is (seq (:damaged (slab/verify seg))) "verify names the unfindable name")
        (finally (slab/close-segment! seg))))))
