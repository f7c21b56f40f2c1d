(ns slab.share.snapshot-test
  "Proves that slab/snapshot! writes exactly the versions the roots published
  when it began (while writers go on), that the file reads back = in another
  JVM, read-only, from another directory, that it is no larger than the live
  data plus pages' slack, and that any damaged byte is refused, never read."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.util :as tu])
  (:import [java.io RandomAccessFile]
           [java.nio.file Files CopyOption Path StandardCopyOption]
           [slab.mem AllocatorDescriptor HeaderDescriptor SizeClasses SnapshotDescriptor]))

(set! *warn-on-reflection* true)

(defn- entry
  "Entry k of root r: mostly short strings, every tenth a vector with a long string (a nested collection and a blob)."
  [r k]
  (if (zero? (mod (long k) 10))
    [k (str "a string long enough to be stored as a blob, entry " k " of root " (name r))]
    (str (name r) "-" k)))

(defn- expected
  "Root r's value after it grew to n entries."
  [r n]
  (into {} (map (fn [k] [k (entry r k)])) (range n)))

(def ^:private fixed {:nested {:v [1 2 3 {:deep #{:a "b"}}] :s "x"} :n 42 :l '(1 2 3)})

(defn- child-check
  "A JVM that opens path read-only with :verify :full, then prints, per root,
  its count and whether it equals what the writers published at that count
  (the fixed root: whether it equals `fixed`), then verify's report."
  [path]
  (tu/start-child
   (format "(do (require '[slab.core :as slab])
              (let [seg (slab/open-segment %s {:read-only true :verify :full})
                    entry (fn [r k] (if (zero? (mod k 10))
                                      [k (str \"a string long enough to be stored as a blob, entry \" k \" of root \" (name r))]
                                      (str (name r) \"-\" k)))
                    exp (fn [r n] (into {} (map (fn [k] [k (entry r k)])) (range n)))]
                (prn (into (sorted-map)
                           (for [r (slab/roots seg)]
                             (let [v (slab/root seg r)]
                               [r (if (= r :fixed) [:fixed (= v '%s)] [(count v) (= v (exp r (count v)))])]))))
                (prn (slab/verify seg))
                (slab/close-segment! seg)
                (shutdown-agents)))"
           (pr-str (str path)) (pr-str fixed))
   :jvm-opts ["-XX:TieredStopAtLevel=1"]))

(defn- copy-to-dir
  "Copies file to a fresh directory (as to another machine); returns the copy's path."
  ^Path [^Path file]
  (let [dir (tu/temp-dir "snapshot-copy")
        dest (.resolve dir "copied.slab")]
    (Files/copy file dest ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption [StandardCopyOption/COPY_ATTRIBUTES]))
    dest))

(deftest a-snapshot-taken-while-writers-swap-holds-the-versions-published-at-its-start
  (tu/with-temp-dir [dir "snapshot"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "512m"})
          names [:w0 :w1 :w2 :w3]
          start 20000
          atoms (into {} (for [r names] [r (slab/atom seg r (slab/with-segment seg (slab/share (expected r start))))]))
          _ (slab/set-root! seg :fixed fixed)
          stop (atom false)
          swaps (atom 0)
          writers (mapv (fn [r] (future
                                  (while (not @stop)
                                    (swap! (atoms r) (fn [m] (assoc m (count m) (entry r (count m)))))
                                    (swap! swaps inc))))
                        names)
          _ (while (< (long @swaps) 200) (Thread/sleep 5))
          before (into {} (for [r names] [r (count @(atoms r))]))
          snap (.resolve dir "snap.slab")
          result (slab/snapshot! seg snap)
          after (into {} (for [r names] [r (count @(atoms r))]))
          during (- (long (reduce + (vals after))) (long (reduce + (vals before))))]
      (reset! stop true)
      (run! deref writers)
      (is (= (set (conj names :fixed)) (set (:roots result))))
      (is (= (Files/size snap) (:bytes result)))
      (is (pos? during) "the writers went on while the snapshot was written")
      (let [copy (copy-to-dir snap)
            k (child-check copy)]
        (try
          (let [found (tu/read-edn! k 120000)
                report (tu/read-edn! k 60000)]
            (is (= [:fixed true] (:fixed found)))
            (doseq [r names
                    :let [[n same?] (found r)]]
              (testing (str r)
                (is (<= (long (before r)) (long n) (long (after r)))
                    "the version copied was published between the snapshot's call and its return")
                (is (true? same?) "the copy equals the version published with that many entries")))
            (is (= {:unreachable 0 :stuck-slots 0 :count-surplus 0 :counts-add-up true}
                   (select-keys report [:unreachable :stuck-slots :count-surplus :counts-add-up]))))
          (is (= 0 (tu/await-exit k 60000)))
          (finally
            (tu/destroy! k)
            (tu/delete-tree! (.getParent copy)))))
      (slab/close-segment! seg))))

(defn- slack
  "What a fresh segment of this capacity holds beyond its blocks: the header
  and page table, one partly filled span per size class in use, the trailer."
  ^long [^long capacity blocks-in-use]
  (+ (HeaderDescriptor/heapBase capacity)
     (reduce + (for [[size _] blocks-in-use
                     :let [cls (SizeClasses/classFor (long size))]]
                 (if (<= (long size) AllocatorDescriptor/SPAN_MAX_BLOCK)
                   (* (AllocatorDescriptor/spanPages cls) AllocatorDescriptor/PAGE_LENGTH)
                   0)))
     SnapshotDescriptor/TRAILER_LENGTH))

(deftest a-snapshot-is-no-larger-than-live-data-plus-slack-and-a-single-root-can-be-taken
  (tu/with-temp-dir [dir "snapshot-size"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "1g"})
          big (slab/with-segment seg
                (persistent! (reduce #(assoc! %1 %2 (str "value " %2)) (transient (slab/hash-map)) (range 200000))))
          small {:a [1 2 3] :b "small"}]
      (slab/set-root! seg :big big)
      (slab/set-root! seg :small small)
      ;; garbage the source still holds (versions not yet collected) must not be copied
      (dotimes [i 2000] (slab/set-root! seg :churn (slab/with-segment seg (slab/share {:i i :v (vec (range 50))}))))
      (slab/set-root! seg :churn nil)
      (tu/settle! seg -1)
      (let [live (:bytes-in-use (slab/stats seg))]
        (testing "every root"
          (let [p (.resolve dir "all.slab")
                r (slab/snapshot! seg p)
                ro (slab/open-segment p {:read-only true})
                st (slab/stats ro)]
            (try
              (is (= (set (slab/roots ro)) #{:big :small :churn}))
              (is (= big (slab/root ro :big)))
              (is (= small (slab/root ro :small)))
              (is (nil? (slab/root ro :churn)))
              (is (<= (long (:bytes r)) (+ (long live) (slack (:capacity st) (:blocks-in-use st))))
                  (str "snapshot " (:bytes r) " bytes, source live " live " bytes"))
              (is (== (:bytes r) (+ (long (:high-water st)) SnapshotDescriptor/TRAILER_LENGTH))
                  "the file ends at the snapshot's frontier")
              (finally (slab/close-segment! ro)))))
        (testing "a single root"
          (let [p (.resolve dir "small.slab")
                r (slab/snapshot! seg p {:roots [:small]})
                ro (slab/open-segment p {:read-only true :verify :full})]
            (try
              (is (= [:small] (:roots r)))
              (is (= [:small] (slab/roots ro)))
              (is (= small (slab/root ro :small)))
              (is (nil? (slab/root ro :big)))
              (is (< (long (:bytes r)) (quot (long live) 4)) "the big root was not copied")
              (finally (slab/close-segment! ro))))))
      (slab/close-segment! seg))))

(deftest roots-that-share-structure-stay-shared-in-a-snapshot
  ;; Two versions of one map, and a map whose values are one nested map: the
  ;; snapshot copies each shared node once, so it is about as large as one
  ;; version, where a copy value by value would be twice (and 2,000 times) as large.
  (tu/with-temp-dir [dir "snapshot-sharing"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "1g"})
          v1 (slab/with-segment seg
               (persistent! (reduce #(assoc! %1 %2 (str "a value long enough for a blob " %2))
                                    (transient (slab/hash-map)) (range 100000))))
          v2 (assoc v1 :new "entry" 5 "changed")
          inner (slab/with-segment seg (slab/share (zipmap (range 500) (range 500))))
          outer (slab/with-segment seg (slab/share (zipmap (range 2000) (repeat inner))))
          size (fn [roots]
                 (let [p (.resolve dir (str (gensym "snap") ".slab"))]
                   (long (:bytes (slab/snapshot! seg p {:roots roots})))))]
      (slab/set-root! seg :v1 v1)
      (slab/set-root! seg :v2 v2)
      (slab/set-root! seg :outer outer)
      (try
        (let [one (size [:v1]), both (size [:v1 :v2]), nested (size [:outer])]
          (is (< both (+ one (quot one 20))) (str "v1 alone " one " bytes, v1 and v2 " both " bytes"))
          (is (< nested (* 4 1024 1024)) (str "2,000 entries naming one 500-entry map: " nested " bytes")))
        (let [p (.resolve dir "all.slab")]
          (slab/snapshot! seg p)
          (let [ro (slab/open-segment p {:read-only true :verify :full})]
            (try
              (is (= v1 (slab/root ro :v1)))
              (is (= v2 (slab/root ro :v2)))
              (is (= outer (slab/root ro :outer)))
              (is (= {:damaged []} (select-keys (slab/verify ro) [:damaged])))
              (finally (slab/close-segment! ro)))))
        (finally (slab/close-segment! seg))))))

(deftest a-damaged-block-fails-the-snapshot-instead-of-being-copied
  ;; A copy would seal the damaged bytes anew: the snapshot checks every seal it reads.
  (tu/with-temp-dir [dir "snapshot-damage"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "16m"})
          s (apply str (repeat 200 "x"))]
      (try
        (slab/set-root! seg :m {:s s :n 1})
        (let [blob (->> (audit/live-blocks seg) (filter #(= :blob (:type (val %)))) (map key) first)]
          (.putByte ^slab.mem.Segment seg (+ (long blob) 100) (byte (int \y)))
          (let [r (tu/error-of #(slab/snapshot! seg (.resolve dir "snap.slab")))]
            (is (= :damaged-segment (:error r)) (str r))
            (is (not (Files/exists (.resolve dir "snap.slab") (make-array java.nio.file.LinkOption 0))))))
        (finally (slab/close-segment! seg))))))

(deftest a-snapshot-to-a-full-file-system-fails-cleanly
  (tu/with-temp-dir [dir "snapshot-full"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "256m"})
          small (.resolve dir "small")]
      (Files/createDirectories small (make-array java.nio.file.attribute.FileAttribute 0))
      (try
        (slab/set-root! seg :m (into {} (map (fn [i] [i (str "a value of some length " i)])) (range 200000)))
        (when (tu/mount-tmpfs! small "4m")
          (try
            (let [r (tu/error-of #(slab/snapshot! seg (.resolve small "snap.slab")))]
              (is (= :disk-full (:error r)) (str r))
              (is (empty? (vec (.list (.toFile small)))) "no snapshot and no temporary file is left"))
            (finally (tu/umount! small))))
        (is (= 200000 (count (slab/root seg :m))) "the source is intact")
        (finally (slab/close-segment! seg))))))

(defn- flip-byte! [^Path p ^long at]
  (with-open [f (RandomAccessFile. (.toFile p) "rw")]
    (.seek f at)
    (let [b (.read f)]
      (.seek f at)
      (.write f (bit-xor b 0x20)))))

(deftest a-damaged-snapshot-is-refused-never-read
  (tu/with-temp-dir [dir "snapshot-damage"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "256m"})
          _ (slab/set-root! seg :m (slab/with-segment seg (slab/share (expected :m 5000))))
          snap (.resolve dir "snap.slab")
          {:keys [bytes]} (slab/snapshot! seg snap)
          bytes (long bytes)
          trailer (- bytes SnapshotDescriptor/TRAILER_LENGTH)
          rnd (java.util.Random. 14)
          places (concat [0 HeaderDescriptor/VERSION_OFFSET HeaderDescriptor/CAPACITY_OFFSET
                          HeaderDescriptor/CHECKSUM_OFFSET HeaderDescriptor/FRONTIER_OFFSET
                          HeaderDescriptor/ROOT_TABLE_OFFSET (+ HeaderDescriptor/PAGE_TABLE_OFFSET 3)
                          trailer (+ trailer SnapshotDescriptor/TRAILER_COVERED_OFFSET)
                          (+ trailer SnapshotDescriptor/TRAILER_CHECKSUM_OFFSET 2) (dec trailer)]
                         (repeatedly 40 #(.nextInt rnd (int trailer))))]
      (slab/close-segment! seg)
      (let [ro (slab/open-segment snap {:read-only true})]
        (try (is (= (expected :m 5000) (slab/root ro :m)) "the undamaged file reads back")
             (finally (slab/close-segment! ro))))
      (doseq [at places
              :let [p (.resolve dir (str "damaged-" at ".slab"))]]
        (Files/copy snap p ^"[Ljava.nio.file.CopyOption;" (make-array CopyOption 0))
        (flip-byte! p at)
        (let [r (tu/error-of #(let [ro (slab/open-segment p {:read-only true})]
                                (try (slab/root ro :m) (finally (slab/close-segment! ro)))))]
          (is (= :damaged-segment (:error r)) (str "a byte flipped at offset " at " of " bytes ": " r)))
        (Files/delete p)))))

(deftest snapshot-refuses-an-existing-path-and-bad-arguments
  (tu/with-temp-dir [dir "snapshot-args"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "64m"})
          taken (.resolve dir "taken")]
      (slab/set-root! seg :a {:x 1})
      (Files/write taken (.getBytes "keep me") ^"[Ljava.nio.file.OpenOption;" (make-array java.nio.file.OpenOption 0))
      (let [r (tu/error-of #(slab/snapshot! seg taken))]
        (is (= :file-exists (:error r)))
        (is (= "keep me" (String. (Files/readAllBytes taken))) "the existing file is untouched"))
      (is (= :bad-argument (:error (tu/error-of #(slab/snapshot! seg (.resolve dir "x") {:roots [:nope]})))))
      (is (= :bad-argument (:error (tu/error-of #(slab/snapshot! seg (.resolve dir "x") {:roots ["a"]})))))
      (is (= :bad-argument (:error (tu/error-of #(slab/snapshot! seg (.resolve dir "x") {:bogus 1})))))
      (is (= :bad-argument (:error (tu/error-of #(slab/snapshot! seg nil)))))
      (is (not (Files/exists (.resolve dir "x") (make-array java.nio.file.LinkOption 0))))
      (is (= #{"src.slab" "taken"} (set (map #(str (.getFileName ^Path %)) (iterator-seq (.iterator (Files/list dir))))))
          "no temporary file is left behind")
      (slab/close-segment! seg))))

(deftest an-empty-roots-list-copies-no-root
  ;; {:roots []} (say, a filter of the roots that came out empty) is a list
  ;; of no roots, not "every root": a snapshot must never hold a root its
  ;; caller left out.
  (tu/with-temp-dir [dir "snapshot-no-roots"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "64m"})
          p (.resolve dir "none.slab")]
      (slab/set-root! seg :secret {:password "hunter2"})
      (let [r (slab/snapshot! seg p {:roots []})]
        (is (= [] (:roots r)))
        (let [ro (slab/open-segment p {:read-only true :verify :full})]
          (try
            (is (empty? (slab/roots ro)))
            (is (nil? (slab/root ro :secret)))
            (finally (slab/close-segment! ro)))))
      (slab/close-segment! seg))))

(deftest a-snapshot-opened-for-writing-becomes-a-segment-again
  (tu/with-temp-dir [dir "snapshot-restore"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "64m"})
          snap (.resolve dir "snap.slab")]
      (slab/set-root! seg :a (expected :a 1000))
      (slab/snapshot! seg snap {:capacity "64m"})
      (slab/close-segment! seg)
      (let [rw (slab/open-segment snap)]
        (is (= (expected :a 1000) (slab/root rw :a)))
        (swap! (slab/atom rw :a) assoc :more (vec (range 10000)))
        (is (= (assoc (expected :a 1000) :more (vec (range 10000))) (slab/root rw :a)))
        (is (:counts-add-up (slab/verify rw)))
        (slab/close-segment! rw))
      (is (= (* 64 1024 1024) (Files/size snap)) "extended to its capacity, an ordinary segment")
      (let [again (slab/open-segment snap)]
        (is (= 1000 (count (dissoc (slab/root again :a) :more))))
        (slab/close-segment! again)))))

(deftest a-killed-snapshots-temporary-file-is-removed-by-the-next
  ;; A process killed mid-snapshot! leaves its hidden temporary file (named
  ;; with its pid); the next snapshot to that path deletes it, and leaves
  ;; one whose process still lives.
  (tu/with-temp-dir [dir "snapshot-leftovers"]
    (let [seg (slab/open-segment (.resolve dir "src.slab") {:capacity "64m"})
          p (.resolve dir "snap.slab")
          dead (let [pr (.start (ProcessBuilder. ^java.util.List (vector "true")))]
                 (.waitFor pr)
                 (.pid pr))
          dead-tmp (.resolve dir (str ".snap.slab.snapshot-" dead "-1"))
          live-tmp (.resolve dir (str ".snap.slab.snapshot-" (.pid (java.lang.ProcessHandle/current)) "-999999"))]
      (try
        (spit (str dead-tmp) "what a killed snapshot left")
        (spit (str live-tmp) "a snapshot in progress")
        (slab/set-root! seg :a {:x 1})
        (slab/snapshot! seg p)
        (is (not (java.nio.file.Files/exists dead-tmp (make-array java.nio.file.LinkOption 0)))
            "the dead process's temporary file is gone")
        (is (java.nio.file.Files/exists live-tmp (make-array java.nio.file.LinkOption 0))
            "a live process's temporary file stays")
        (finally (slab/close-segment! seg))))))
