;; Proves doc/FORMAT.md matches the code: every documented offset, size, bit position and constant equals the Java constant it names, the layouts tile without gaps or overlaps, no layout constant is undocumented, and the tag, block-type and hash tables agree with the code.
(ns slab.format-doc-test
  (:require [clojure.edn :as edn]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import [java.lang.reflect Field Modifier]
           [slab.mem BlockTypes SizeClasses]
           [slab.value Tags]))

(set! *warn-on-reflection* true)

(def ^:private doc-file "doc/FORMAT.md")

;; Classes whose public constants must all appear in the document.
(def ^:private described-classes
  [slab.mem.HeaderDescriptor slab.mem.AllocatorDescriptor slab.mem.SizeClasses slab.mem.BlockTypes
   slab.value.Tags slab.value.BlobDescriptor slab.value.InternDescriptor slab.value.MetaSymbolDescriptor
   slab.ref.CollDescriptor slab.ref.LineageDescriptor
   slab.map.MapNodeDescriptor slab.vector.VecNodeDescriptor slab.vector.PrimLeafDescriptor
   slab.share.SharingDescriptor slab.share.ReaderDescriptor slab.share.BoxDescriptor slab.mem.SnapshotDescriptor
   slab.mem.LockDescriptor slab.mem.SealDescriptor])

;; Public static fields of the described classes that are not layout numbers,
;; with the reason; every other public static field must be numeric and documented.
(def ^:private not-layout {})

;; Packages searched for a constant written as SimpleClass.FIELD.
(def ^:private packages ["slab.mem" "slab.value" "slab.ref" "slab.map" "slab.vector" "slab.share" "slab"])

;; --- reading the tables ------------------------------------------------------------

(defn- cells [^String line]
  (let [inner (-> line str/trim (subs 1))
        inner (if (str/ends-with? inner "|") (subs inner 0 (dec (count inner))) inner)]
    (mapv str/trim (str/split inner #"\|"))))

(defn- separator? [line] (re-matches #"\|[\s:|-]+\|?" (str/trim line)))

(defn- blank-code-blocks
  "The lines, with those inside ``` fences blanked (diagrams are not tables)."
  [lines]
  (first (reduce (fn [[out in-code?] ^String l]
                   (if (str/starts-with? (str/trim l) "```")
                     [(conj out "") (not in-code?)]
                     [(conj out (if in-code? "" l)) in-code?]))
                 [[] false]
                 lines)))

(defn tables
  "Every markdown table in text: {:header [..] :rows [{:line n :cells [..]} ..]}."
  [text]
  (->> (map-indexed vector (blank-code-blocks (str/split-lines text)))
       (partition-by (fn [[_ l]] (str/starts-with? (str/trim l) "|")))
       (filter (fn [[[_ l]]] (str/starts-with? (str/trim l) "|")))
       (map (fn [[[i h] sep & rows]]
              (assert (and sep (separator? (second sep)))
                      (str doc-file ":" (inc (long i)) ": a table needs a header and a separator row"))
              {:header (mapv str/lower-case (cells h))
               :rows (mapv (fn [[i l]] {:line (inc (long i)) :cells (cells l)}) rows)}))))

(defn parse-number
  "The number a cell starts with (decimal or 0x hex), or nil (for — or empty)."
  [cell]
  (when-let [[_ neg hex dec] (re-find #"^(-?)(?:0x([0-9A-Fa-f_]+)|([0-9][0-9_]*))" (str cell))]
    (let [v (if hex
              (Long/parseUnsignedLong (str/replace hex "_" "") 16)
              (Long/parseLong (str/replace dec "_" "")))]
      (if (= neg "-") (- v) v))))

(defn- constant-name [cell]
  (second (re-find #"^`?([A-Za-z][\w.]*\.[A-Z][A-Z0-9_]*)`?$" (str cell))))

(defn- constant-field
  "The public static field named Class.FIELD (class in one of `packages`, or
  fully qualified), or nil."
  ^Field [^String qualified]
  (let [i (.lastIndexOf qualified ".")
        cls-name (subs qualified 0 i)
        field (subs qualified (inc i))
        ^Class cls (some #(try (Class/forName %) (catch ClassNotFoundException _ nil))
                         (if (str/includes? cls-name ".")
                           [cls-name]
                           (map #(str % "." cls-name) packages)))]
    (when cls
      (try (let [f (.getField cls field)]
             (when (Modifier/isStatic (.getModifiers f)) f))
           (catch NoSuchFieldException _ nil)))))

(defn constant-value
  "The value of a public static numeric field named Class.FIELD, as a long, or nil."
  [^String qualified]
  (when-let [f (constant-field qualified)]
    (let [v (.get f nil)]
      (when (number? v) (long v)))))

(defn- same-number?
  "Whether a documented number equals the constant's value. An int constant
  may be documented by its unsigned 32-bit pattern (0x80000000 for a flag bit)."
  [^String qualified documented actual]
  (or (= documented actual)
      (and (some? documented) (some? actual)
           (= Integer/TYPE (.getType (constant-field qualified)))
           (<= 0 (long documented) 0xFFFFFFFF)
           (= (long actual) (long (unchecked-int (long documented)))))))

(defn- column [table title] (first (keep-indexed #(when (= title %2) %1) (:header table))))

(def ^:private doc-tables (delay (tables (slurp doc-file))))

(defn- where [row] (str doc-file ":" (:line row)))

;; --- the checks ----------------------------------------------------------------------

(deftest documented-constants-equal-java
  (let [checked (atom 0)]
    (doseq [t @doc-tables
            :let [c (column t "java constant")]
            :when c
            row (:rows t)
            :let [cell (get-in row [:cells c])]
            :when (not (str/blank? cell))]
      (let [nm (constant-name cell)
            documented (parse-number (first (:cells row)))]
        (is nm (str (where row) ": cannot read a constant name from " (pr-str cell)))
        (when nm
          (let [actual (constant-value nm)]
            (is (some? actual) (str (where row) ": no public numeric constant " nm))
            (is (same-number? nm documented actual)
                (str (where row) ": the document says " nm " = " (first (:cells row)) ", the code says " actual))
            (swap! checked inc)))))
    (is (> (long @checked) 150) "the tables were found and read")))

(deftest offset-tables-tile
  (doseq [t @doc-tables
          :when (and (= "offset" (first (:header t))) (column t "size"))
          :let [sc (column t "size")]]
    (reduce (fn [expected row]
              (let [off (parse-number (first (:cells row)))
                    size (parse-number (get-in row [:cells sc]))]
                (is (some? off) (str (where row) ": no offset"))
                (when expected
                  (is (= expected off) (str (where row) ": field starts at " off
                                            " but the previous one ends at " expected)))
                (when (and (nil? size) (not= row (peek (:rows t))))
                  (is false (str (where row) ": only the last row (the end marker) may omit its size")))
                (when (and off size) (+ (long off) (long size)))))
            nil
            (:rows t))))

(deftest bit-tables-tile-the-word
  (doseq [t @doc-tables
          :when (and (= "shift" (first (:header t))) (column t "bits"))
          :let [bc (column t "bits")]]
    (let [end (reduce (fn [expected row]
                        (let [shift (parse-number (first (:cells row)))
                              bits (parse-number (get-in row [:cells bc]))]
                          (is (= expected shift) (str (where row) ": field starts at bit " shift
                                                      " but the previous one ends at " expected))
                          (+ (long shift) (long bits))))
                      0
                      (:rows t))]
      (is (= 64 end) (str doc-file ":" (:line (first (:rows t))) ": bit fields end at " end ", not 64")))))

(deftest size-class-examples
  (let [rows (for [t @doc-tables
                   :when (= ["class" "block size"] (:header t))
                   row (:rows t)]
               row)]
    (is (seq rows))
    (doseq [row rows
            :let [[c size] (map parse-number (:cells row))]]
      (is (= size (SizeClasses/sizeOf (int c))) (str (where row) ": class " c))
      (is (= c (SizeClasses/classFor size)) (str (where row) ": size " size)))))

(deftest every-layout-constant-is-documented
  (let [documented (set (for [t @doc-tables
                              :let [c (column t "java constant")]
                              :when c
                              row (:rows t)
                              :let [nm (constant-name (get-in row [:cells c]))]
                              :when nm]
                          nm))]
    (doseq [^Class cls described-classes
            ^Field f (.getFields cls)
            :when (Modifier/isStatic (.getModifiers f))
            :let [nm (str (.getSimpleName cls) "." (.getName f))]
            :when (not (contains? not-layout nm))]
      (is (Modifier/isFinal (.getModifiers f)) (str nm " is a public static field that is not final"))
      (is (number? (.get f nil))
          (str nm " is not a number: document it, or list it in not-layout with the reason"))
      (is (contains? documented nm) (str nm " is not in any table of " doc-file)))))

;; --- the tables that say more than numbers --------------------------------------------

(defn- table-with
  "The tables whose header starts with first-column and has every one of columns."
  [first-column & columns]
  (filter (fn [t] (and (= first-column (first (:header t))) (every? #(column t %) columns)))
          @doc-tables))

(defn- yes? [cell] (= "yes" (str/lower-case (str/trim (str cell)))))

(deftest tag-table-matches-the-codec
  (let [[t & more] (table-with "tag" "java constant" "counted")
        cc (column t "counted")
        rows (:rows t)
        tag-of (fn [row] (parse-number (first (:cells row))))
        documented (set (map tag-of rows))
        inline (range Tags/STR_INLINE (inc (+ Tags/STR_INLINE Tags/STR_INLINE_MAX)))
        covered (into documented (when (documented Tags/STR_INLINE) inline))]
    (is (some? t) "the tag table (tag | Java constant | ... | counted) is in the document")
    (is (empty? more) "there is one tag table")
    (doseq [row rows :let [tag (tag-of row)]]
      (is (Tags/isKnown (int tag)) (str (where row) ": tag " tag " is not a tag the codec knows"))
      (is (= (Tags/isCounted (int tag)) (yes? (get-in row [:cells cc])))
          (str (where row) ": the counted column disagrees with Tags.isCounted for tag " tag)))
    (doseq [tag (range 256) :when (Tags/isKnown (int tag))]
      (is (contains? covered tag) (str "tag " tag " is known to the codec but not in the tag table")))))

(deftest block-type-table-matches-the-code
  (let [[t & more] (table-with "type" "java constant" "system")
        sc (column t "system")]
    (is (some? t) "the block-type table (type | Java constant | ... | system) is in the document")
    (is (empty? more) "there is one block-type table")
    (doseq [row (:rows t) :let [type (parse-number (first (:cells row)))]]
      (is (= (BlockTypes/isSystem (int type)) (yes? (get-in row [:cells sc])))
          (str (where row) ": the system column disagrees with BlockTypes.isSystem for type " type)))))

(deftest hash-examples-are-clojure-hashes
  (let [rows (for [t (table-with "value" "hasheq") row (:rows t)] row)]
    (is (>= (count rows) 10) "the hash examples were found")
    (doseq [row rows
            :let [[v h] (:cells row)
                  value (edn/read-string {:readers {}} (str/replace v "`" ""))
                  documented (parse-number h)]]
      (is (some? documented) (str (where row) ": no hash"))
      (is (= (bit-and (long (hash value)) 0xFFFFFFFF) (bit-and (long documented) 0xFFFFFFFF))
          (str (where row) ": (hash " (pr-str value) ") is " (hash value) ", not " h)))))

(deftest sections-exist
  (let [headings (set (keep #(second (re-find #"^##\s+(.+?)\s*$" %)) (str/split-lines (slurp doc-file))))]
    (doseq [h ["Segment header" "Allocator" "Value codec" "Map nodes" "Vector nodes" "Seals" "Reference counts"
               "Sharing across processes"]]
      (is (contains? headings h) (str doc-file " lacks the section " h)))))
