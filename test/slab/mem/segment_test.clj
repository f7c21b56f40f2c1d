;; Proves segments reserve address space without resident memory, turn a full disk into :disk-full (never SIGBUS), refuse damaged or foreign files with a clear error, keep their data across reopen and processes, and fail cleanly once closed.
(ns slab.mem.segment-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import [java.nio ByteBuffer ByteOrder]
           [java.nio.file Files OpenOption Path StandardOpenOption]
           [java.util Arrays Random]
           [slab.mem Allocator AllocatorDescriptor HeaderDescriptor Segment SizeClasses]))

(set! *warn-on-reflection* true)

(def ^:private ^:const header-bytes AllocatorDescriptor/BLOCK_HEADER_LENGTH)

;; --- address space, not memory ----------------------------------------------------

(deftest anonymous-capacity-is-not-resident
  (testing "a 64 GiB anonymous segment raises VmRSS by a few MiB at most"
    (.close (u/anonymous (* 4 u/MiB)))           ; load the classes first
    (dotimes [_ 3] (System/gc))                  ; let the heap settle, so VmRSS moves only for the segment
    (let [mapped #(+ (u/proc-status-kib "RssShmem") (u/proc-status-kib "RssFile"))   ; the heap is RssAnon
          rss (u/vm-rss-kib)
          shm (mapped)
          s (u/anonymous (* 64 1024 u/MiB))]
      (try
        (let [a (.allocator s)
              blocks (vec (repeatedly 1000 #(.allocate a 100 0)))
              _ (System/gc)
              rss-delta (- (u/vm-rss-kib) rss)
              shm-delta (- (long (mapped)) (long shm))]
          (println (format "64 GiB anonymous segment: VmRSS %+d KiB (includes heap resizing), mapped files %+d KiB"
                           rss-delta shm-delta))
          (is (= (* 64 1024 u/MiB) (.capacity s)))
          (is (< rss-delta (* 8 1024)) "VmRSS grew by more than 8 MiB")
          (is (< shm-delta (* 2 1024)) "more than 2 MiB of the segment became resident")
          (run! #(.free a (long %)) blocks))
        (finally (.close s))))))

;; --- a backing store that fills up ---------------------------------------------------

(defn fill-child
  "Runs in a child JVM: fills the segment at path (on a small tmpfs) with
  blocks, writing every byte, until allocation fails; frees a few and
  allocates them again; prints the outcome as EDN."
  [path capacity]
  (let [s (u/open-named path capacity)
        a (.allocator s)
        _ (u/quiet-pressure! a)
        rnd (Random. 3)
        live (java.util.ArrayList.)
        outcome (loop []
                  (let [n (+ 8 (.nextInt rnd 65529))
                        r (u/error-of #(.allocate a n 0))]
                    (if (contains? r :value)
                      (let [off (long (:value r))]
                        (.fill s (+ off header-bytes) n (byte 0x5A))
                        (.add live [off n])
                        (recur))
                      r)))
        refill (u/error-of (fn []
                             ;; each freed block's pages (or span slot) serve the same
                             ;; size again, with the file system still full
                             (doseq [[off n] (vec (take 20 live))]
                               (.free a (long off))
                               (let [off (.allocate a (long n) 0)]
                                 (.fill s (+ off header-bytes) (long n) (byte 0x33))))
                             :ok))]
    (prn {:error (:error outcome) :message (:message outcome) :exception (some-> (:exception outcome) str)
          :blocks (.size live) :stats (dissoc (u/stats a) :blocks-in-use) :refill refill})
    (.close s)))

(deftest full-backing-store
  (testing "a named segment larger than its tmpfs: filling it gives :disk-full naming the file, not SIGBUS"
    (u/with-temp-dir [dir "slab-tmpfs"]
      (when (u/mount-tmpfs! dir "8m")
        (try
          (let [file (str (.resolve dir "small.slab"))
                child (u/start-child (format "(require 'slab.mem.segment-test) (slab.mem.segment-test/fill-child %s %d)"
                                             (pr-str file) (* 64 u/MiB)))]
            (try
              (let [r (u/read-edn! child 120000)
                    in-use (long (get-in r [:stats :bytes-in-use]))]
                (println (format "8 MiB tmpfs under a 64 MiB segment: %d blocks, %.1f MiB in use when full"
                                 (:blocks r) (/ in-use 1048576.0)))
                (is (= :disk-full (:error r)) (pr-str r))
                (is (str/includes? (str (:message r)) "No space left"))
                (is (str/includes? (str (:message r)) file) "the message names the file")
                (is (not (str/includes? (str (:message r)) "larger segment")) "no advice that cannot help")
                (is (> in-use (* 6 u/MiB)) "most of the tmpfs is usable")
                (is (= :ok (:value (:refill r))) (str "freed blocks can be allocated again " (pr-str (:refill r))))
                (is (= 0 (u/await-exit child 30000)) (u/child-failure child "child did not exit cleanly")))
              (finally (u/destroy! child))))
          (finally (u/umount! dir)))))))

(deftest interrupt-does-not-break-commits
  (testing "an interrupted thread's allocation commits normally and the segment stays usable"
    (with-open [s (u/anonymous (* 64 u/MiB))]
      (let [a (.allocator s)
            r (let [p (promise)]
                (doto (Thread. ^Runnable
                       (fn []
                         (.interrupt (Thread/currentThread))
                         (deliver p (u/error-of #(.allocate a (* 6 u/MiB) 0)))))
                  (.start)
                  (.join))
                @p)]
        (is (contains? r :value) (pr-str r))
        (is (>= (:committed (u/stats a)) (* 6 u/MiB)))
        (dotimes [_ 8] (.allocate a (* 4 u/MiB) 0))
        (is (> (:bytes-in-use (u/stats a)) (* 38 u/MiB)))))))

;; --- damaged and foreign files -----------------------------------------------------------

(defn- read-bytes ^bytes [p] (Files/readAllBytes (u/path p)))
(defn- write-bytes! [p ^bytes b] (Files/write (u/path p) b ^"[Ljava.nio.file.OpenOption;" (make-array OpenOption 0)))

(defn- le ^ByteBuffer [^bytes b] (.order (ByteBuffer/wrap b) ByteOrder/LITTLE_ENDIAN))

(defn- fnv1a
  "The header checksum as doc/FORMAT.md defines it, computed independently."
  [^bytes b]
  (reduce (fn [^long h i] (unchecked-multiply (bit-xor h (bit-and 0xFF (long (aget b (int i))))) 0x100000001b3))
          (unchecked-long 0xcbf29ce484222325)
          (range HeaderDescriptor/FIXED_LENGTH)))

(defn- patched
  "A copy of b with f applied to its little-endian view; with reseal, the
  checksum is recomputed so only the patched field is wrong."
  [^bytes b f & {:keys [reseal]}]
  (let [c (Arrays/copyOf b (alength b))]
    (f (le c))
    (when reseal (.putLong (le c) HeaderDescriptor/CHECKSUM_OFFSET (long (fnv1a c))))
    c))

(defn- open-error
  "Opens the file at p with bytes b; returns the error-of result, checking
  the file was not modified."
  [dir ^bytes b]
  (let [p (.resolve ^Path dir (str "bad-" (System/nanoTime) ".slab"))]
    (write-bytes! p b)
    (let [r (u/error-of #(u/open-named p u/MiB))]
      (when (contains? r :value) (.close ^Segment (:value r)))
      (is (Arrays/equals b (read-bytes p)) "opening a bad file must not change it")
      (Files/delete p)
      r)))

(defn- refused? [r kind & fragments]
  (and (= kind (:error r))
       (every? #(str/includes? (str (:message r)) %) fragments)))

(deftest damaged-and-foreign-files
  (u/with-temp-dir [dir "slab-bad"]
    (let [good-path (.resolve dir "good.slab")
          _ (with-open [s (u/open-named good-path u/MiB)]
              (let [off (.allocate (.allocator s) 1000 0)]
                (.fill s (+ off header-bytes) 1000 (byte 7))))
          good (read-bytes good-path)
          n (alength good)
          rnd (Random. 11)
          random-bytes (fn [len] (let [b (byte-array len)] (.nextBytes rnd b) b))]
      (testing "the good file opens"
        (is (contains? (open-error dir good) :value)))
      (testing "random bytes, of several lengths"
        (doseq [len [1 10 55 56 100 4096 n (* 2 n)]]
          (is (refused? (open-error dir (random-bytes len)) :bad-segment-file "Refusing to open")
              (str len " random bytes"))))
      (testing "too small to hold a header"
        (is (refused? (open-error dir (Arrays/copyOf good 40)) :bad-segment-file "too small")))
      (testing "a header and nothing after it"
        (is (refused? (open-error dir (Arrays/copyOf good (int HeaderDescriptor/HEADER_LENGTH)))
                      :bad-segment-file "truncated or extended")))
      (testing "truncated"
        (is (refused? (open-error dir (Arrays/copyOf good (quot n 2))) :bad-segment-file "truncated")))
      (testing "extended"
        (is (refused? (open-error dir (Arrays/copyOf good (+ n 4096))) :bad-segment-file "extended")))
      (testing "wrong magic"
        (is (refused? (open-error dir (patched good #(.putLong ^ByteBuffer % 0 0x4C49464E41524F46)))
                      :bad-segment-file "wrong magic")))
      (testing "another format version (only the version field changed)"
        (doseq [v [1 2 3 4 5 7]]   ; 1: the first allocator's format, 2: nodes without lineage words, 3: no reader table, 4: no vector-of, 5: no seals, 7: a later one
          (let [r (open-error dir (patched good #(.putInt ^ByteBuffer % HeaderDescriptor/VERSION_OFFSET v)))]
            (is (refused? r :wrong-version (str "format version " v) (str "reads version " HeaderDescriptor/FORMAT_VERSION)))
            (is (= v (get-in r [:data :version]))))))
      (testing "every single flipped byte of the fixed header and its checksum is caught"
        (doseq [i (range (+ HeaderDescriptor/FIXED_LENGTH 8))]
          (let [r (open-error dir (patched good #(.put ^ByteBuffer % (int i) (unchecked-byte (bit-xor 0x10 (.get ^ByteBuffer % (int i)))))))]
            (is (#{:bad-segment-file :wrong-version} (:error r)) (str "flipped byte " i ": " (pr-str r))))))
      (testing "a flipped byte outside magic and version is reported as a damaged header"
        (is (refused? (open-error dir (patched good #(.put ^ByteBuffer % (int HeaderDescriptor/CREATED_OFFSET) (byte 1))))
                      :bad-segment-file "checksum")))
      (testing "consistent headers (checksum recomputed) with a wrong field"
        (is (refused? (open-error dir (patched good #(.putLong ^ByteBuffer % HeaderDescriptor/CAPACITY_OFFSET (* 2 n)) :reseal true))
                      :bad-segment-file "truncated or extended"))
        (is (refused? (open-error dir (patched (Arrays/copyOf good 4096)
                                               #(.putLong ^ByteBuffer % HeaderDescriptor/CAPACITY_OFFSET 4096) :reseal true))
                      :bad-segment-file "not a valid segment capacity"))
        (is (refused? (open-error dir (patched good #(.putInt ^ByteBuffer % HeaderDescriptor/CLASS_COUNT_OFFSET 99) :reseal true))
                      :bad-segment-file "layout"))
        (is (refused? (open-error dir (patched good #(.putInt ^ByteBuffer % HeaderDescriptor/PAGE_SIZE_OFFSET 8192) :reseal true))
                      :bad-segment-file "layout"))
        (is (refused? (open-error dir (patched good #(.putInt ^ByteBuffer % HeaderDescriptor/MAP_BITS_OFFSET 9) :reseal true))
                      :bad-segment-file "branching"))
        (is (refused? (open-error dir (patched good #(.putLong ^ByteBuffer % HeaderDescriptor/FRONTIER_OFFSET (* 2 n))))
                      :bad-segment-file "allocator state")))
      (testing "an empty file is a new segment"
        (let [p (.resolve dir "empty.slab")]
          (write-bytes! p (byte-array 0))
          (with-open [s (u/open-named p u/MiB)]
            (is (= u/MiB (.capacity s)))
            (is (= 0 (:bytes-in-use (u/stats (.allocator s)))))))))))

;; --- the same segment again: after close, and from another process ------------------------

(defn read-child
  "Runs in a child JVM: opens the segment at path, checks that each [offset
  byte] block still holds 500 copies of its byte, writes a stamp into a new
  block, and prints {:intact? .. :offset .. :stats ..}."
  [path blocks]
  (let [s (u/open-named path (* 16 u/MiB))
        a (.allocator s)
        intact? (every? (fn [[off b]]
                          (every? #(= (byte b) (.getByte s (+ (long off) header-bytes (long %)))) (range 500)))
                        blocks)
        off (.allocate a 64 3)]
    (.putLong s (+ off header-bytes) 0x0123456789ABCDEF)
    (prn {:intact? intact? :offset off :stats (u/stats a)})
    (.close s)))

(deftest reopen-sees-data
  (u/with-temp-dir [dir "slab-reopen"]
    (let [file (.resolve dir "data.slab")
          cap (* 16 u/MiB)
          [blocks st] (with-open [s (u/open-named file cap)]
                        (let [a (.allocator s)
                              blocks (vec (for [i (range 20)]
                                            (let [off (.allocate a (+ 500 (* 37 i)) 1)]
                                              (.fill s (+ off header-bytes) 500 (byte i))
                                              [off i])))]
                          [blocks (u/stats a)]))]
      (testing "after close, in the same process"
        (with-open [s (u/open-named file cap)]
          (let [a (.allocator s)]
            (is (= st (u/stats a)))
            (is (every? (fn [[off b]] (and (.isLive a off) (= 1 (.typeOf a off))
                                          (every? #(= (byte b) (.getByte s (+ off header-bytes %))) (range 500))))
                        blocks))
            (testing "new blocks do not overlap the old ones"
              (let [fresh (vec (repeatedly 50 #(.allocate a 300 0)))]
                (is (map? (u/audit s (map (fn [off] [off (.blockSize a (long off))]) (concat (map first blocks) fresh)) 2)))
                (run! #(.free a (long %)) fresh))))))
      (testing "from a second process, while this one has it open"
        (with-open [s (u/open-named file cap)]
          (let [a (.allocator s)
                child (u/start-child (format "(require 'slab.mem.segment-test) (slab.mem.segment-test/read-child %s %s)"
                                             (pr-str (str file)) (pr-str blocks)))]
            (try
              (let [r (u/read-edn! child 60000)
                    off (long (:offset r))]
                (is (:intact? r))
                (is (= (u/stats a) (:stats r)))
                (is (and (.isLive a off) (= 3 (.typeOf a off))))
                (is (= 0x0123456789ABCDEF (.getLong s (+ off header-bytes))) "the child's write is visible here")
                (is (= 0 (u/await-exit child 30000)))
                (.free a off))
              (finally (u/destroy! child)))))))))

(deftest one-segment-per-file-per-process
  (u/with-temp-dir [dir "slab-same"]
    (let [file (.resolve dir "s.slab")
          s1 (u/open-named file u/MiB)]
      (is (identical? s1 (u/open-named (.resolve dir "./s.slab") u/MiB)))
      (.close s1)
      (with-open [s2 (u/open-named file u/MiB)]
        (is (not (identical? s1 s2)))
        (is (not (.isClosed s2)))))))

(deftest one-segment-per-file-whatever-the-path
  (u/with-temp-dir [dir "slab-links"]
    (let [file (.resolve dir "s.slab")
          link (.resolve dir "link.slab")
          hard (.resolve dir "hard.slab")
          sub (Files/createDirectory (.resolve dir "sub") (make-array java.nio.file.attribute.FileAttribute 0))
          s1 (slab/open-segment (str file) {:capacity (* 4 u/MiB)})]
      (try
        (Files/createSymbolicLink link file (make-array java.nio.file.attribute.FileAttribute 0))
        (Files/createLink hard file)
        (testing "a symlink, a hard link, a File and a path through .. name one file: one segment"
          (is (identical? s1 (slab/open-segment (str link))))
          (is (identical? s1 (slab/open-segment hard)))
          (is (identical? s1 (slab/open-segment (.toFile file))))
          (is (identical? s1 (slab/open-segment (str sub "/../s.slab")))))
        (testing "recover! through the second path works (no OverlappingFileLockException)"
          (slab/set-root! s1 :m {:a 1})
          (is (map? (slab/recover! (slab/open-segment (str link)))))
          (is (= {:a 1} (slab/root (slab/open-segment hard) :m))))
        (finally (slab/close-segment! s1)))
      (testing "after close, any path opens a new segment on the same data"
        (let [s2 (slab/open-segment (str link))]
          (try
            (is (not (identical? s1 s2)))
            (is (identical? s2 (slab/open-segment (str file))))
            (is (= {:a 1} (slab/root s2 :m)))
            (finally (slab/close-segment! s2))))))))

(deftest open-segment-argument-errors
  (u/with-temp-dir [dir "slab-args"]
    (let [file (str (.resolve dir "a.slab"))]
      (doseq [[what f arg] [["nil path" #(slab/open-segment nil) :path]
                            ["blank path" #(slab/open-segment "  ") :path]
                            ["a number as path" #(slab/open-segment 42) :path]
                            ["a vector of options" #(slab/open-segment file [:capacity (* 4 u/MiB)]) :opts]
                            ["an unknown option" #(slab/open-segment file {:capcity (* 4 u/MiB)}) :opts]
                            ["a capacity that is not a size" #(slab/open-segment file {:capacity "lots"}) :capacity]
                            ["a capacity of the wrong type" #(slab/open-segment file {:capacity :big}) :capacity]
                            ["a float capacity" #(slab/open-segment file {:capacity 1.5e9}) :capacity]
                            ["branching bits that are not integers" #(slab/open-segment file {:map-bits "5"}) :map-bits]]]
        (testing what
          (let [r (u/error-of f)]
            (is (= :bad-argument (:error r)) (pr-str r))
            (is (= arg (:argument (:data r))) (pr-str r)))))
      (is (not (Files/exists (.resolve dir "a.slab") (make-array java.nio.file.LinkOption 0)))
          "a refused open creates no file")
      (testing "a size string is understood"
        (let [s (slab/open-segment file {:capacity "4m"})]
          (try
            (is (= (* 4 u/MiB) (.capacity s)))
            (finally (slab/close-segment! s)))))
      (testing "functions taking a segment name what they got"
        (doseq [[what f] [["close-segment!" #(slab/close-segment! nil)]
                          ["flush!" #(slab/flush! "a.slab")]
                          ["root" #(slab/root {:not :a-segment} :m)]
                          ["set-root!" #(slab/set-root! 42 :m 1)]
                          ["stats" #(slab/stats :seg)]
                          ["segment-of" #(slab/segment-of {:a 1})]]]
          (let [r (u/error-of f)]
            (is (= :bad-argument (:error r)) (str what " " (pr-str r)))
            (is (str/includes? (str (:message r)) what) (str what " " (pr-str r)))))))))

(deftest closing-the-default-segment
  ;; In a child JVM: closing this JVM's default segment would pull values out
  ;; from under other test namespaces.
  (let [child (u/start-child
               (pr-str '(do (require '[slab.core :as slab])
                            (let [old (slab/default-segment)
                                  m (slab/hash-map :a 1)
                                  _ (slab/close-segment! old)
                                  err (try (get m :a) :no-error
                                           (catch IllegalStateException e (ex-message e)))
                                  fresh (slab/hash-map :b 2)]
                              (prn {:error err
                                    :fresh (into {} fresh)
                                    :new-segment (not (identical? old (slab/default-segment)))
                                    :fresh-in-default (identical? (slab/default-segment) (slab/segment-of fresh))
                                    :open (not (.isClosed (slab/default-segment)))})
                              (shutdown-agents)))))]
    (try
      (let [r (u/read-edn! child 60000)]
        (testing "values in the closed default segment throw a clear error"
          (is (str/includes? (str (:error r)) "is closed") (pr-str r)))
        (testing "the next use opens a fresh default segment"
          (is (= {:b 2} (:fresh r)))
          (is (:new-segment r))
          (is (:fresh-in-default r))
          (is (:open r))))
      (is (= 0 (u/await-exit child 30000)))
      (finally (u/destroy! child)))))

(deftest bad-arguments
  (doseq [[cap mb vb] [[(dec u/MiB) 5 5] [(+ u/MiB 100) 5 5] [(* 2 SizeClasses/MAX_BLOCK) 5 5]
                       [u/MiB 0 5] [u/MiB 5 6]]]
    (is (= :bad-argument (:error (u/error-of #(Segment/anonymous cap mb vb)))) (pr-str [cap mb vb]))))

;; --- closed segments -----------------------------------------------------------------------

(deftest closed-segment
  (let [s (u/anonymous (* 4 u/MiB))
        a (.allocator s)
        off (.allocate a 100 0)
        reader-error (promise)
        reader (doto (Thread. ^Runnable
                      (fn []
                        (deliver reader-error
                                 (u/error-of #(loop [sum 0]
                                                (recur (+ sum (.getLong s (+ off header-bytes)))))))))
                 (.start))]
    (Thread/sleep 50)
    (.close s)
    (.close s)                                          ; closing twice is a no-op
    (.join reader 10000)
    (testing "a thread reading while the segment closes gets an exception, not a crash"
      (is (= IllegalStateException (:exception @reader-error))))
    (testing "this thread"
      (is (.isClosed s))
      (is (str/includes? (str s) "closed"))
      (let [r (u/error-of #(.allocate a 100 0))]
        (is (= IllegalStateException (:exception r)))
        (is (str/includes? (str (:message r)) "is closed")))
      (is (= IllegalStateException (:exception (u/error-of #(.free a off)))))
      (is (= IllegalStateException (:exception (u/error-of #(.getLong s off)))))
      (is (= IllegalStateException (:exception (u/error-of #(.stats a))))))
    (testing "another thread"
      (let [r @(future (u/error-of #(.allocate a 100 0)))]
        (is (= IllegalStateException (:exception r)))
        (is (str/includes? (str (:message r)) "is closed")))
      (is (= IllegalStateException (:exception @(future (u/error-of #(.getLong s off)))))))))
