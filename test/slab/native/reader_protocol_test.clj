;; Proves the foreign-reader protocol: a C reader pinning a root while a JVM swaps it never reads a freed block or a torn version, and a C reader killed while pinned has its counts given back by the JVM's recovery (exactly, at every kill point of that recovery).
(ns slab.native.reader-protocol-test
  "slabread attaches to a segment as a foreign reader (FORMAT.md, Foreign
  readers): it pins the root's box with one count recorded in its slot of
  the header's reader table, prints, and unpins (returning the count to the
  JVMs when it is the last). These tests run it against a JVM that keeps
  swapping the root, kill it while it holds a pin, and check with verify
  and the allocator's bytes in use that every count comes back."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.kill :as kill]
            [slab.support.kill-scenarios :as sc]
            [slab.support.native :as native]
            [slab.support.util :as u]))

(set! *warn-on-reflection* true)

(defmacro ^:private with-segment [[sym file] & body]
  `(u/with-temp-dir [dir# "slab-reader"]
     (let [~file (str (.resolve ^java.nio.file.Path dir# "seg.slab"))
           ~sym (slab/open-segment ~file {:capacity (* 64 1024 1024)})]
       (try ~@body (finally (slab/close-segment! ~sym))))))

(defn- version
  "Version i of the swapped root: every part of it says i, so a torn or
  freed read shows as a part that disagrees."
  [i]
  {:i i
   :v (vec (repeat 40 i))
   :s (str "version number " i " of the root")
   :m (into {} (map (fn [j] [j (+ i j)])) (range 50))})

(defn- consistent? [{:keys [i] :as m}]
  (and (integer? i) (= m (version i))))

(defn- clean?
  "verify finds no leaked block, no stuck slot, and counts that add up."
  [r]
  (and (zero? (long (:unreachable r))) (zero? (long (:stuck-slots r))) (:counts-add-up r)))

(deftest a-pinned-version-stays-whole-while-a-jvm-swaps
  (when (native/built?)
    (with-segment [seg file]
      (let [a (slab/atom seg :c (version 0))
            stop (atom false)
            made (atom 0)
            swaps (future (while (not @stop)
                            (swap! a (fn [v] (version (inc (long (:i v))))))
                            (swap! made inc)))
            ;; the swapper warmed up first, so reads meet many versions
            _ (while (and (< (long @made) 200) (not (future-done? swaps))) (Thread/sleep 5))
            reads 10000
            r (try (native/slabread! file :c "-n" reads)
                   (finally (reset! stop true)))
            _ @swaps
            n-swaps @made
            lines (str/split-lines (:out r))
            values (map native/read-edn lines)]
        (is (zero? (long (:exit r))) (str "slabread failed: " (:err r)))
        (is (= reads (count lines)))
        (is (every? consistent? values) "every read saw one whole version")
        (is (apply <= (map :i values)) "versions never go backwards")
        (is (pos? (long n-swaps)))
        (println (format "reader protocol: %d reads saw %d distinct versions while the JVM made %d swaps"
                         (count lines) (count (distinct (map :i values))) n-swaps))
        ;; one more publish gives back the pins the reader returned (its last counts)
        (slab/set-root! seg :c {:done true})
        (u/settle! seg -1)
        (is (clean? (slab/verify seg)) (pr-str (slab/verify seg)))))))

(deftest a-killed-reader's-counts-come-back-through-recovery
  (when (native/built?)
    (with-segment [seg file]
      (slab/set-root! seg :k {:n 0})
      (let [baseline (u/settle! seg -1)
            big (into {} (map (fn [i] [i (str "a value long enough to need a blob " i)])) (range 5000))]
        (slab/set-root! seg :k big)
        (let [p (native/start "--hold" file "k")
              line (native/first-line p)]
          (is (= big (native/read-edn line)) "the reader printed the version it pins")
          ;; the root moves on: only the reader's pin keeps the big version
          (slab/set-root! seg :k {:n 0})
          (let [held (u/settle! seg -1)]
            (is (> held (+ baseline 100000)) "the pinned version is still there"))
          (let [v (slab/verify seg)]
            (is (clean? v) (str "a live reader's pin is counted: " (pr-str v))))
          (native/kill-9! p)
          (is (= 1 (:stuck-slots (slab/verify seg))) "the dead reader's slot is stuck until recovery")
          (let [r (slab/recover! seg)]
            (is (pos? (long (:dead-processes r))) "recovery found the dead reader")
            (is (zero? (long (:reclaimed r))) "its counts were given back, not left to the sweep")
            (is (clean? r) (pr-str r)))
          (is (= baseline (u/settle! seg baseline)) "every byte the reader held came back")
          (is (clean? (slab/verify seg))))))))

(deftest a-reader-that-detaches-leaves-nothing-behind
  (when (native/built?)
    (with-segment [seg file]
      (slab/set-root! seg :k [1 2 3])
      (dotimes [_ 20]
        (let [r (native/slabread! file :k)]
          (is (= "[1 2 3]" (str/trim (:out r))))))
      (is (clean? (slab/verify seg)))
      (is (zero? (long (:dead-processes (slab/recover! seg))))))))

(deftest recovering-a-dead-reader-survives-a-kill-at-every-step
  (when (native/built?)
    (kill/run-scenario :reader "reader" (into {} (map (fn [[k v]] [k #{v}])) sc/roots))))

(defn- sh-start
  "Starts a process with args, its stderr to file err."
  ^Process [err & args]
  (-> (ProcessBuilder. ^"[Ljava.lang.String;" (into-array String (map str args)))
      (.redirectError (java.io.File. (str err)))
      (.start)))

(deftest a-reader-stopped-by-a-closed-pipe-or-a-signal-detaches
  ;; `slabread FILE ROOT | head` and Ctrl-C are everyday ends of a reader: one
  ;; that died of SIGPIPE or SIGINT kept its pin (the version's bytes) and its
  ;; slot until some JVM ran recover!; after 16 of them no reader could attach.
  (when (native/built?)
    (with-segment [seg file]
      (slab/set-root! seg :k {:n 0})
      (let [baseline (u/settle! seg -1)
            err (str file ".err")]
        (slab/set-root! seg :k (into {} (map (fn [i] [i (str "a value long enough to need a blob " i)])) (range 20000)))
        (dotimes [_ 3]
          (let [p (sh-start err "sh" "-c" (str native/slabread " " file " k | head -c 10 >/dev/null"))]
            (is (zero? (long (.waitFor p))))))
        (doseq [signal ["-TERM" "-INT" "-HUP"]]
          (let [p (sh-start err native/slabread "--hold" file "k")]
            (is (some? (native/first-line p)))
            (.waitFor (sh-start err "kill" signal (.pid p)))
            (is (= 1 (long (.waitFor p))) "a stopped reader exits 1")
            (is (native/one-line? (slurp err)))))
        (is (zero? (long (:stuck-slots (slab/verify seg)))) "every reader detached")
        (slab/set-root! seg :k {:n 0})
        (is (= baseline (u/settle! seg baseline)) "and gave its pin back")
        (is (clean? (slab/verify seg)))))))

(deftest readers-killed-while-pinned-are-taken-over-by-the-next-readers
  ;; A reader killed with kill -9 while pinned kept its slot and version until
  ;; a JVM opened the file or ran recover!; a JVM that only kept swapping never
  ;; did, so after 16 such kills no reader could attach at all.
  (when (native/built?)
    (with-segment [seg file]
      (slab/set-root! seg :k {:n 0})
      (let [baseline (u/settle! seg -1)
            big (into {} (map (fn [i] [i (str "a value long enough to need a blob " i)])) (range 5000))]
        (slab/set-root! seg :k big)
        (let [ps (vec (repeatedly 16 #(native/start "--hold" file "k")))]
          (doseq [p ps] (is (some? (native/first-line p))))
          (doseq [p ps] (native/kill-9! p)))
        (slab/set-root! seg :k {:n 1})
        (is (= 16 (:stuck-slots (slab/verify seg))))
        (let [r (native/slabread! file :k)]
          (is (zero? (long (:exit r))) (str "a 17th reader attaches: " (:err r)))
          (is (= {:n 1} (native/read-edn (:out r)))))
        (dotimes [_ 15] (native/slabread! file :k))
        ;; the last count on the old version went back to the JVMs (a returned
        ;; pin), which the next publish gives back, freeing the last slot
        (slab/set-root! seg :k {:n 0})
        (is (zero? (long (:stuck-slots (slab/verify seg)))) "every dead reader's slot was freed")
        (is (= baseline (u/settle! seg baseline)) "and its pins given back, with no recover!")
        (is (clean? (slab/verify seg)))))))
