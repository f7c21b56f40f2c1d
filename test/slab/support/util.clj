;; Helpers for the tests (not tests themselves): segments, waiting for the Cleaner, verifying published values, child JVMs, tmpfs mounts, /proc readings, and an audit of the allocator's free lists.
(ns slab.support.util
  (:require [clojure.edn :as edn]
            [clojure.string :as str]
            [slab.core :as slab])
  (:import [clojure.lang ExceptionInfo]
           [java.io BufferedReader File InputStreamReader Writer OutputStreamWriter]
           [java.nio.charset StandardCharsets]
           [java.nio.file Files Path]
           [java.nio.file.attribute FileAttribute]
           [java.util ArrayList]
           [java.util.concurrent LinkedBlockingQueue TimeUnit]
           [slab.mem Allocator Allocator$Stats Allocator$BlockVisitor AllocatorDescriptor HeapAudit HeapAudit$Report HeaderDescriptor Segment SizeClasses]))

(set! *warn-on-reflection* true)

(def ^:const MiB (* 1024 1024))

;; --- files and segments -------------------------------------------------------

(defn path ^Path [x]
  (if (instance? Path x) x (Path/of (str x) (make-array String 0))))

(defn temp-dir
  "A fresh directory under java.io.tmpdir."
  ^Path [prefix]
  (Files/createTempDirectory (str prefix) (make-array FileAttribute 0)))

(defn delete-tree! [p]
  (let [f (.toFile (path p))]
    (when (.isDirectory f)
      (doseq [^File c (.listFiles f)] (delete-tree! (.toPath c))))
    (.delete f)))

(defmacro with-temp-dir
  "Binds sym to a fresh temporary directory (a Path), deleted afterwards."
  [[sym prefix] & body]
  `(let [~sym (temp-dir ~prefix)]
     (try ~@body (finally (delete-tree! ~sym)))))

(defn anonymous ^Segment [capacity]
  (Segment/anonymous (long capacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS))

(defn open-named ^Segment [p capacity]
  (Segment/open (path p) (long capacity) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS))

(defn temp-path
  "A fresh file name (a String) under java.io.tmpdir, for a segment file;
  the file does not exist yet and is deleted when the JVM exits."
  ^String [prefix]
  (let [f (File/createTempFile prefix ".slab")]
    (.delete f)
    (.deleteOnExit f)
    (str f)))

;; --- verifying -----------------------------------------------------------------

(defn verify-values
  "slab/verify of seg with values (slab collections of seg: every one the
  test holds) published under a root for the while, since verify walks the
  named roots: nil when nothing is damaged and no count was given back
  twice, and in a named segment nothing is unreachable and every count
  adds up; else verify's report. (An anonymous segment does not record
  handles, so what any live handle holds shows as a surplus, and as
  unreachable unless published: its leaks are for the byte counts to show.)"
  [^Segment seg & values]
  (slab/set-root! seg ::verified (slab/vec values))
  (let [v (slab/verify seg)]
    (slab/set-root! seg ::verified nil)
    (when-not (and (empty? (:damaged v)) (>= (:count-surplus v) 0)
                   (or (nil? (.path seg)) (and (zero? (:unreachable v)) (:counts-add-up v))))
      v)))

;; --- waiting for the Cleaner ----------------------------------------------------

(defn bytes-in-use
  "The bytes the segment's allocator counts as in use."
  ^long [^Segment seg]
  (.bytesInUse (.stats (.allocator seg))))

(defn settle!
  "Collects and polls until the segment's bytes in use reach target, or, with
  target -1, until they stop changing (three equal readings in a row); the
  Cleaner gives dropped versions back asynchronously, after a GC. Gives up
  only after at least 300 rounds and 20 s, whichever is later. Returns the
  final bytes in use."
  ^long [^Segment seg ^long target]
  (let [deadline (+ (System/currentTimeMillis) 20000)]
    (loop [i 0, prev -2, same 0]
      (System/gc)
      (Thread/sleep 30)
      (let [now (bytes-in-use seg)
            same (if (== now prev) (inc same) 0)]
        (if (or (== now target)
                (and (neg? target) (>= same 3))
                (and (>= i 300) (> (System/currentTimeMillis) deadline)))
          now
          (recur (inc i) now same))))))

(defn wait-for-no-versions!
  "Collects until this process holds no version of seg: reads of nested maps
  make handles, and verify counts every count a handle still holds as a
  surplus until the Cleaner has given it back."
  [seg]
  (let [deadline (+ (System/currentTimeMillis) 60000)]
    (loop []
      (System/gc)
      (Thread/sleep 50)
      (when (and (pos? (long (:live-versions (slab/stats seg)))) (< (System/currentTimeMillis) deadline))
        (recur)))))

(defn quiet-pressure!
  "Replaces the allocator's System.gc pressure hook by one that only counts
  its calls (tests that fill a segment on purpose need no GC). Returns the
  counter atom."
  [^Allocator a]
  (let [calls (atom 0)]
    (.onPressure a (fn [] (swap! calls inc)))
    calls))

(defn stats
  "Allocator stats as a Clojure map (blocks-in-use as a vector), comparable with =."
  [^Allocator a]
  (let [^Allocator$Stats s (.stats a)]
    {:capacity (.capacity s)
     :header-bytes (.headerBytes s)
     :frontier (.frontier s)
     :committed (.committed s)
     :bytes-in-use (.bytesInUse s)
     :bytes-free (.bytesFree s)
     :blocks-in-use (vec (.blocksInUse s))}))

(defn error-of
  "Calls f; returns {:error kw :message m :data d} for an ex-info carrying
  :slab/error, {:exception class :message m} for another throwable, or
  {:value v} when f returns normally."
  [f]
  (try {:value (f)}
       (catch ExceptionInfo e
         (if-let [k (:slab/error (ex-data e))]
           {:error k :message (ex-message e) :data (ex-data e)}
           {:exception (class e) :message (ex-message e)}))
       (catch Throwable t
         {:exception (class t) :message (ex-message t)})))

;; --- /proc and mounts ---------------------------------------------------------

(defn proc-status-kib
  "A field of /proc/self/status in KiB, e.g. \"VmRSS\" (resident memory) or
  \"RssShmem\" (resident pages of shared mappings such as segments)."
  ^long [field]
  ;; slurp fails on procfs files under JDK 25 (FileInputStream.available),
  ;; Files/readAllLines does not.
  (let [prefix (str field ":")
        line (some #(when (str/starts-with? % prefix) %)
                   (Files/readAllLines (path "/proc/self/status")))]
    (Long/parseLong (re-find #"\d+" line))))

(defn vm-rss-kib ^long [] (proc-status-kib "VmRSS"))

(defn- sh [& args]
  (let [p (.start (doto (ProcessBuilder. ^java.util.List (vec args)) (.redirectErrorStream true)))
        out (slurp (.getInputStream p))]
    {:exit (.waitFor p) :out out}))

(defn mount-tmpfs!
  "Mounts a tmpfs of the given size (e.g. \"8m\") on dir. Returns true, or
  prints why not (not root, no mount binary) and returns false."
  [dir size]
  (let [r (try (sh "mount" "-t" "tmpfs" "-o" (str "size=" size) "tmpfs" (str dir))
               (catch java.io.IOException e {:exit -1 :out (ex-message e)}))]
    (or (zero? (long (:exit r)))
        (do (println "NOTE: could not mount a tmpfs on" (str dir) "(" (str/trim (:out r)) ");"
                     "skipping the tmpfs backing-store case.")
            false))))

(defn umount! [dir]
  (sh "umount" (str dir)))

;; --- child JVMs ---------------------------------------------------------------

(defn java-binary ^String []
  (str (path (System/getProperty "java.home")) "/bin/java"))

(defn start-child
  "Starts a JVM with this JVM's classpath running clojure.main -e expr (a
  string). Its stdout lines arrive on a queue; its stderr goes to a temp
  file that child-failure reports. Returns a child map."
  [expr & {:keys [jvm-opts classpath-first]}]
  (let [err (File/createTempFile "slab-child" ".err")
        cp (cond->> (System/getProperty "java.class.path")
             classpath-first (str classpath-first File/pathSeparator))
        cmd (concat [(java-binary) "-cp" cp
                     "-XX:+UseG1GC" "-Xss4m"]
                    jvm-opts
                    ["clojure.main" "-e" expr])
        p (.start (doto (ProcessBuilder. ^java.util.List (vec cmd))
                    (.redirectError err)))
        lines (LinkedBlockingQueue.)
        rdr (BufferedReader. (InputStreamReader. (.getInputStream p) StandardCharsets/UTF_8))]
    (doto (Thread. ^Runnable (fn []
                               (try (loop []
                                      (when-let [l (.readLine rdr)]
                                        (.put lines l)
                                        (recur)))
                                    (catch java.io.IOException _))
                               (.put lines ::eof)))
      (.setDaemon true)
      (.start))
    {:process p
     :lines lines
     :in (OutputStreamWriter. (.getOutputStream p) StandardCharsets/UTF_8)
     :err err}))

(defn child-failure
  "A description of why a child misbehaved, with the tail of its stderr."
  [child why]
  (let [^Process p (:process child)
        err (slurp (:err child))]
    (str why "; child " (if (.isAlive p) "still running" (str "exited with " (.exitValue p)))
         "\n--- child stderr (tail) ---\n"
         (subs err (max 0 (- (count err) 4000))))))

(defn read-line!
  "The next stdout line of the child, waiting up to timeout-ms; throws with
  the child's stderr if it does not come."
  [child timeout-ms]
  (let [l (.poll ^LinkedBlockingQueue (:lines child) (long timeout-ms) TimeUnit/MILLISECONDS)]
    (cond (nil? l) (throw (ex-info (child-failure child (str "no output from child within " timeout-ms " ms")) {}))
          (= ::eof l) (throw (ex-info (child-failure child "child closed its output") {}))
          :else l)))

(defn read-edn!
  "Reads child lines until one is EDN (lines starting with { [ or :), skipping
  other output such as warnings."
  [child timeout-ms]
  (loop []
    (let [^String l (read-line! child timeout-ms)]
      (if (and (pos? (count l)) (#{\{ \[ \:} (.charAt l 0)))
        (edn/read-string l)
        (recur)))))

(defn send-line! [child s]
  (let [^Writer w (:in child)]
    (.write w (str s "\n"))
    (.flush w)))

(defn await-exit
  "Waits for the child to exit; returns its exit code (destroying it and
  returning :timeout if it does not exit in time)."
  [child timeout-ms]
  (let [^Process p (:process child)]
    (if (.waitFor p (long timeout-ms) TimeUnit/MILLISECONDS)
      (.exitValue p)
      (do (.destroyForcibly p) :timeout))))

(defn destroy!
  "Kills the child (if still running) and waits until it is gone, so that
  its files and mounts are free."
  [child]
  (let [^Process p (:process child)]
    (.destroyForcibly p)
    (.waitFor p 30 TimeUnit/SECONDS)
    (.delete ^File (:err child))))

;; --- allocator audit ----------------------------------------------------------

(defn audit
  "Checks the allocator's structures (slab.mem.HeapAudit: page table, bins,
  every span's lists and counts) and that the given live blocks ([offset
  size] pairs) are exactly the live blocks of the heap (pass nil to skip
  that part). Returns the
  audit's report as a map; throws describing the first violation."
  [^Segment s live _]
  (let [^HeapAudit$Report r (HeapAudit/check s)]
    (when (some? live)
      (let [found (java.util.HashSet.)]
        (.forEachBlock (.allocator s)
                       (reify Allocator$BlockVisitor
                         (visit [_ off h]
                           (when (== AllocatorDescriptor/STATE_LIVE (AllocatorDescriptor/stateOf h))
                             (.add found off)))))
        (let [want (set (map (comp long first) live))]
          (doseq [[off size] live]
            (when-not (.contains found (long off))
              (throw (ex-info (str "block " off " (size " size ") is not live in the heap") {:offset off}))))
          (doseq [off found]
            (when-not (contains? want off)
              (throw (ex-info (str "block " off " is live but nobody holds it (lost block?)") {:offset off})))))))
    {:free-pages (.freePages r) :spans (.spans r) :large-blocks (.largeBlocks r)
     :live-blocks (.liveBlocks r) :live-bytes (.liveBytes r)
     :free-runs (.freeRuns r) :largest-free-run (.largestFreeRun r)}))
