;; Proves slabread survives damaged files: hundreds of segments with random bytes flipped and other blocks' offsets planted in their live blocks each end in the stored value or one error line, never other data, a crash, a sanitizer report or a hang.
(ns slab.native.slabread-fuzz-test
  "A segment written by this JVM is damaged at random (its seed is
  printed; -Dslab.fuzz.seed=S replays a failure): bytes flipped in live blocks, or an
  aligned word of one overwritten with the offset of another block, which makes
  collections name each other in loops and DAGs. slabread must exit 0 with
  exactly the value stored (every byte of it is under a block's seal) or 1
  with one line on stderr, within its time. When the
  AddressSanitizer build can be made (make -C src/c asan), it is the one
  fuzzed, so an out-of-bounds read or undefined behaviour fails the test
  even where it would not crash."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.native :as native]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (java.util Random)
           (slab.mem HeaderDescriptor)))

(set! *warn-on-reflection* true)

(def ^:private capacity (* 4 1024 1024))
(def ^:private runs
  "Damaged segments per run; -Dslab.fuzz.runs=N for a longer hunt."
  (Long/getLong "slab.fuzz.runs" 400))

(def ^:private roots
  {:m {:a 1 "b" [1 2 3] :c #{:x "long enough to be a blob" 1.5} nil {:deep [{:deeper '(1 2)}]}}
   :v (vec (range 200))
   :s (apply str (repeat 40 "ab€"))
   :big (into {} (map (fn [i] [i [(str "v" i) (* i 1.5) (bigint i) (keyword (str "k" i))]])) (range 300))
   :mixed [22/7 1.50M 12345678901234567890N #uuid "01234567-89ab-cdef-0123-456789abcdef"
           (java.util.Date. 0) (java.time.Instant/ofEpochSecond 1 2) 'sym :kw \c nil true]})

(defn- template
  "The bytes of a segment holding roots (up to its frontier), and the
  [offset size] of each of its live blocks."
  [dir]
  (let [file (str (.resolve ^java.nio.file.Path dir "template.slab"))
        seg (slab/open-segment file {:capacity capacity})]
    (doseq [[k v] roots] (slab/set-root! seg k v))
    (let [blocks (vec (sort (map (fn [[off {:keys [size]}]] [off size]) (audit/live-blocks seg))))]
      (slab/close-segment! seg)
      (with-open [raf (RandomAccessFile. file "r")]
        (.seek raf HeaderDescriptor/FRONTIER_OFFSET)
        (let [frontier (Long/reverseBytes (.readLong raf))
              bytes (byte-array frontier)]
          (.seek raf 0)
          (.readFully raf bytes)
          [bytes blocks])))))

(defn- damage!
  "Damages a copy of the template's bytes inside its live blocks: flips
  bytes, or plants in an aligned word the offset of another live block (so
  collections may name each other in loops)."
  ^bytes [^bytes template blocks ^Random rnd]
  (let [b (aclone template)
        pick (fn [] (nth blocks (.nextInt rnd (count blocks))))]
    (dotimes [_ (inc (.nextInt rnd 4))]
      (let [[off size] (pick)
            size (min (long size) (- (alength b) (long off)))]
        (if (.nextBoolean rnd)
          (let [i (+ (long off) (.nextInt rnd (int size)))]
            (aset-byte b i (unchecked-byte (bit-xor (aget b i) (inc (.nextInt rnd 255))))))
          (let [at (+ (long off) (* 8 (.nextInt rnd (int (quot size 8)))))
                target (long (first (pick)))]
            (dotimes [k 8] (aset-byte b (+ at k) (unchecked-byte (bit-shift-right target (* 8 k)))))))))
    b))

(defn- write-segment! [file ^bytes b]
  (with-open [raf (RandomAccessFile. (str file) "rw")]
    (.setLength raf 0)
    (.write raf b)
    (.setLength raf capacity)))

(deftest damaged-segments-end-in-a-value-or-one-error-line
  (when (native/built?)
    (u/with-temp-dir [dir "slab-fuzz"]
      (let [[bytes blocks] (template dir)
            asan (native/asan?)
            program (if asan native/slabread-asan native/slabread)
            env {"ASAN_OPTIONS" "detect_leaks=0:exitcode=86" "UBSAN_OPTIONS" "halt_on_error=1:exitcode=87"}
            seed (Long/getLong "slab.fuzz.seed" (System/currentTimeMillis))
            rnd (Random. seed)
            file (.resolve ^java.nio.file.Path dir "damaged.slab")
            outcomes (atom {})]
        (println "fuzzing" (if asan "the AddressSanitizer build of slabread" "slabread") "with seed" seed)
        (dotimes [i runs]
          (write-segment! file (damage! bytes blocks rnd))
          (let [root (nth (keys roots) (.nextInt rnd (count roots)))
                r (native/run program ["-b" 100000 (str file) (name root)] :timeout-ms 30000 :env env)]
            (swap! outcomes update (:exit r) (fnil inc 0))
            (when-not (and (#{0 1} (:exit r)) (not (:timed-out r))
                           (or (zero? (long (:exit r))) (native/one-line? (:err r))))
              (is false (str "run " i " (seed " seed ") on root " root ": " (pr-str (update r :out #(subs % 0 (min 300 (count %))))))))
            ;; Every byte a value is made of is under a seal: a damaged file that prints, prints what was stored.
            (when (and (zero? (long (:exit r))) (not= (roots root) (native/read-edn (:out r))))
              (is false (str "run " i " (seed " seed ") on root " root " printed other data: "
                             (subs (:out r) 0 (min 300 (count (:out r)))))))))
        (println "fuzz outcomes (exit status -> runs):" @outcomes)
        (is (pos? (long (get @outcomes 1 0))) "some damage was found")))))
