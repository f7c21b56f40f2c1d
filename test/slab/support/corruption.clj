;; The corruption harness (not a test itself): writes a segment file with named roots, damages a copy of it, and classifies what opening, verifying and reading the damaged copy does.
(ns slab.support.corruption
  "One trial: copy a cleanly written segment file, overwrite one byte or
  word somewhere past its header, then open it, read every root fully
  (count, seq, get of every key, reduce-kv, nth, =) and verify it, all
  under a timeout. A trial's outcome says what happened first:

    :open-damaged / :read-damaged / :verify-damaged  a :damaged-segment error
    :equal            everything read back = to what was written, verify clean
    :misread          a read returned something else, with no error anywhere
    :misread-verified a read returned something else, and verify reported damage
    :foreign          an exception that is not a slab error (a bug)
    :hang             the timeout passed (a bug)

  Each corruption also says what it hit (the block type and field class, see
  `field`), so a test can hold structural words to a stricter standard than
  value payloads, and whether it changed a byte its block's seal covers
  (:sealed, see `covered`), which must then be reported as damage."
  (:require [slab.core :as slab]
            [slab.support.util :as u])
  (:import (clojure.lang ExceptionInfo)
           (java.io RandomAccessFile)
           (java.nio.file Files CopyOption StandardCopyOption Path)
           (java.util Random)
           (java.util.concurrent TimeoutException TimeUnit Future)
           (slab.map MapNodeDescriptor)
           (slab.mem Allocator$BlockVisitor AllocatorDescriptor HeaderDescriptor Seals Segment SizeClasses)
           (slab.ref CollDescriptor)
           (slab.share BoxDescriptor)
           (slab.value BlobDescriptor InternDescriptor MetaSymbolDescriptor)
           (slab.vector PrimLeafDescriptor VecNodeDescriptor)))

(set! *warn-on-reflection* true)

;; --- the data written -----------------------------------------------------------

(defn- text [^Random r]
  (let [n (case (.nextInt r 4) 0 (.nextInt r 9) 1 (+ 9 (.nextInt r 30)) 2 (+ 40 (.nextInt r 400)) 3 (.nextInt r 12))
        utf16? (zero? (.nextInt r 5))]
    (apply str (repeatedly n #(char (if utf16? (+ 0x100 (.nextInt r 0x2000)) (+ 32 (.nextInt r 95))))))))

(defn- scalar [^Random r]
  (case (.nextInt r 12)
    0 (.nextLong r)
    1 (.nextInt r 1000)
    2 (text r)
    3 (.nextDouble r)
    4 (bigint (* (.nextLong r) 1000000000000N))
    5 (/ (inc (.nextInt r 1000)) (+ 1001 (.nextInt r 1000)))
    6 (keyword (str "k" (.nextInt r 50)))
    7 (bigdec (str (.nextInt r 100000) "." (.nextInt r 1000)))
    8 (java.util.UUID. (.nextLong r) (.nextLong r))
    9 (= 0 (.nextInt r 2))
    10 nil
    11 (char (+ 65 (.nextInt r 26)))))

(defn- key-of [^Random r i]
  (case (.nextInt r 3) 0 i 1 (keyword (str "key" i)) 2 (str "s" i (text r))))

(defn- value-of [^Random r depth]
  (if (or (>= depth 2) (< (.nextInt r 10) 7))
    (scalar r)
    (case (.nextInt r 3)
      0 (into {} (map (fn [i] [(key-of r i) (value-of r (inc depth))])) (range (.nextInt r 40)))
      1 (vec (repeatedly (.nextInt r 80) #(value-of r (inc depth))))
      2 (set (repeatedly (.nextInt r 30) #(scalar r))))))

(defn data
  "The roots written, a map name -> value, from seed."
  [seed]
  (let [r (Random. seed)]
    {:longs (into {} (map (fn [i] [i (.nextLong r)])) (range 300))
     :mixed (into {} (map (fn [i] [(key-of r i) (value-of r 0)])) (range 200))
     :nested {:a (into {} (map (fn [i] [(keyword (str "n" i)) (value-of r 1)])) (range 60))
              :b (vec (range 1100))
              :c (set (map #(str "member-" %) (range 90)))}
     :vector (vec (repeatedly 150 #(value-of r 1)))
     :set (set (repeatedly 120 #(scalar r)))}))

(def ^:const capacity (* 4 1024 1024))

(defn write-file!
  "Writes the roots of (data seed) into a new segment file and closes it."
  [path seed]
  (let [seg (slab/open-segment path {:capacity capacity})]
    (try
      (doseq [[k v] (data seed)] (slab/set-root! seg k v))
      (finally (slab/close-segment! seg)))))

;; --- where a corruption lands ---------------------------------------------------

(defn- blob-end
  "The layout end of blob b: the kind's layout whose trailer seal matches
  (a blob's kind is its slot's tag, not in the block), nil if none does."
  [^Segment seg ^long b]
  (let [n (bit-and 0xFFFFFFFF (.getInt seg (+ b BlobDescriptor/LENGTH_OFFSET)))
        q (bit-and 0xFFFFFFFF (.getInt seg (+ b BlobDescriptor/RATIO_DEN_LENGTH_OFFSET)))
        chars (bit-and n 0x7FFFFFFF)
        size (SizeClasses/sizeOf (AllocatorDescriptor/classOf (.getLong seg b)))]
    (first (for [end [(+ BlobDescriptor/STRING_DATA_OFFSET (if (bit-test n 31) (* 2 chars) chars))
                      (+ BlobDescriptor/BIGINT_DATA_OFFSET n) (+ BlobDescriptor/BIGDEC_DATA_OFFSET n)
                      (+ BlobDescriptor/RATIO_DATA_OFFSET n q) BlobDescriptor/UUID_LENGTH BlobDescriptor/INSTANT_LENGTH]
                 :when (<= (Seals/withTrailer end) size)
                 :when (= (.getInt seg (+ b (Seals/trailerOffset end))) (Seals/of seg b 8 end -1 0))]
             end))))

(defn- trailer
  "The ranges a trailer seal covers for a layout ending at end: the layout
  from 8, and the seal itself (not the padding between them)."
  [^long end]
  [[8 end] [(Seals/trailerOffset end) (Seals/withTrailer end)]])

(defn covered
  "The [start end) ranges (offsets from block b, of type t) of the bytes its
  seal covers, the seal included, from the sound file (FORMAT.md, Seals);
  nil for a type without a seal."
  [^Segment seg t ^long b]
  (let [i (fn ^long [^long off] (bit-and 0xFFFFFFFF (.getInt seg (+ b off))))]
    (case t
      (:map-node :set-node)
      (let [es (if (= t :map-node) MapNodeDescriptor/MAP_ENTRY_LENGTH MapNodeDescriptor/SET_ENTRY_LENGTH)]
        [[24 (+ MapNodeDescriptor/ENTRIES_OFFSET (* es (Long/bitCount (i MapNodeDescriptor/DATAMAP_OFFSET)))
                (* 8 (Long/bitCount (i MapNodeDescriptor/NODEMAP_OFFSET))))]])
      (:map-collision :set-collision)
      (let [es (if (= t :map-collision) MapNodeDescriptor/MAP_ENTRY_LENGTH MapNodeDescriptor/SET_ENTRY_LENGTH)]
        [[24 (+ MapNodeDescriptor/ENTRIES_OFFSET (* es (i MapNodeDescriptor/COLLISION_COUNT_OFFSET)))]])
      (:vec-branch :vec-leaf :vec-prim-leaf)
      (let [w (.getLong seg (+ b VecNodeDescriptor/NODE_WORD_OFFSET))
            cap (VecNodeDescriptor/capacityOf w)]
        [[24 (case t
               :vec-branch (VecNodeDescriptor/branchLength cap)
               :vec-leaf (VecNodeDescriptor/leafLength cap)
               (PrimLeafDescriptor/leafLength (VecNodeDescriptor/elemOf w) cap))]])
      :coll [[8 CollDescriptor/COLL_LENGTH]]
      :box [[8 BoxDescriptor/BOX_LENGTH]]
      :interned (trailer (+ InternDescriptor/INTERN_DATA_OFFSET
                            (bit-shift-left (+ (max 0 (.getInt seg (+ b InternDescriptor/INTERN_NS_LENGTH_OFFSET)))
                                               (i InternDescriptor/INTERN_NAME_LENGTH_OFFSET))
                                            (.getByte seg (+ b InternDescriptor/INTERN_ENCODING_OFFSET)))))
      :meta-symbol (trailer MetaSymbolDescriptor/META_SYMBOL_LENGTH)
      :blob (some-> (blob-end seg b) long trailer)
      nil)))

(declare type-names)

(defn blocks
  "[offset header covered] of every live block of a closed segment file,
  read through a private mapping (covered as `covered` gives it)."
  [path]
  (let [seg (Segment/open (u/path path) capacity 5 5)
        out (java.util.ArrayList.)]
    (try
      (.forEachBlock (.allocator seg)
                     (reify Allocator$BlockVisitor
                       (visit [_ off header]
                         (when (= (AllocatorDescriptor/stateOf header) AllocatorDescriptor/STATE_LIVE)
                           (.add out [off header])))))
      (mapv (fn [[off header]] [off header (covered seg (type-names (AllocatorDescriptor/typeOf header)) off)]) out)
      (finally (.close seg)))))

(def ^:private type-names
  {0 :raw 1 :blob 2 :interned 3 :intern-table 4 :coll 5 :map-node 6 :map-collision 7 :set-node
   8 :set-collision 9 :vec-branch 10 :vec-leaf 11 :root-table 12 :process-table 13 :ledger 14 :box 15 :cell
   16 :meta-symbol 17 :vec-prim-leaf})

(defn field
  "What a corruption at offset off of a block of type t (at block) hit, for
  the classes a test holds to the strictest standard: :header (the block's
  allocator header word), :shape (a map node's bitmaps or collision count,
  a vector node's capacity word, a collection block's kind, metadata tag
  and shift bytes), :page-table; else :other (payloads, hashes kept beside
  values, counts, offsets, lineage words: a change there can leave a
  well-formed structure that holds something else, which only verify's
  recomputed hashes can tell)."
  [t ^long block ^long off]
  (let [rel (- off block)]
    (cond
      (= t :page-table) :page-table
      (< rel 8) :header
      (and (#{:map-node :set-node :map-collision :set-collision} t) (<= 24 rel 31)) :shape
      (and (#{:vec-branch :vec-leaf} t) (<= 24 rel 31)) :shape
      (and (= t :coll) (<= 8 rel 10)) :shape
      :else :other)))

;; --- corrupting ---------------------------------------------------------------------

(defn read-long
  "The little-endian long at off of file f."
  ^long [^RandomAccessFile f ^long off]
  (.seek f off)
  (Long/reverseBytes (.readLong f)))

(defn write-long!
  "Writes v little-endian at off of file f."
  [^RandomAccessFile f ^long off ^long v]
  (.seek f off)
  (.writeLong f (Long/reverseBytes v)))

(defn pick-corruption
  "A random corruption of the file whose live blocks are bs: {:kind :offset
  :value :block :type}. Kinds: :byte (one byte set to a random value),
  :bit (one bit flipped), :word (an aligned word set to a random or small
  value), :offset (an aligned word set to another live block's offset, or
  its own block's), :page (a page-table word changed)."
  [^Random r bs ^long frontier]
  (let [kind (nth [:byte :bit :word :word :offset :offset :page] (.nextInt r 7))]
    (if (= kind :page)
      (let [pages (quot (- frontier (HeaderDescriptor/heapBase capacity)) AllocatorDescriptor/PAGE_LENGTH)]
        {:kind :page :type :page-table
         :offset (+ HeaderDescriptor/PAGE_TABLE_OFFSET
                    (* AllocatorDescriptor/PAGE_WORD_LENGTH (.nextInt r (int (max 1 pages)))))
         :pick (.nextInt r 4) :rand (.nextLong r)})
      (let [by-type (vec (vals (group-by (fn [[_ h]] (AllocatorDescriptor/typeOf h)) bs)))
            ;; a block type first, then a block of it: most blocks are blobs, and nodes matter as much
            of-type (nth by-type (.nextInt r (count by-type)))
            [off header cov] (nth of-type (.nextInt r (count of-type)))
            size (slab.mem.SizeClasses/sizeOf (AllocatorDescriptor/classOf header))
            ;; most damage lands in the first 64 bytes, where a node's structure is
            within (if (< (.nextInt r 3) 2) (min size 64) (min size 4096))
            at (+ (long off) (.nextInt r (int within)))]
        {:kind kind :block off :type (type-names (AllocatorDescriptor/typeOf header) :unknown) :covered cov
         :offset (if (#{:word :offset} kind) (bit-and-not at 7) at)
         :target (first (nth bs (.nextInt r (count bs))))
         :pick (.nextInt r 4) :rand (.nextLong r)}))))

(defn corrupt!
  "Applies corruption c to file path; returns c with :old and :new words."
  [path {:keys [kind ^long offset pick ^long rand target block] :as c}]
  (with-open [f (RandomAccessFile. (str path) "rw")]
    (let [word-at (bit-and-not offset 7)
          old (read-long f word-at)
          shift (* 8 (- offset word-at))
          new (case kind
                :byte (let [b (bit-and (unsigned-bit-shift-right old shift) 0xFF)
                            nb (bit-and (bit-xor b (inc (bit-and rand 0xFE))) 0xFF)]
                        (bit-or (bit-and-not old (bit-shift-left 0xFF shift)) (bit-shift-left nb shift)))
                :bit (bit-flip old (bit-and rand 63))
                :word (case (int pick) 0 rand 1 (bit-and rand 0xFF) 2 -1 3 (bit-xor old (bit-shift-left 1 (bit-and rand 63))))
                :offset (case (int pick) 0 block 1 target 2 (+ (long target) 16) 3 (- (long target) 16))
                :page (case (int pick)
                        0 rand
                        1 (bit-or (bit-and old (bit-not (bit-shift-left 0xFFFF 40))) (bit-shift-left 251 40))
                        2 (bit-xor old (bit-shift-left 1 (bit-and rand 63)))
                        3 (bit-and rand 0xFF)))]
      (write-long! f word-at new)
      (assoc c :old old :new new :changed (not= old new)))))

(defn sealed?
  "Did corruption c (applied) change a byte its block's seal covers?"
  [{:keys [covered block ^long offset ^long old ^long new]}]
  (when covered
    (let [word-at (bit-and-not offset 7)
          diff (bit-xor old new)]
      (boolean (some (fn [i] (and (not= 0 (bit-and diff (bit-shift-left 0xFF (* 8 i))))
                                  (some (fn [[from to]]
                                          (and (<= (+ (long block) (long from)) (+ word-at i))
                                               (< (+ word-at i) (+ (long block) (long to)))))
                                        covered)))
                     (range 8))))))

;; --- reading everything back -----------------------------------------------------------

(defn- slab-damage? [^Throwable e]
  (loop [e e]
    (cond (nil? e) false
          (and (instance? ExceptionInfo e) (= :damaged-segment (:slab/error (ex-data e)))) true
          :else (recur (.getCause e)))))

(defmacro ^:private all
  "Evaluates every form, in order (no short cut: a later read may be the one
  that finds damage), and is true when each was truthy."
  [& forms]
  `(every? true? [~@(map (fn [f] `(boolean ~f)) forms)]))

(defn- walk=
  "Reads x (a slab value) every way a user would, all of them even once one
  differs, and compares with expected; true when all of it is = expected."
  [x expected]
  (cond
    (map? expected)
    (and (map? x)
         (all (= (count expected) (count x))
              (every? true? (mapv (fn [[k v]] (all (contains? x k) (walk= (get x k) v))) expected))
              ;; get-in follows nested maps' collection blocks without a handle
              (every? true? (mapv (fn [[k v]] (or (not (map? v))
                                                 (every? true? (mapv (fn [[k2 v2]] (walk= (slab/get-in x [k k2]) v2)) v))))
                                  expected))
              (= expected (into {} (seq x)))
              (= expected (persistent! (reduce-kv (fn [m k v] (assoc! m k v)) (transient {}) x)))
              (= expected x) (= x expected) (= (hash x) (hash expected))))
    (set? expected)
    (and (set? x)
         (all (= (count expected) (count x))
              (every? true? (mapv #(contains? x %) expected))
              (= expected (set (seq x))) (= expected x) (= x expected) (= (hash x) (hash expected))))
    (vector? expected)
    (and (vector? x)
         (all (= (count expected) (count x))
              (every? true? (mapv (fn [i] (walk= (nth x i) (nth expected i))) (range (min (count x) (count expected)))))
              (= expected (vec (seq x))) (= expected (reduce conj [] x)) (= (vec (rseq x)) (vec (reverse expected)))
              (= expected x) (= x expected) (= (hash x) (hash expected))))
    :else (= expected x)))

(defn- updates=
  "Updates x (a root read back) the ways a user would, persistently and
  through a transient, and compares each result with the same update of
  expected; true when all are = (a path copy of a damaged node may copy
  the damage: then verify must report it)."
  [x expected]
  (cond
    (map? expected)
    (let [k0 (first (keys expected))]
      (all (walk= (assoc x ::added 1) (assoc expected ::added 1))
           (walk= (dissoc x k0) (dissoc expected k0))
           (walk= (update x k0 (constantly ::changed)) (assoc expected k0 ::changed))
           (walk= (persistent! (-> (transient x) (assoc! ::t 2) (dissoc! k0))) (-> expected (assoc ::t 2) (dissoc k0)))))
    (set? expected)
    (let [k0 (first expected)]
      (all (walk= (conj x ::added) (conj expected ::added))
           (walk= (disj x k0) (disj expected k0))
           (walk= (persistent! (-> (transient x) (conj! ::t) (disj! k0))) (-> expected (conj ::t) (disj k0)))))
    (vector? expected)
    (all (walk= (conj x ::added) (conj expected ::added))
         (or (empty? expected) (walk= (assoc x 0 ::changed) (assoc expected 0 ::changed)))
         (or (empty? expected) (walk= (pop x) (pop expected)))
         (walk= (persistent! (reduce conj! (transient x) (range 40))) (into expected (range 40))))
    :else true))

(defn- attempt
  "Runs f; :ok, :damaged (a slab :damaged-segment error) or [:foreign e]."
  [f]
  (try (f)
       :ok
       (catch Throwable e
         (if (slab-damage? e) :damaged [:foreign e]))))

(defn- run-trial [path expected]
  (let [seg (atom nil)
        opened (attempt #(reset! seg (slab/open-segment path)))]
    (try
      (cond
        (= opened :damaged) {:outcome :open-damaged}
        (vector? opened) {:outcome :foreign :error (second opened) :stage :open}
        :else
        (let [same (volatile! true)
              read (attempt (fn []
                              (doseq [[k v] expected]
                                (when-not (walk= (slab/root @seg k) v) (vreset! same false)))
                              (when-not (= (set (keys expected)) (set (slab/roots @seg))) (vreset! same false))))
              verified (volatile! nil)
              verify (attempt #(vreset! verified (slab/verify @seg)))
              verify-damaged (or (= verify :damaged) (boolean (seq (:damaged @verified))))
              updated (attempt (fn []
                                 (doseq [[k v] expected]
                                   (when-not (updates= (slab/root @seg k) v) (vreset! same false)))))]
          (cond
            (vector? read) {:outcome :foreign :error (second read) :stage :read}
            (vector? verify) {:outcome :foreign :error (second verify) :stage :verify}
            (vector? updated) {:outcome :foreign :error (second updated) :stage :update}
            (= read :damaged) {:outcome :read-damaged :verify-damaged verify-damaged}
            (not @same) {:outcome (if verify-damaged :misread-verified :misread)}
            verify-damaged {:outcome :verify-damaged}
            :else {:outcome :equal})))
      (finally
        (when-let [s @seg]
          (try (slab/close-segment! s) (catch Throwable _)))))))

(defn trial
  "Damages a copy of template (written from expected) at work with a random
  corruption from r, then runs the trial under a timeout of timeout-ms.
  Returns the corruption with :outcome (and :error, :stage for :foreign)."
  [template work expected ^Random r timeout-ms bs frontier]
  (Files/copy (u/path template) (u/path work)
              ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption [StandardCopyOption/REPLACE_EXISTING]))
  (let [c (corrupt! work (pick-corruption r bs frontier))
        ^Future f (future (try (run-trial work expected)
                               (catch Throwable e {:outcome :foreign :error e :stage :trial})))]
    (try
      (merge c {:sealed (sealed? c)
                :field (let [word-at (bit-and-not (long (:offset c)) 7)
                             diff (bit-xor (long (:old c)) (long (:new c)))
                             ;; the class of every byte that changed, so a bit flip in a hash
                             ;; beside a shape byte counts as a hash change
                             fields (set (for [i (range 8) :when (not= 0 (bit-and diff (bit-shift-left 0xFF (* 8 i))))]
                                           (field (:type c) (long (or (:block c) 0)) (+ word-at i))))]
                         (if (= 1 (count fields)) (first fields) :other))}
             (.get f (long timeout-ms) TimeUnit/MILLISECONDS))
      (catch TimeoutException _
        (future-cancel f)
        (assoc c :outcome :hang)))))

;; --- many trials -------------------------------------------------------------------

(defn describe
  "A trial's result, printable (the error as its class, message and top frames)."
  [t]
  (cond-> (dissoc t :error)
    (:error t) (assoc :error (let [^Throwable e (:error t)]
                               [(.getName (class e)) (.getMessage e) (vec (take 8 (map str (.getStackTrace e))))]))))

(defn- frontier-of ^long [path]
  (with-open [f (RandomAccessFile. (str path) "r")]
    (read-long f HeaderDescriptor/FRONTIER_OFFSET)))

(defn run-trials
  "Writes a segment from (data data-seed) in dir, then runs trials corrupted
  copies of it with corruptions drawn from seed. Stops early at a hang (its
  thread cannot be stopped). Returns the trials' results."
  [dir {:keys [trials seed data-seed timeout-ms]}]
  (let [template (str dir "/template.slab")
        work (str dir "/work.slab")
        _ (write-file! template data-seed)
        expected (data data-seed)
        bs (blocks template)
        frontier (frontier-of template)
        r (Random. seed)]
    (loop [i 0, out []]
      (if (= i trials)
        out
        (let [t (assoc (trial template work expected r timeout-ms bs frontier) :trial i)]
          (if (= :hang (:outcome t))
            (conj out t)
            (recur (inc i) (conj out t))))))))
