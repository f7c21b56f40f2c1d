;; Proves slabread prints every value slab stores as EDN that reads back = to it (every tag by hand, vector-of of every element type, random values by test.check, 5- and 1-bit tries), that slab_leaf_at hands out vector-of leaves in place, and that missing roots, foreign, truncated and damaged files end in one error line, never a crash or a hang.
(ns slab.native.slabread-test
  "src/c/build/slabread, run on segments this JVM writes. Values are compared
  after `norm`, which makes every NaN one keyword (clojure.core's = is false
  for two NaN boxes) and nothing else: slabread's output must be = to what
  was stored. Chars that are lone surrogates are replaced before storing:
  EDN cannot read them (clojure.edn refuses \\uD800), though slabread prints
  them. The C library's format constants are compared with the Java
  descriptors, so the two sides cannot drift apart."
  (:require [clojure.edn :as edn]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [clojure.walk :as walk]
            [slab.core :as slab]
            [slab.support.audit :as audit]
            [slab.support.generators :as g]
            [slab.support.native :as native]
            [slab.support.util :as u])
  (:import (java.io RandomAccessFile)
           (java.nio.file Files StandardCopyOption CopyOption)
           (slab.mem HeaderDescriptor Segment)))

(set! *warn-on-reflection* true)

(defn- norm
  "v with every NaN replaced by ::nan, so = can compare what was stored with what was read."
  [v]
  (walk/postwalk #(if (and (float? %) (Double/isNaN (double %))) ::nan %) v))

(defn- readable
  "v with lone-surrogate chars (which EDN cannot read) replaced by \\?."
  [v]
  (walk/postwalk #(if (and (char? %) (<= 0xD800 (int %) 0xDFFF)) \? %) v))

(defmacro ^:private with-segment [[sym opts] & body]
  `(u/with-temp-dir [dir# "slab-native"]
     (let [file# (str (.resolve ^java.nio.file.Path dir# "seg.slab"))
           ~sym (slab/open-segment file# (merge {:capacity (* 64 1024 1024)} ~opts))]
       (try ~@body (finally (slab/close-segment! ~sym))))))

(defn- read-root
  "slabread's output for root k of seg, read back; or {::failed result}."
  [seg k]
  (let [r (native/slabread! (:segment (slab/stats seg)) k)]
    (if (and (zero? (long (:exit r))) (str/blank? (:err r)))
      (native/read-edn (:out r))
      {::failed r})))

;; --- every tag -------------------------------------------------------------------

(def every-tag
  {:nil nil, :true true, :false false, :long 42, :negative -7, :min Long/MIN_VALUE, :max Long/MAX_VALUE,
   :int (int 7), :double 1.5, :tiny 4.9E-324, :huge 1.7976931348623157E308, :third (/ 1.0 3),
   :neg-zero -0.0, :nan ##NaN, :inf ##Inf, :neg-inf ##-Inf, :float (float 0.1),
   :char \a, :chars [\space \newline \tab \return \backspace \formfeed \u00e9 \( \" \\ \u0000 \u2603],
   :bigint 12345678901234567890123N, :small-bigint 5N, :biginteger (biginteger 98765432109876543210),
   :negative-biginteger (biginteger -98765432109876543210), :small-biginteger (biginteger -3),
   :bigdec 1.50M, :bigdec-long 123456789.123456789M, :bigdec-exp 1E+3M, :bigdec-zero -0.00M, :bigdec-small 1E-30M,
   :bigdec-huge (bigdec (* 12345678901234567890N 98765432109876543210N)),
   :ratio 22/7, :negative-ratio -1/3, :big-ratio 12345678901234567890/7,
   :inline "abc", :empty "", :string "hello, world", :escapes "tab\tquote\" backslash\\ newline\n nul\u0000",
   :utf16 "日本語 \uD83D\uDE00 emoji", :lone-surrogates "\uD83D x \uDE00", :long-string (apply str (repeat 500 "ab€")),
   :keyword :a, :ns-keyword :ns/name, :symbol 'foo, :ns-symbol 'foo/bar, :meta-symbol (with-meta 'sym {:line 1}),
   :uuid #uuid "01234567-89ab-cdef-0123-456789abcdef", :date (java.util.Date. 1700000000123),
   :old-date (java.util.Date. -100000000000000), :far-date (java.util.Date. 400000000000000),
   :instant (java.time.Instant/ofEpochSecond 5 7), :old-instant (java.time.Instant/ofEpochSecond -100000000000 999999999),
   :map {:a 1 "b" [1 2 3] nil #{1 2} [1 2] {:x 'y}}, :set #{1 :a "s" nil [1]}, :vector (vec (range 100)),
   :list '(1 2 (3 4)), :lazy (map inc (range 5)), :empty-vector [], :empty-map {}, :empty-set #{}, :empty-list (),
   :with-meta (with-meta {:a 1} {:doc "meta"}), :nested [[[[[[[[[[:deep]]]]]]]]]],
   :big-map (into {} (map (fn [i] [i (str "value " i)])) (range 3000)),
   :big-set (set (range 0 100000 7)), :big-vector (vec (range 40000)),
   :collisions (into {} (map (fn [s] [s (count s)])) ["AaAa" "AaBB" "BBAa" "BBBB" "AaAaAa" "BBBBBB"])})

(deftest every-tag-reads-back-equal
  (when (native/built?)
    (with-segment [seg {}]
      (doseq [[k v] every-tag] (slab/set-root! seg k v))
      (doseq [[k v] every-tag]
        (testing (str "root " k)
          (let [back (read-root seg k)]
            (is (= (norm v) (norm back)) (pr-str (::failed back)))))))))

(deftest a-snapshot-file-reads-back-equal
  ;; A snapshot ends at its frontier and a trailer, short of its capacity: the
  ;; reader maps it to the trailer instead of refusing it as truncated.
  (when (native/built?)
    (with-segment [seg {}]
      (doseq [[k v] every-tag] (slab/set-root! seg k v))
      (slab/set-root! seg :doubles (apply vector-of :double (range 100)))
      (let [snap (str (:segment (slab/stats seg)) ".snap")]
        (try
          (slab/snapshot! seg snap)
          (doseq [[k v] (assoc every-tag :doubles (vec (map double (range 100))))]
            (testing (str "root " k " of the snapshot")
              (let [r (native/slabread! snap k)]
                (is (= 0 (:exit r)) (:err r))
                (is (= (norm v) (norm (native/read-edn (:out r))))))))
          (finally (java.nio.file.Files/deleteIfExists (u/path snap))))))))

(deftest types-and-text-are-kept
  (when (native/built?)
    (with-segment [seg {}]
      (doseq [[k v] every-tag] (slab/set-root! seg k v))
      (let [out (fn [k] (str/trim (:out (native/slabread! (:segment (slab/stats seg)) k))))]
        (is (= "##NaN" (out :nan)))
        (is (= "-0.0" (out :neg-zero)))
        (is (= "1.50M" (out :bigdec)))
        (is (= 2 (.scale ^BigDecimal (read-root seg :bigdec))) "BigDecimal keeps its scale")
        (is (= -3 (.scale ^BigDecimal (read-root seg :bigdec-exp))))
        (is (instance? java.time.Instant (read-root seg :instant)))
        (is (instance? java.util.Date (read-root seg :date)))
        (is (= "#inst \"2023-11-14T22:13:20.123Z\"" (out :date)))
        (is (= "\"\\ud83d x \\ude00\"" (out :lone-surrogates)) "lone surrogates print as escapes")
        (is (= "\"日本語 😀 emoji\"" (out :utf16)) "surrogate pairs print as UTF-8")
        (is (= "sym" (out :meta-symbol)))
        (is (list? (read-root seg :list)))
        (is (vector? (read-root seg :vector)))))))

(deftest one-bit-tries-read-back-equal
  (when (native/built?)
    ;; 1-bit tries are 32 levels deep for maps (collisions at level 32) and deep for vectors
    (with-segment [seg {:map-bits 1 :vec-bits 1}]
      (doseq [k [:map :set :vector :big-map :big-vector :collisions :nested :list]]
        (slab/set-root! seg k (every-tag k))
        (is (= (every-tag k) (read-root seg k)) (str "root " k))))))

;; --- vector-of --------------------------------------------------------------------------

(def ^:private vector-of-samples
  "Edge values of each element type of clojure.core/vector-of."
  {:long [0 -1 1 Long/MIN_VALUE Long/MAX_VALUE 42]
   :double [0.0 -0.0 1.5 ##Inf ##-Inf ##NaN 4.9E-324 1.7976931348623157E308 (/ 1.0 3)]
   :int [0 -1 Integer/MIN_VALUE Integer/MAX_VALUE 7]
   :float [(float 0.1) (float -0.0) Float/MAX_VALUE Float/MIN_VALUE ##NaN (float 1.5)]
   :short [0 -1 Short/MIN_VALUE Short/MAX_VALUE]
   :char [\a \space \u00e9 \u2603 \" \\ \newline \u0000]
   :byte [0 -1 -128 127]
   :boolean [true false false]})

(defn- as-double [x]
  (cond (char? x) (double (int x)) (boolean? x) (if x 1.0 0.0) :else (double x)))

(deftest vector-of-every-type-reads-back-equal
  (when (native/built?)
    (doseq [opts [{} {:vec-bits 1}]]
      (with-segment [seg opts]
        (let [file (:segment (slab/stats seg))]
          (doseq [[t xs] vector-of-samples, n [0 1 33 1100]]
            (let [v (apply vector-of t (take n (cycle xs)))
                  k (keyword (str (name t) "-" n))]
              (slab/set-root! seg k v)
              (testing (str k " " opts)
                (is (= t (slab/element-type (slab/root seg k))) "a clojure.core vector-of is stored as a slab vector-of")
                (let [back (read-root seg k)]
                  (is (vector? back))
                  (is (= (norm (into [] v)) (norm back)) (pr-str (::failed back))))
                (testing "summed leaf by leaf in place (slab_leaf_at)"
                  (let [r (native/slabread! file k "--sum")]
                    (is (= (norm (reduce + 0.0 (map as-double v))) (norm (native/read-edn (:out r)))) (pr-str r))))))))))))

(declare fails-with-one-line?)

(deftest vector-of-prints-as-a-vector
  (when (native/built?)
    (with-segment [seg {}]
      (let [file (:segment (slab/stats seg))
            out (fn [k v] (slab/set-root! seg k v) (str/trim (:out (native/slabread! file k))))]
        (is (= "[1.5 2.0]" (out :d (slab/with-segment seg (slab/vector-of :double 1.5 2)))))
        (is (= "[\\a \\b]" (out :c (vector-of :char \a \b))))
        (is (= "[1 -2]" (out :i (vector-of :int 1 -2))))
        (is (= "[true false]" (out :z (vector-of :boolean true false))))
        (is (= "{:v [1.0]}" (out :m {:v (vector-of :float 1)})) "nested in a map")
        (testing "--sum refuses what is not a vector-of"
          (slab/set-root! seg :plain [1.0 2.0])
          (let [r (native/slabread! file :plain "--sum")]
            (is (fails-with-one-line? r) (pr-str r))
            (is (str/includes? (:err r) "not a vector-of"))))))))

;; --- random values --------------------------------------------------------------------

(def ^:private trials 150)

(defn- passes? [result]
  (or (:pass? result)
      (do (println "slabread property failed; seed" (:seed result) "smallest:" (pr-str (-> result :shrunk :smallest)))
          false)))

(defn- round-trips? [seg value]
  (let [v (readable value)]
    (slab/set-root! seg :p v)
    (= (norm v) (norm (read-root seg :p)))))

(deftest generated-values-read-back-equal
  (when (native/built?)
    (with-segment [seg {}]
      (testing "vectors of values from the whole value space"
        (is (passes? (tc/quick-check trials (prop/for-all [vs (gen/vector g/any-value 1 12)] (round-trips? seg vs))
                                     :max-size 40))))
      (testing "top-level maps, sets and lists"
        (is (passes? (tc/quick-check (quot trials 3)
                                     (prop/for-all [v (gen/one-of [g/any-map g/any-set g/any-list])] (round-trips? seg v))
                                     :max-size 40)))))
    (with-segment [seg {:map-bits 1 :vec-bits 2}]
      (testing "on 1-bit map tries"
        (is (passes? (tc/quick-check (quot trials 3) (prop/for-all [v g/any-map] (round-trips? seg v)) :max-size 40)))))))

;; --- errors ---------------------------------------------------------------------------------

(defn- fails-with-one-line? [r]
  (and (pos? (long (:exit r))) (not (:timed-out r)) (native/one-line? (:err r))))

(deftest errors-are-one-line-and-a-non-zero-exit
  (when (native/built?)
    (u/with-temp-dir [dir "slab-native-errors"]
      (let [file (str (.resolve ^java.nio.file.Path dir "seg.slab"))
            seg (slab/open-segment file {:capacity (* 4 1024 1024)})]
        (slab/set-root! seg :present {:a 1})
        (slab/close-segment! seg)
        (testing "a missing root"
          (let [r (native/slabread! file :absent)]
            (is (fails-with-one-line? r) (pr-str r))
            (is (str/includes? (:err r) "no root :absent"))))
        (testing "a missing file"
          (is (fails-with-one-line? (native/slabread! (str file ".none") :present))))
        (testing "a file that is not a segment"
          (let [other (str file ".txt")]
            (spit other (apply str (repeat 1000 "not a slab segment\n")))
            (let [r (native/slabread! other :present)]
              (is (fails-with-one-line? r) (pr-str r))
              (is (str/includes? (:err r) "not a slab segment")))))
        (testing "an empty file"
          (let [empty (str file ".empty")]
            (spit empty "")
            (is (fails-with-one-line? (native/slabread! empty :present)))))
        (testing "a truncated file"
          (let [cut (str file ".cut")]
            (Files/copy (u/path file) (u/path cut) ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption []))
            (with-open [raf (RandomAccessFile. cut "rw")] (.setLength raf (quot (.length raf) 2)))
            (let [r (native/slabread! cut :present)]
              (is (fails-with-one-line? r) (pr-str r))
              (is (str/includes? (:err r) "truncated")))))
        (testing "another format version"
          (let [old (str file ".v3")]
            (Files/copy (u/path file) (u/path old) ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption []))
            (with-open [raf (RandomAccessFile. old "rw")]
              (.seek raf HeaderDescriptor/VERSION_OFFSET)
              (.write raf (byte-array [3 0 0 0])))
            (let [r (native/slabread! old :present)]
              (is (fails-with-one-line? r) (pr-str r))
              (is (str/includes? (:err r) "format version 3")))))
        (testing "a usage error"
          (is (= 2 (:exit (native/run native/slabread [file])))))
        (testing "the file still reads"
          (is (= {:a 1} (native/read-edn (:out (native/slabread! file :present))))))))))

;; --- the C side's constants ------------------------------------------------------------------

(deftest c-constants-equal-java
  (when (native/built?)
    (let [cs (edn/read-string (:out (native/run native/slabread ["--constants"])))]
      (is (> (count cs) 100))
      (doseq [[qualified v] cs
              :let [[cls field] (str/split qualified #"\.")
                    c (some #(try (Class/forName (str % "." cls)) (catch ClassNotFoundException _ nil))
                            ["slab.mem" "slab.value" "slab.ref" "slab.map" "slab.vector" "slab.share"])
                    java (when c (.get (.getField ^Class c field) nil))]]
        (is (some? java) (str qualified " is not a Java constant"))
        (when java
          ;; an int flag may be written as its unsigned pattern in C
          (is (or (= v (long java)) (= (unchecked-int v) (long java))) (str qualified ": C " v ", Java " java)))))))

(deftest c-seals-match-format-md
  ;; FORMAT.md's test vectors of the seal function (the Java side checks the same ones)
  (when (native/built?)
    (doseq [[hex seal] [["" "0xd918dd23"] ["00" "0xbd05e9ec"] ["616263" "0xa648fd54"]
                        ["000102030405060708090a0b0c0d0e0f" "0x218ebf48"]
                        ["000102030405060708090a0b0c0d0e0f1011121314151617" "0xc4ba6cb7"]
                        [(apply str (map #(format "%02x" (int %)) "slab seals every immutable block")) "0xba15800f"]]]
      (is (= seal (str/trim (:out (native/run native/slabread ["--seal" hex])))) hex))))

;; --- work bounded by size, not only by slots ----------------------------------------------

(defn- name-one-block-everywhere!
  "Makes every slot of every vector leaf in file name block `target` with tag:
  a vector that names one long string or big number thousands of times."
  [file leaves target tag]
  (with-open [raf (RandomAccessFile. (str file) "rw")]
    (doseq [^long l leaves]
      (.seek raf (+ l 24))
      (let [cap (bit-and (Long/reverseBytes (.readLong raf)) 0xFF)]
        (dotimes [j cap]
          (.seek raf (+ l 32 (* 8 j)))
          (.writeLong raf (Long/reverseBytes target))
          (.seek raf (+ l 32 (* 8 cap) j))
          (.writeByte raf (int tag)))))))

(defn- reseal!
  "Seals these vector nodes of file again, as if a writer had made them (a
  mapping of the file that takes no part in the process table)."
  [file nodes]
  (let [^Segment seg (Segment/open (u/path file) (* 16 1024 1024) 5 5)]
    (try (doseq [^long n nodes] (slab.vector.VecSeals/seal seg n))
         (finally (.close seg)))))

(deftest a-block-named-many-times-is-paid-for-by-its-size
  ;; The budget counted slots only: 4096 slots naming one 1 MB string printed
  ;; 4 GB, and naming one 63 KB BigInt (quadratic to print) took half an hour.
  (when (native/built?)
    (u/with-temp-dir [dir "slab-native-budget"]
      (let [file (str (.resolve ^java.nio.file.Path dir "seg.slab"))
            seg (slab/open-segment file {:capacity (* 16 1024 1024)})]
        (slab/set-root! seg :b (bigint (.pow (biginteger 7) 180000)))
        (slab/set-root! seg :s (apply str (repeat 1000000 "x")))
        (slab/set-root! seg :v (vec (range 4096)))
        (let [blocks (audit/live-blocks seg)
              blobs (->> blocks (filter #(= :blob (:type (val %)))) (sort-by (comp :size val)) (map key))
              leaves (->> blocks (filter #(= :vec-leaf (:type (val %)))) (map key))]
          (slab/close-segment! seg)
          (is (= 2 (count blobs)))
          (doseq [[target tag args] [[(second blobs) 32 []] [(first blobs) 33 ["-b" 10000000]]]]
            (let [copy (str file "." tag)]
              (Files/copy (u/path file) (u/path copy) ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption []))
              (name-one-block-everywhere! copy leaves target tag)
              (reseal! copy leaves)   ; so the walk, not a seal, is what stops it
              (let [r (native/run native/slabread (concat args [copy "v"]) :timeout-ms 30000)]
                (is (fails-with-one-line? (update r :out #(subs % 0 (min 100 (count %))))) (pr-str (dissoc r :out)))
                (is (str/includes? (:err r) "budget"))))))))))
