(ns slab.core
  "Persistent Clojure collections whose nodes live off-heap in a shared
  memory segment.

  A slab map, set or vector is a drop-in for its clojure.core twin: same
  semantics, = and hash equal to the clojure.core collection with the same
  contents, transients, metadata, printing. Its nodes live in a segment: by
  default an anonymous one created on first use, or a named file that other
  processes map too (see open-segment).

  Memory is reclaimed by reference counts: every version holds counts on the
  nodes it uses, and the JVM garbage collector gives a version's counts back
  when the version is no longer reachable. release! gives them back at once.

    (require '[slab.core :as slab])
    (def m (slab/hash-map :a 1 :b \"two\"))
    (assoc m :c [1 2 3])            ; a new version; m is unchanged
    (= m {:a 1 :b \"two\"})          ; true
    (slab/share {:any [\"nested\" #{:value}]})  ; deep conversion"
  (:refer-clojure :exclude [hash-map hash-set vector vec vector-of atom get-in])
  (:require [clojure.string]
            [slab.impl.common :as common]
            [slab.map :as smap]
            [slab.set :as sset]
            [slab.vector :as svec]
            [slab.atom :as satom])
  (:import (slab.ref Handle Handles Heap SharedColl)
           (slab.mem Segment SizeClasses Allocator$Stats)
           (slab.share AtomCell Cells Cells$Snapshot Closing ReadOnly Recovery Recovery$Report RootTable Sharing
                       Snapshots Snapshots$Result)))

(set! *warn-on-reflection* true)

(def ^:dynamic *segment*
  "The segment new collections are built in; nil means the default
  anonymous segment. Bind it with with-segment."
  nil)

(defmacro with-segment
  "Evaluates body with new collections built in segment seg."
  [seg & body]
  `(binding [*segment* ~seg] ~@body))

(defn- heap ^Heap [] (common/heap-of *segment*))

;; --- constructors ---------------------------------------------------------------

(defn hash-map
  "A slab map with the given keys and values (as clojure.core/hash-map)."
  [& kvs]
  (smap/hash-map-in (heap) kvs))

(defn hash-set
  "A slab set of the given keys (as clojure.core/hash-set)."
  [& ks]
  (sset/hash-set-in (heap) ks))

(defn vector
  "A slab vector of xs (as clojure.core/vector)."
  [& xs]
  (apply svec/vector-in (heap) xs))

(defn vec
  "A slab vector of coll's elements (as clojure.core/vec). A slab vector of
  the same segment comes back sharing its nodes, without metadata."
  [coll]
  (svec/vec-in (heap) coll))

(defn vector-of
  "A slab vector of unboxed numbers (as clojure.core/vector-of): t is one of
  :long, :double, :int, :float, :short, :char, :byte or :boolean, and each
  element is cast as clojure.core casts it ((vector-of :byte 300) throws
  IllegalArgumentException). Its leaves hold the numbers contiguously (8
  bytes per double), readable by native code; see reduce-leaves."
  ([t] (svec/vector-of-in (heap) t nil))
  ([t & xs] (svec/vector-of-in (heap) t xs)))

(defn element-type
  "The element type of a slab vector-of (:double ...), nil for any other value."
  [x]
  (svec/element-type x))

(defn reduce-leaves
  "Reduces a slab vector-of leaf by leaf: (f acc leaf) for each leaf in
  order, where leaf is a read-only java.lang.foreign.MemorySegment over
  that leaf's elements, stored contiguously and unboxed (so
  (.byteSize leaf) / 8 doubles of a :double vector-of). Hand it to native
  code through the FFM Linker to loop over the numbers in place. The
  segment is valid only while f runs. Stops early at a reduced value."
  [f init v]
  (if (instance? SharedColl v)
    (svec/reduce-leaves f init v)
    (throw (ex-info "reduce-leaves needs a slab vector-of" {:slab/error :bad-argument :argument :v}))))

(defn share
  "A shared version of x: maps, sets, vectors and lists are converted deeply
  into the segment (a shared collection already there is returned as is);
  scalars are checked and returned. Throws ex-info with
  :slab/error :unsupported-value (naming the class and key path) for values
  slab cannot store, and writes nothing.

  Options: {:segment seg} to build in a segment other than *segment*."
  ([x] (Handles/share (heap) x))
  ([x {:keys [segment]}] (Handles/share (common/heap-of (or segment *segment*)) x)))

(defn shared?
  "True if x is a slab collection."
  [x]
  (instance? SharedColl x))

(defn release!
  "Makes x (and every value made from it by with-meta) throw
  IllegalStateException when used, in every thread, and gives back the
  counts x's version holds: at once if no other thread has used x,
  otherwise when the garbage collector collects x (another thread may be
  in the middle of a read). Releasing twice is a no-op."
  [x]
  (when (instance? SharedColl x)
    (.release ^Handle (.slabHandle ^SharedColl x)))
  nil)

;; --- reads ------------------------------------------------------------------------

(defn get-in
  "clojure.core/get-in, which on a slab map looks through nested slab maps
  without making a collection object for each map on the way (only the
  value at the end is one). Anything else goes to clojure.core/get-in."
  ([m ks] (get-in m ks nil))
  ([m ks not-found]
   (if (and (smap/shared-map? m) (pos? (count ks)))   ; count, not seq: a vector's seq is an allocation
     (smap/get-in-map m ks not-found)
     (clojure.core/get-in m ks not-found))))

(defn reduce-kv-in
  "(reduce-kv (fn [acc k v] (f acc k (get-in v ks))) init m): f gets each
  key and what its value holds at the path ks (nil where a key is absent,
  as get-in). On a slab map each value is looked into where it lies in the
  segment, so the nested maps on the way are never made into collection
  objects (only what f gets is); ks is read once, when the walk starts,
  and each of its keys hashed once for the walk. Anything else goes to
  clojure.core/reduce-kv and get-in."
  [m ks f init]
  (if (smap/shared-map? m)
    (smap/reduce-kv-in-map m ks f init)
    (reduce-kv (fn [acc k v] (f acc k (clojure.core/get-in v ks))) init m)))

(defn get-long
  "(long (get m k not-found)) without boxing: on a slab map a stored long
  comes back as the primitive it is stored as, so a caller whose result is
  a long (a ^long local, arithmetic) allocates nothing per lookup. Any other
  value, and not-found when k is absent (and only then), are cast as
  clojure.core's long casts them (a double is truncated; nil or a
  non-number throws as (long x) does). Any other map (or a transient) goes
  through clojure.core/get."
  ^long [m k not-found]
  (if (smap/shared-map? m)
    (smap/get-long m k not-found)
    (long (get m k not-found))))

(defn nth-long
  "(long (nth v i)) without boxing: on a slab vector (or vector-of :long) a
  stored long comes back as a primitive; any other element is cast as
  clojure.core's long casts it. IndexOutOfBoundsException outside the
  vector, as nth. Anything else goes through clojure.core/nth."
  ^long [v ^long i]
  (if (svec/shared-vector? v)
    (svec/nth-long v i)
    (long (nth v i))))

;; --- segments ---------------------------------------------------------------------

(defn default-segment
  "The default anonymous segment (created on first use, and again on first
  use after close-segment! closed it). Its capacity comes from
  -Dslab.capacity (e.g. 16g), default 8 GiB of address space."
  ^Segment []
  (.segment (common/default-heap)))

(defn- bad-argument [msg data]
  (throw (ex-info msg (assoc data :slab/error :bad-argument))))

(defn- segment-arg
  "seg, if it is a segment; else a :bad-argument error naming fn-name."
  ^Segment [fn-name seg]
  (if (instance? Segment seg)
    seg
    (bad-argument (str fn-name " expects a segment (from open-segment or default-segment), got "
                       (if (nil? seg) "nil" (str "a " (.getName (class seg)))))
                  {:argument :seg :value seg})))

(defn- path-arg ^java.nio.file.Path [fn-name path]
  (cond
    (instance? java.nio.file.Path path) path
    (instance? java.io.File path) (.toPath ^java.io.File path)
    (and (string? path) (not (clojure.string/blank? path))) (.toPath (java.io.File. ^String path))
    :else (bad-argument (str fn-name " expects a file path (a non-blank string, java.io.File or "
                             "java.nio.file.Path), got " (if (nil? path) "nil" (pr-str path)))
                        {:argument :path :value path})))

(defn- size-arg
  "A capacity in bytes: an integer, or a size string such as \"1g\" or \"512m\"."
  ^long [v]
  (cond
    (and (integer? v) (<= Long/MIN_VALUE v Long/MAX_VALUE)) (long v)
    (string? v) (try (Segment/parseSize v -1)
                     (catch NumberFormatException _
                       (bad-argument (str "open-segment :capacity " (pr-str v)
                                          " is not a size; use bytes or e.g. \"512m\", \"4g\"")
                                     {:argument :capacity :value v})))
    :else (bad-argument (str "open-segment :capacity must be a number of bytes or a size string such as "
                             "\"4g\", got " (pr-str v))
                        {:argument :capacity :value v})))

(defn- bits-arg ^long [k v]
  (if (integer? v)
    (long v)
    (bad-argument (str "open-segment " k " must be an integer from 1 to 5, got " (pr-str v))
                  {:argument k :value v})))

(def ^:private open-options #{:capacity :map-bits :vec-bits :read-only :verify})

(defn- options-arg
  "opts, if it is nil or a map whose keys are all in allowed; else a :bad-argument error."
  [fn-name opts allowed example]
  (when-not (or (nil? opts) (map? opts))
    (bad-argument (str fn-name " options must be a map such as " example ", got " (pr-str opts))
                  {:argument :opts :value opts}))
  (let [unknown (remove allowed (keys opts))]
    (when (seq unknown)
      (bad-argument (str fn-name " does not know the option(s) " (pr-str (clojure.core/vec unknown))
                         "; it takes " (pr-str (sort allowed)))
                    {:argument :opts :value opts})))
  opts)

(defn open-segment
  "Maps the segment file at path (a string, java.io.File or
  java.nio.file.Path), creating it if it does not exist. Options (used when
  creating): :capacity in bytes or as a size string like \"4g\" (default 1
  GiB; address space, committed as used), :map-bits and :vec-bits
  (branching, default 5). A file that is not a valid segment is refused with
  ex-info (:slab/error :bad-segment-file or :wrong-version); bad arguments
  with :slab/error :bad-argument. Opening a file already open in this
  process, by any path to it (a symlink, a hard link), returns the same
  segment.

  {:read-only true} maps an existing file read-only (a 0444 file, a
  read-only file system): roots and collections can be read, and every
  write (set-root!, swap!, building in it, transients, recover!, flush!)
  throws ex-info :slab/error :read-only. Nothing is written to the file. A
  snapshot's whole-file checksum is checked first (damage is
  :damaged-segment); :verify :full also walks the heap as verify does. A
  file a live process is attached to is refused (:segment-in-use):
  read-only opening is for snapshots and segments every writer has closed.

  {:verify :on-read} (with or without :read-only) makes every read check
  the seal (checksum) of each block it follows before using it, so a byte
  changed on disk or in memory is an ex-info :slab/error :damaged-segment
  instead of a wrong value. It costs reads some speed (see
  doc/benchmarks.md); without it reads check structure but not contents,
  and slab/verify checks every seal. A file open in this process with one
  setting is refused (:bad-argument) with the other."
  (^Segment [path] (open-segment path {}))
  (^Segment [path opts]
   (let [file (path-arg "open-segment" path)
         {:keys [capacity map-bits vec-bits read-only verify] :or {capacity (* 1024 1024 1024) map-bits 5 vec-bits 5}}
         (options-arg "open-segment" opts open-options "{:capacity \"4g\"}")]
     (when-not (contains? #{nil :checksum :full :on-read} verify)
       (bad-argument (str "open-segment :verify must be :checksum (the default), :full or :on-read, got " (pr-str verify))
                     {:argument :verify :value verify}))
     (when (and (#{:checksum :full} verify) (not read-only))
       (bad-argument "open-segment :verify :checksum and :full apply to {:read-only true} openings (use slab/verify otherwise)"
                     {:argument :verify :value verify}))
     (if read-only
       (ReadOnly/open file (= verify :full) (= verify :on-read))
       (let [seg (Segment/open file (size-arg capacity) (bits-arg :map-bits map-bits) (bits-arg :vec-bits vec-bits)
                               (= verify :on-read))]
         ;; First open in this process: join the process table, give back what dead
         ;; processes held, and sweep if no other process is attached, before any
         ;; thread of this process can use seg. Refused (a read-only opener came
         ;; meanwhile): nothing was written, and seg is unmapped again.
         (try (Sharing/of seg)
              (catch Throwable t
                (when-not (Sharing/isAttached seg) (Closing/close seg))
                (throw t)))
         seg)))))

(defn close-segment!
  "Unmaps seg. Every later use of a value in it throws a clear error instead
  of touching memory. Closing the default segment is allowed: its values die
  with it, and the next collection built without a segment opens a fresh
  default segment."
  [seg]
  (Closing/close (segment-arg "close-segment!" seg)))

(defn flush!
  "Forces seg's pages to its file, so the values published in it survive a
  machine crash (they already survive the process: the file outlives it)."
  [seg]
  (.force (segment-arg "flush!" seg)))

;; --- named roots, atoms and recovery -------------------------------------------------

(defn- sharing
  "The sharing state of seg (nil: the default segment); fn-name names the caller in errors."
  ^Sharing [fn-name seg]
  (Sharing/of (if (nil? seg) (default-segment) (segment-arg fn-name seg))))

(defn root
  "The value the named root `name` (a keyword) of seg publishes, or nil. A
  collection comes back as a version of its own: later changes to the root
  never change it. Obtaining it is O(1): nothing is copied."
  [^Segment seg name]
  (RootTable/value (sharing "root" seg) name))

(defn set-root!
  "Publishes v (converted into seg if it is a plain value) as the named root
  `name`; returns v."
  [^Segment seg name v]
  (let [sh (sharing "set-root!" seg)]
    (Cells/reset sh (RootTable/cell sh name) v nil)
    v))

(defn roots
  "The names of seg's roots that publish a value."
  [^Segment seg]
  (clojure.core/vec (RootTable/names (sharing "roots" seg))))

(defn atom
  "An atom whose value lives in a segment.

  (atom seg name) / (atom seg name init): the atom of the named root `name`
  (a keyword) in segment seg, shared by every process that maps seg; init
  is published only if the root has never been set.
  (atom init): an anonymous atom in *segment* (the default segment unless
  bound), reclaimed when the JVM collects it.

  Options after the value, as clojure.core/atom: :meta m, :validator f.
  Watches fire in the process that made the change."
  [x & more]
  (let [[cell opts] (if (instance? Segment x)
                      (let [[name & rest] more
                            has-init (odd? (count rest))]
                        [(AtomCell/named (sharing "atom" x) name (first rest) has-init)
                         (if has-init (next rest) rest)])
                      [(AtomCell/anonymous (sharing "atom" *segment*) x) more])
        {:keys [meta validator]} (apply array-map opts)
        a (satom/make cell meta)]
    (when validator (set-validator! a validator))
    a))

(defn- report-map [^Recovery$Report r]
  {:reachable (.reachable r) :unreachable (.unreachable r) :free (.free r)
   :stuck-slots (.stuckSlots r) :count-surplus (.countSurplus r) :counts-add-up (.countsAddUp r)
   :damaged (clojure.core/vec (.damaged r))})

(defn recover!
  "Gives back what processes that died held in seg (including a recovery
  or close that was itself cut short by a kill), and, if no other process
  is attached, sweeps blocks nothing reaches (a swap! cut short by a kill
  -9). Other threads may go on using seg: the sweep waits (at most 5 s)
  until none is inside an update and holds new updates back while it runs;
  reads go on. Returns what it found, as verify does, plus
  :dead-processes, :reclaimed (bytes) and :swept (false if another process
  is attached, or this process's updates did not pause within the wait)."
  [seg]
  (let [^Recovery$Report r (Recovery/recover (sharing "recover!" seg))]
    (assoc (report-map r) :dead-processes (.deadProcesses r) :reclaimed (.reclaimed r) :swept (.swept r))))

(defn verify
  "Walks seg's heap against a mark pass from its roots and every process's
  ledger: :reachable, :unreachable and :free bytes (unreachable bytes are
  leaked, or held by another process's handles); :stuck-slots, process
  slots held by processes that no longer run (recover! frees them); and
  whether the reference counts add up (:counts-add-up, with :count-surplus
  = counts held minus references accounting for them: above 0 a leak,
  below 0 a count given back twice); and :damaged, the damage found (each
  a map with :offset, :expected and :message; empty for a sound segment):
  its mark checks every block it follows, and it walks every named root's
  value, checking each node as a read does and recomputing every hash the
  segment keeps from the values, which finds changed bytes a read cannot
  tell from data. Exact for a named segment no process is changing; in the
  anonymous default segment handles are not recorded, so the surplus is
  what they hold."
  [seg]
  (report-map (Recovery/verify (sharing "verify" seg))))

(def ^:private snapshot-options #{:roots :capacity})

(defn snapshot!
  "Writes a compacted copy of seg's named roots (every root that holds a
  value, or those listed in :roots) into a NEW segment file at path, and
  returns {:path :bytes :roots :checksum}. Each root is copied as the
  version it published when the snapshot began; writers go on meanwhile.
  Only what the roots reach is copied, in O(live data); the file ends at its
  last used page, with a CRC32C of the whole file, and is fsynced before it
  appears at path. An existing path is refused (:slab/error :file-exists).

  Open it with (open-segment path {:read-only true}), here or on another
  machine (copy the file). Options: :roots [:a :b]; :capacity, the
  snapshot's capacity if it is to be opened for writing later (default: fit
  to its data)."
  ([seg path] (snapshot! seg path {}))
  ([seg path opts]
   (let [sh (sharing "snapshot!" seg)
         file (path-arg "snapshot!" path)
         {:keys [roots capacity]} (options-arg "snapshot!" opts snapshot-options "{:roots [:orders]}")
         _ (when-not (or (nil? roots) (sequential? roots) (set? roots))
             (bad-argument (str "snapshot! :roots must be a collection of root names (keywords), got " (pr-str roots))
                           {:argument :roots :value roots}))
         ^Snapshots$Result r (Snapshots/write sh file (some-> roots clojure.core/vec)
                                              (if capacity (size-arg capacity) 0))]
     {:path (str (.path r)) :bytes (.bytes r) :roots (clojure.core/vec (.roots r)) :checksum (.checksum r)})))

(defn segment-of
  "The segment a slab collection lives in."
  ^Segment [x]
  (if (instance? SharedColl x)
    (.segment (.heap ^Handle (.slabHandle ^SharedColl x)))
    (bad-argument (str "segment-of expects a slab collection, got "
                       (if (nil? x) "nil" (str "a " (.getName (class x)))))
                  {:argument :x :value x})))

(defn stats
  "A readable map of a segment's statistics (default segment if none given):
  capacity, bytes in use and free, the high-water mark, bytes committed,
  blocks in use by block size, named roots, the versions (handles) this
  process holds, and how many releases of dropped handles failed in this
  process (always 0 unless slab has a bug)."
  ([] (stats (default-segment)))
  ([seg]
   (let [seg (segment-arg "stats" seg)
         ^Allocator$Stats st (.stats (.allocator seg))
         ^longs blocks (.blocksInUse st)]
     ;; array-map keeps this order when printed
     (array-map
      :segment (.describe seg)
      :capacity (.capacity st)
      :bytes-in-use (.bytesInUse st)
      :bytes-free (.bytesFree st)
      :high-water (.frontier st)
      :committed (.committed st)
      :named-roots (if (Sharing/isAttached seg) (count (RootTable/names (Sharing/of seg))) 0)
      :live-versions (.liveVersions (.ownership (Heap/of seg)))
      :cleanup-failures (.cleanupFailures (.ownership (Heap/of seg)))
      :blocks-in-use (into (sorted-map)
                           (keep (fn [^long c]
                                   (let [n (aget blocks c)]
                                     (when (pos? n) [(SizeClasses/sizeOf c) n]))))
                           (range (alength blocks)))))))
