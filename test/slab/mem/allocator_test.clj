;; Proves the allocator hands out aligned, in-bounds, non-overlapping blocks whose contents stay intact under random, multi-thread and multi-process use, fails cleanly when full, refuses bad frees, and accounts for every byte.
(ns slab.mem.allocator-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.test.check.clojure-test :refer [defspec]]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [slab.support.util :as u])
  (:import [java.io BufferedReader InputStreamReader]
           [java.util ArrayDeque ArrayList Arrays Random SplittableRandom TreeMap]
           [java.util.concurrent ConcurrentLinkedQueue]
           [slab.mem Allocator AllocatorDescriptor HeaderDescriptor Segment SizeClasses]))

(set! *warn-on-reflection* true)

(def ^:private ^:const header-bytes AllocatorDescriptor/BLOCK_HEADER_LENGTH)

(defn- fail! [msg data] (throw (ex-info msg data)))

(defn- in-use [^Allocator a] (.bytesInUse (.stats a)))

;; --- the model: random allocate / free / retain / release ----------------------

;; Each live block holds a slice of this noise, starting at a per-block
;; offset, so any write that strays into another block changes its bytes.
(def ^{:private true :tag 'bytes} noise
  (let [b (byte-array (* 4 u/MiB))]
    (.nextBytes (Random. 20240601) b)
    b))

(def ^:private gen-payload
  (gen/frequency
   [[50 (gen/choose 8 512)]
    [25 (gen/choose 513 4096)]
    [15 (gen/choose 4097 65536)]
    ;; payloads that fill a class exactly or spill into the next one
    [5 (gen/elements [0 1 7 8 9 16 24 496 503 504 505 632 633 1016 1017
                      2032 2040 2041 4088 4089 16376 16377 65528 65529])]
    ;; occasional large blocks, carved straight from the frontier
    [2 (gen/choose 65537 (* 1024 1024))]]))

(def ^:private gen-op
  (gen/frequency
   [[10 (gen/tuple (gen/return :alloc) gen-payload (gen/choose 0 255))]
    [6 (gen/tuple (gen/return :free) gen/nat (gen/frequency [[9 (gen/return false)] [1 (gen/return true)]]))]
    [2 (gen/tuple (gen/return :retain) gen/nat)]
    [2 (gen/tuple (gen/return :release) gen/nat)]
    [1 (gen/return [:verify])]]))

(def ^:private gen-ops (gen/vector gen-op 200 800))

(defn- write-pattern! [^Segment s {:keys [off n start]}]
  (.writeBytes s (+ (long off) header-bytes) noise (int start) (int n)))

(defn- check-intact! [^Segment s ^Allocator a {:keys [off n start type rc] :as b}]
  (let [off (long off) n (int n) start (int start)
        buf (byte-array n)]
    (when-not (and (.isLive a off) (= (long rc) (.refcount a off)) (= (long type) (.typeOf a off)))
      (fail! "block header changed" {:block b :live (.isLive a off) :refcount (.refcount a off)}))
    (.readBytes s (+ off header-bytes) buf 0 n)
    (when-not (Arrays/equals buf 0 n ^bytes noise start (+ start n))
      (fail! "block contents changed" {:block b}))))

(defn- check-new-block!
  "The block is 16-byte aligned, inside the heap, big enough, marked live, and
  overlaps no live block; records its extent in spans."
  [^Segment s ^Allocator a ^TreeMap spans off n type]
  (let [off (long off) size (.blockSize a off) end (+ off size)
        d {:offset off :size size :payload n}]
    (when-not (zero? (rem off AllocatorDescriptor/ALIGNMENT)) (fail! "block not 16-byte aligned" d))
    (when (or (< off HeaderDescriptor/HEADER_LENGTH) (> end (.capacity s))) (fail! "block outside the heap" d))
    (when (< size (+ (long n) header-bytes)) (fail! "block smaller than asked" d))
    (when-not (and (.isLive a off) (= 1 (.refcount a off)) (= (long type) (.typeOf a off)))
      (fail! "new block has a bad header" d))
    (when-let [e (.floorEntry spans off)]
      (when (> (long (val e)) off) (fail! "block overlaps a live block" (assoc d :other (key e)))))
    (when-let [e (.ceilingEntry spans off)]
      (when (< (long (key e)) end) (fail! "block overlaps a live block" (assoc d :other (key e)))))
    (.put spans off end)
    size))

(defn- remove-at [v i] (let [v (assoc v i (peek v))] (pop v)))

(defn run-model
  "Runs ops on a fresh segment against a model of the live blocks. Returns
  true or throws ex-info describing the first violation."
  [ops]
  (with-open [s (u/anonymous (* 256 u/MiB))]
    (let [a (.allocator s)
          _ (u/quiet-pressure! a)
          baseline (u/stats a)
          spans (TreeMap.)
          id (volatile! 0)
          total (volatile! 0)              ; bytes of the live blocks, per the model
          free! (fn [{:keys [off size]}]
                  (.free a (long off))
                  (.remove spans off)
                  (vswap! total - (long size)))
          check-accounting! (fn []
                              (when-not (= (+ (long (:bytes-in-use baseline)) (long @total)) (in-use a))
                                (fail! "bytesInUse disagrees with the live blocks"
                                       {:stats (in-use a) :model @total})))
          live (reduce
                (fn [live [op x y]]
                  (let [cnt (count live)
                        pick (fn [] (long (mod x cnt)))]
                    (case op
                      :alloc (let [n (long x)
                                   off (.allocate a n (int y))
                                   i (vswap! id inc)
                                   size (check-new-block! s a spans off n y)
                                   b {:off off :n n :type y :rc 1 :size size
                                      :start (mod (* i 7919) (- (alength noise) n))}]
                               (vswap! total + size)
                               (write-pattern! s b)
                               (check-accounting!)
                               (conj live b))
                      :free (if (zero? cnt)
                              live
                              (let [i (pick) b (nth live i)]
                                (check-intact! s a b)
                                (free! b)
                                (when y                 ; a second free must fail and change nothing
                                  (let [before (u/stats a)
                                        r (u/error-of #(.free a (long (:off b))))]
                                    (when-not (= :damaged-segment (:error r))
                                      (fail! "double free was not refused" {:block b :result r}))
                                    (when-not (= before (u/stats a))
                                      (fail! "refused double free changed the stats" {:block b}))))
                                (check-accounting!)
                                (remove-at live i)))
                      :retain (if (zero? cnt)
                                live
                                (let [i (pick)]
                                  (.retain a (long (:off (nth live i))))
                                  (update-in live [i :rc] inc)))
                      :release (if (zero? cnt)
                                 live
                                 (let [i (pick) b (nth live i)
                                       zero (.release a (long (:off b)))]
                                   (check-intact! s a (update b :rc dec))
                                   (when-not (= zero (= 1 (:rc b)))
                                     (fail! "release reported the wrong count" {:block b :zero zero}))
                                   (if zero
                                     (do (free! b) (check-accounting!) (remove-at live i))
                                     (update-in live [i :rc] dec))))
                      :verify (do (run! #(check-intact! s a %) live) live))))
                []
                ops)]
      (run! #(check-intact! s a %) live)
      (u/audit s (map (fn [{:keys [off]}] [off (.blockSize a (long off))]) live) 1)
      (run! free! live)
      (let [end (u/stats a)]
        (when-not (= (:bytes-in-use baseline) (:bytes-in-use end))
          (fail! "bytes in use did not return to the baseline" {:baseline baseline :end end}))
        (when-not (= (:blocks-in-use baseline) (:blocks-in-use end))
          (fail! "blocks in use did not return to the baseline" {:baseline baseline :end end})))
      (u/audit s [] 1)
      true)))

(defspec allocator-matches-model 200
  (prop/for-all [ops gen-ops]
    (run-model ops)))

;; --- blocks stamped with an owner and a sequence number -------------------------

(defn- stamp! [^Segment s off n stamp]
  (let [p (+ (long off) header-bytes)
        words (quot (long n) 8)]
    (dotimes [w words]
      (.putLong s (+ p (* 8 w)) (long stamp)))))

(defn- stamped? [^Segment s off n stamp]
  (let [p (+ (long off) header-bytes)
        words (quot (long n) 8)]
    (loop [w 0]
      (cond (= w words) true
            (= (long stamp) (.getLong s (+ p (* 8 w)))) (recur (inc w))
            :else false))))

(defn churn!
  "Allocates and frees blocks for `steps` steps, writing tag|sequence into
  every word of each block and checking it before the block is freed. Blocks
  may be handed through `exchange` (a queue shared with other threads) and
  freed by another thread. Keeps at most `keep` blocks of its own and
  returns them as [[offset payload stamp] ...]; reports bad stamps through
  `errors` (an atom). With `small?`, 9 in 10 blocks are 8..24 bytes (two
  size classes), so free-list heads change hands as often as possible."
  [^Segment s tag steps seed keep ^ConcurrentLinkedQueue exchange errors small?]
  (let [a (.allocator s)
        rnd (SplittableRandom. (long seed))
        own (ArrayDeque.)
        keep (long keep)
        free-checked! (fn [[off n stamp :as b]]
                        (when-not (stamped? s off n stamp)
                          (swap! errors conj {:tag tag :block b :found (.getLong s (+ (long off) header-bytes))}))
                        (.free a (long off)))]
    (dotimes [i steps]
      (let [r (.nextInt rnd 100)]
        (if (or (< (.size own) 4) (and (< r 50) (< (.size own) keep)))
          (let [n (if (< (.nextInt rnd 10) 9)
                    (+ 8 (.nextInt rnd (if small? 17 249)))
                    (+ 1000 (.nextInt rnd 3000)))
                off (.allocate a n 0)
                stamp (bit-or (bit-shift-left (long tag) 40) i)
                b [off n stamp]]
            (stamp! s off n stamp)
            (if (and exchange (< (.nextInt rnd 5) 1))
              (.add exchange b)
              (.addLast own b)))
          (if-let [b (and exchange (< r 65) (.poll exchange))]
            (free-checked! b)
            (free-checked! (if (< r 80) (.pollFirst own) (.pollLast own)))))))
    (vec own)))

(defn- run-threads [threads steps keep small?]
    (with-open [s (u/anonymous (* 256 u/MiB))]
      (let [a (.allocator s)
            baseline (u/stats a)
            exchange (ConcurrentLinkedQueue.)
            errors (atom [])
            t0 (System/nanoTime)
            futs (mapv (fn [t]
                         (let [p (promise)
                               th (Thread. ^Runnable
                                   (fn []
                                     (deliver p (try (churn! s (inc t) steps (* 31 (inc t)) keep exchange errors small?)
                                                     (catch Throwable e e)))))]
                           (.start th)
                           [th p]))
                       (range threads))
            held (mapv (fn [[^Thread th p]] (.join th) @p) futs)]
        (println (format "concurrent-threads: %d threads x %d steps (keep %d%s) in %.1f s"
                         threads steps keep (if small? ", small blocks" "") (/ (- (System/nanoTime) t0) 1e9)))
        (is (not-any? #(instance? Throwable %) held) (pr-str (filter #(instance? Throwable %) held)))
        (is (empty? @errors) (str "blocks whose stamps changed: " (pr-str (take 5 @errors))))
        (when (not-any? #(instance? Throwable %) held)
          (let [live (concat (apply concat held) (seq exchange))]
            (u/audit s (map (fn [[off]] [off (.blockSize a (long off))]) live) threads)
            (doseq [[off n stamp] live]
              (is (stamped? s off n stamp))
              (.free a (long off)))
            (is (= (:bytes-in-use baseline) (:bytes-in-use (u/stats a))))
            (is (= (:blocks-in-use baseline) (:blocks-in-use (u/stats a))))
            (u/audit s [] threads))))))

(deftest concurrent-threads
  (testing "4 threads allocate, stamp, check and free; blocks also change hands between threads"
    (testing "mixed sizes, up to 64 blocks held per thread"
      (run-threads 4 150000 64 false))
    (testing "mostly the two smallest classes, few blocks held: the free-list heads churn (ABA)"
      (run-threads 4 150000 8 true))))

;; --- two processes -------------------------------------------------------------

(def ^:private cross-capacity (* 256 u/MiB))

(defn cross-process-child
  "The child side of two-processes: maps the segment at path, churns when
  told \"go\", reports the blocks it holds, and answers \"stats\", \"free\"
  and \"exit\" on stdin."
  [path steps seed]
  (let [s (u/open-named path cross-capacity)
        a (.allocator s)
        in (BufferedReader. (InputStreamReader. System/in))
        errors (atom [])]
    (println "ready")
    (.readLine in)
    (let [held (churn! s 2 steps seed 200 nil errors false)]
      (prn {:held held :errors @errors})
      (loop []
        (case (.readLine in)
          "stats" (do (prn (u/stats a)) (recur))
          "free" (do (doseq [[off] held] (.free a (long off))) (println "freed") (recur))
          "exit" (do (.close s) (println "bye")))))))

(deftest two-processes
  (testing "a second JVM allocates from the same named segment at the same time"
    (u/with-temp-dir [dir "slab-xproc"]
      (let [file (str (.resolve dir "x.slab"))
            s (u/open-named file cross-capacity)
            a (.allocator s)
            baseline (u/stats a)
            steps 200000
            child (u/start-child (format "(require 'slab.mem.allocator-test) (slab.mem.allocator-test/cross-process-child %s %d %d)"
                                         (pr-str file) steps 99))]
        (try
          (is (= "ready" (u/read-line! child 60000)))
          (u/send-line! child "go")
          (let [errors (atom [])
                mine (churn! s 1 steps 7 200 nil errors false)
                {theirs :held their-errors :errors} (u/read-edn! child 120000)]
            (is (empty? @errors))
            (is (empty? their-errors))
            (is (seq theirs))
            (testing "blocks the child holds carry the child's stamps, seen from here"
              (is (every? (fn [[off n stamp]] (stamped? s off n stamp)) theirs)))
            (testing "no block of one process overlaps a block of the other"
              (is (map? (u/audit s (map (fn [[off]] [off (.blockSize a (long off))]) (concat mine theirs)) 2))))
            (testing "stats agree between the processes at quiescence"
              (u/send-line! child "stats")
              (let [st (u/stats a)]
                (is (= st (u/read-edn! child 30000)))
                (is (= (:bytes-in-use st)
                       (reduce + (:bytes-in-use baseline)
                               (map (fn [[off]] (.blockSize a (long off))) (concat mine theirs)))))))
            (u/send-line! child "free")
            (is (= "freed" (u/read-line! child 30000)))
            (doseq [[off] mine] (.free a (long off)))
            (u/send-line! child "stats")
            (let [st (u/stats a)]
              (is (= st (u/read-edn! child 30000)))
              (is (= (:bytes-in-use baseline) (:bytes-in-use st)))
              (is (= (:blocks-in-use baseline) (:blocks-in-use st))))
            (u/audit s [] 2)
            (u/send-line! child "exit")
            (is (= "bye" (u/read-line! child 30000)))
            (is (= 0 (u/await-exit child 30000))))
          (finally
            (u/destroy! child)
            (.close s)))))))

;; --- exhaustion ------------------------------------------------------------------

(deftest exhaustion
  (with-open [s (u/anonymous (* 32 u/MiB))]
    (let [a (.allocator s)
          calls (u/quiet-pressure! a)
          rnd (Random. 5)
          live (ArrayList.)
          fill! (fn [next-size]
                  (loop []
                    (let [n (long (next-size))
                          r (u/error-of #(.allocate a n 0))]
                      (if (contains? r :value)
                        (do (.add live [(:value r) n]) (recur))
                        (assoc r :requested n)))))
          first-error (fill! #(+ 8 (.nextInt rnd 4089)))]
      (testing "the first failure is a clear :segment-full naming the capacity"
        (is (= :segment-full (:error first-error)))
        (is (str/includes? (str (:message first-error)) "capacity 32.0 MiB"))
        (is (= (* 32 u/MiB) (get-in first-error [:data :capacity])))
        (is (= (:requested first-error) (get-in first-error [:data :requested])))
        (is (pos? (long @calls)) "the pressure hook runs before giving up"))
      ;; fill what is left with ever smaller blocks, down to the smallest class (each
      ;; class keeps at most one partly used span, a few pages of 32 MiB)
      (doseq [n [2040 504 8]]
        (is (= :segment-full (:error (fill! (constantly n))))))
      (let [st (u/stats a)
            usable (- (* 32 u/MiB) (HeaderDescriptor/heapBase (* 32 u/MiB)))]
        (println (format "exhaustion: %d blocks, %.1f%% of the usable bytes in use when full"
                         (.size live) (* 100.0 (/ (double (:bytes-in-use st)) usable))))
        (is (> (:bytes-in-use st) (* 0.9 usable)) "a full segment is mostly in use")
        (testing "bytes and blocks in use match the blocks handed out"
          (is (= (:bytes-in-use st) (reduce + (map (fn [[off]] (.blockSize a (long off))) live))))
          (is (= (:blocks-in-use st)
                 (let [f (frequencies (map #(SizeClasses/classFor (+ (long %) header-bytes)) (map second live)))]
                   (mapv #(get f % 0) (range SizeClasses/COUNT))))))
        (testing "a failed allocation changes nothing"
          (is (= :segment-full (:error (u/error-of #(.allocate a 8 0)))))
          (is (= st (u/stats a)))))
      (testing "a request larger than the segment fails at once"
        (doseq [n [(* 64 u/MiB) (- (* 32 u/MiB) 4096) Long/MAX_VALUE]]
          (let [r (u/error-of #(.allocate a (long n) 0))]
            (is (= :segment-full (:error r)) (str n " bytes"))
            (is (str/includes? (str (:message r)) "more than its whole heap")))))
      (testing "a negative size or a type outside 0..255 is a bad argument, not a full segment"
        (doseq [[n ty] [[-1 0] [Long/MIN_VALUE 0] [8 -1] [8 256]]]
          (is (= :bad-argument (:error (u/error-of #(.allocate a (long n) (int ty))))) (str n " bytes, type " ty))))
      (testing "after frees, allocation works again"
        (let [freed (vec (take 200 (shuffle (vec live))))]
          (doseq [[off] freed] (.free a (long off)))
          (.removeAll live freed)
          (doseq [[_ n] freed]
            (.add live [(.allocate a (long n) 0) n]))
          (is (= (:bytes-in-use (u/stats a)) (reduce + (map (fn [[off]] (.blockSize a (long off))) live))))))
      (u/audit s (map (fn [[off]] [off (.blockSize a (long off))]) live) 1)
      (doseq [[off] live] (.free a (long off)))
      (is (= 0 (in-use a)))
      (is (every? zero? (:blocks-in-use (u/stats a)))))))

;; --- bad frees -------------------------------------------------------------------

(deftest double-free-and-garbage-offsets
  (with-open [s (u/anonymous (* 16 u/MiB))]
    (let [a (.allocator s)
          blocks (vec (for [n [8 100 600 3000 70000]] (.allocate a n 0)))
          victim (.allocate a 40 0)
          _ (doseq [off blocks] (.fill s (+ off header-bytes) (- (.blockSize a off) header-bytes) (byte 0)))
          _ (.free a victim)
          before (u/stats a)
          refused? (fn [off]
                     (let [r (u/error-of #(.free a (long off)))]
                       (and (= :damaged-segment (:error r))
                            (= before (u/stats a)))))]
      (testing "a second free of the same block"
        (is (refused? victim)))
      (testing "offsets that are not blocks"
        (doseq [off [0 -16 1 8 16 (- HeaderDescriptor/HEADER_LENGTH 16) (+ (blocks 1) 8) (+ (blocks 1) 16)
                     (+ (blocks 4) 4096) (.getLongVolatile s HeaderDescriptor/FRONTIER_OFFSET)
                     (.capacity s) Long/MAX_VALUE Long/MIN_VALUE]]
          (is (refused? off) (str "free of " off))))
      (testing "a live-looking header inside a block (a string's bytes can look like one) is not a block"
        (let [off (blocks 2)
              fake (+ off 32)]
          (.putLong s fake (.getLongVolatile s off))
          (is (refused? fake))
          (is (.isLive a off))
          (.fill s (+ off header-bytes) (- (.blockSize a off) header-bytes) (byte 0))))
      (testing "retain and release of offsets outside the heap or misaligned are clear errors that write nothing"
        (doseq [off [0 -16 1 8 (- HeaderDescriptor/HEADER_LENGTH 16) (.capacity s) Long/MAX_VALUE Long/MIN_VALUE]]
          (is (= :damaged-segment (:error (u/error-of #(.retain a (long off))))) (str "retain of " off))
          (is (= :damaged-segment (:error (u/error-of #(.release a (long off))))) (str "release of " off)))
        (is (= before (u/stats a))))
      (testing "retain and release of a freed block"
        (is (= :damaged-segment (:error (u/error-of #(.retain a victim)))))
        (is (= :damaged-segment (:error (u/error-of #(.release a victim)))))
        (is (= before (u/stats a)))
        (is (not (.isLive a victim))))
      (testing "a release below zero is refused and leaves the count"
        (let [off (blocks 0)]
          (is (.release a off))
          (is (= :damaged-segment (:error (u/error-of #(.release a off)))))
          (is (= 0 (.refcount a off)))))
      (testing "the live blocks are untouched"
        (is (every? #(.isLive a %) blocks))
        (doseq [off blocks] (.free a off))
        (is (= 0 (in-use a)))))))

;; The free path tells a block's start from any other offset in its span with a multiply
;; (AllocatorDescriptor/isBlockStart) instead of a division: it must agree with the remainder
;; for every distance a span can hold, in every class, and a free at an interior offset must be
;; refused while the block itself stays live.
(deftest block-starts-without-division
  (testing "isBlockStart agrees with the remainder over every distance in two spans' length, every small class"
    (doseq [cls (range SizeClasses/COUNT)
            :when (AllocatorDescriptor/isSmall cls)
            :let [size (SizeClasses/sizeOf cls)
                  n (* 2 (AllocatorDescriptor/spanPages cls) AllocatorDescriptor/PAGE_LENGTH)
                  wrong (loop [x 0, wrong 0]
                          (if (< x n)
                            (recur (inc x) (if (= (AllocatorDescriptor/isBlockStart x cls) (zero? (rem x size))) wrong (inc wrong)))
                            wrong))]]
      (is (zero? wrong) (str "class " cls " (" size " bytes)"))))
  (testing "past 2^32 and below zero it still agrees with the remainder; a class that does not exist starts nothing"
    (doseq [cls [0 7 31 40 (dec SizeClasses/COUNT)]
            :let [size (SizeClasses/sizeOf cls)]
            x [(bit-shift-left 1 32) (* size (quot (bit-shift-left 1 62) size)) (inc (* size (quot (bit-shift-left 1 62) size)))
               -16 (- size) Long/MAX_VALUE]]
      (is (= (zero? (rem x size)) (AllocatorDescriptor/isBlockStart x cls)) (str "x " x ", class " cls)))
    (is (not (AllocatorDescriptor/isBlockStart 0 -1)))
    (is (not (AllocatorDescriptor/isBlockStart 0 SizeClasses/COUNT))))
  (testing "frees at offsets between block starts are refused; the blocks stay live"
    (with-open [s (u/anonymous (* 16 u/MiB))]
      (let [a (.allocator s)]
        (doseq [payload [8 40 200 600 3000 12000]]
          (let [x (.allocate a payload 0), y (.allocate a payload 0)
                size (.blockSize a x), before (u/stats a)]
            (doseq [d [8 16 (- size 16) (- size 8) (+ size 8) (* 16 (quot (+ size 16) 16))]
                    :let [off (+ (min x y) d)]
                    :when (and (not= off x) (not= off y))]
              (is (= :damaged-segment (:error (u/error-of #(.free a (long off))))) (str "free at " d " into a " size "-byte block")))
            (is (= before (u/stats a)))
            (is (and (.isLive a x) (.isLive a y)))
            (.free a x)
            (.free a y)))
        (is (= 0 (in-use a)))))))

;; --- what a dead or damaging process leaves ------------------------------------------------------

(deftest a-commit-cut-short-is-done-again-at-once
  ;; A process killed while committing leaves the claim word ahead of committed
  ;; (and the pool lock naming it); the next allocation that needs the frontier
  ;; to grow takes the lock over and commits again instead of waiting for it.
  (u/with-temp-dir [dir "slab-commit"]
    (with-open [s (u/open-named (str (.resolve dir "c.slab")) (* 64 u/MiB))]
      (let [a (.allocator s)
            committed (.getLongVolatile s HeaderDescriptor/COMMITTED_OFFSET)]
        (.putLongVolatile s HeaderDescriptor/COMMIT_CLAIM_OFFSET (+ committed (* 8 u/MiB)))
        (let [offs (vec (repeatedly 3 #(.allocate a (* 6 u/MiB) 0)))]
          (is (every? pos? offs))
          (is (> (.getLongVolatile s HeaderDescriptor/COMMITTED_OFFSET) committed))
          (is (= (.getLongVolatile s HeaderDescriptor/COMMITTED_OFFSET)
                 (.getLongVolatile s HeaderDescriptor/COMMIT_CLAIM_OFFSET)))
          (doseq [off offs] (.free a (long off)))
          (is (map? (u/audit s [] nil))))))))

(deftest a-damaged-pool-is-an-error-not-a-hang
  (with-open [s (u/anonymous (* 32 u/MiB))]
    (let [a (.allocator s)
          blocks (vec (repeatedly 6 #(.allocate a (* 64 1024) 0)))]
      ;; free every other one: three one-run holes of 5 pages, filed in one bin
      (doseq [off (take-nth 2 blocks)] (.free a (long off)))
      (let [bin (loop [b 0]
                  (let [head (.getLongVolatile s (+ HeaderDescriptor/POOL_BINS_OFFSET (* 8 b)))]
                    (if (pos? head) b (recur (inc b)))))
            head (dec (.getLongVolatile s (+ HeaderDescriptor/POOL_BINS_OFFSET (* 8 bin))))
            run (+ (HeaderDescriptor/heapBase (.capacity s)) (* head AllocatorDescriptor/PAGE_LENGTH))]
        (.putLong s (+ run AllocatorDescriptor/RUN_NEXT_OFFSET) (inc head))   ; the run's next is itself
        (let [r (u/error-of #(.allocate a (* 90 1024) 0))]   ; 6 pages: walks that bin
          (is (= :damaged-segment (:error r)) (pr-str r)))))))

(deftest a-forged-size-class-is-refused
  (with-open [s (u/anonymous (* 16 u/MiB))]
    (let [a (.allocator s)
          off (.allocate a 40 0)
          h (.getLongVolatile s off)
          forged (AllocatorDescriptor/header 200 AllocatorDescriptor/STATE_LIVE 0 1)]
      (.putLongVolatile s off forged)
      (is (= :damaged-segment (:error (u/error-of #(.free a off)))))
      (.putLongVolatile s off h)
      (.free a off)
      (is (= 0 (in-use a))))))

(deftest fresh-allocation-skips-holes
  (let [seg (u/anonymous (* 64 u/MiB))
        ^Allocator a (.allocator seg)
        size (SizeClasses/sizeOf (SizeClasses/classFor (+ 40 header-bytes)))
        base (in-use a)
        blocks (vec (repeatedly 20000 #(.allocate a 40 0)))]
    (run! #(.free a (long %)) (take-nth 2 blocks))
    (testing "allocateIfRoom fills the holes"
      (let [b (.allocateIfRoom a 40 0)]
        (is (some #{b} (take-nth 2 blocks)))
        (.free a b)))
    (testing "allocateFresh hands out consecutive blocks of untouched room"
      (let [fresh (vec (repeatedly 5000 #(.allocateFresh a 40 0)))
            steps (map - (rest fresh) fresh)]
        (is (not-any? (set (take-nth 2 blocks)) fresh))
        (is (< 0.98 (/ (count (filter #(= size %) steps)) (double (count steps)))))
        (run! #(.free a (long %)) fresh)))
    (run! #(.free a (long %)) (take-nth 2 (rest blocks)))
    (is (= base (in-use a)) "every block given back")
    (is (some? (u/audit seg nil nil)))))
