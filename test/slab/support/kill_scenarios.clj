;; What the kill-point children run (not tests themselves): each scenario prepares a segment, then runs one protocol after KillPoints/begin.
(ns slab.support.kill-scenarios
  "Scenarios for slab.support.kill. <name>-prepare builds the segment the
  protocol starts from; <name>-run opens it and runs the protocol, which
  the child's kill point cuts short. The values here are what the tests
  expect to read back (see `roots`)."
  (:require [clojure.java.io :as io]
            [slab.core :as slab])
  (:import (slab.mem KillPoints)))

(def capacity (* 16 1024 1024))

(def roots
  "The roots every prepared segment publishes."
  {:m (into {} (map (fn [i] [i {:name (str "entry number " i " with a long name") :tags #{i :x}}])) (range 200))
   :v (vec (range 3000))
   :n 42})

(defn- open [file] (slab/open-segment file {:capacity capacity}))

(defn- publish-roots! [seg]
  (doseq [[k v] roots] (slab/set-root! seg k v)))

(def ^:private held (atom []))

(defn- hold-versions!
  "Reads roots and makes versions from them, kept reachable, so this
  process's ledger records counts (what a close or a recovery gives back)."
  [seg]
  (let [m (slab/root seg :m)
        v (slab/root seg :v)]
    (swap! held into [m v (assoc m :extra [1 2 3]) (transient v) (get m 5)])))

;; --- close: a process closing a segment it holds versions of --------------------------

(declare publish-prepare)
(defn close-prepare [file] (publish-prepare file))

(defn close-run [file]
  (let [seg (open file)]
    (hold-versions! seg)
    (KillPoints/begin)
    (slab/close-segment! seg)))

;; --- recover: a process recovering the slot of one that died holding versions -----------

(defn recover-prepare [file]
  (let [seg (open file)]
    (publish-roots! seg)
    (hold-versions! seg)))                 ; then the child halts: a dead process with a ledger

(defn recover-run [file]
  (KillPoints/begin)
  (let [seg (open file)]                   ; opening gives back what the dead process held
    (slab/recover! seg)))

;; --- sweep: the sweep that opening runs after a process died -------------------------------------

(def sweep-prepare recover-prepare)

(defn sweep-run
  "Sweeps while holding versions: killed half-way, its ledger names counts
  the sweep had reset, which the next opener must not give back before it
  sweeps again."
  [file]
  (let [seg (open file)]                   ; gives back the dead process's counts (and sweeps)
    (hold-versions! seg)
    (slab/set-root! seg :garbage-maker (vec (range 5000)))
    (slab/set-root! seg :garbage-maker nil)
    (KillPoints/begin)
    (slab/recover! seg)))

;; --- publish: swap!, compare-and-set! and set-root! ------------------------------------------

(def swapped (assoc (:m roots) :new {:added true}))

(defn publish-prepare [file]
  (let [seg (open file)]
    (publish-roots! seg)
    (slab/close-segment! seg)))

(defn publish-run [file]
  (let [seg (open file)
        a (slab/atom seg :m)
        n (slab/atom seg :n)]
    (hold-versions! seg)
    (KillPoints/begin)
    (swap! a assoc :new {:added true})
    (compare-and-set! n 42 43)
    (slab/set-root! seg :v [:replaced])))

;; --- persistent!: a transient ending while a process dies --------------------------------------

;; :t3 and :t4 are small nested collections persistent! lays out in walk order (moves it can die in);
;; nested values move only in a map of more than 1,024 entries, so scalar entries take it past that.
(def ^:private filler (into {} (map (fn [i] [(+ 100000 i) i])) (range 900)))
(def built (-> (:m roots) (assoc :t1 1 :t2 [1 2] :t3 {:a 1 :b 2} :t4 #{1 2}) (dissoc 7) (merge filler)))

(defn persistent-run [file]
  (let [seg (open file)
        m (slab/root seg :m)
        t (reduce-kv assoc!
                     (-> (transient m) (assoc! :t1 1) (assoc! :t2 [1 2]) (assoc! :t3 {:a 1 :b 2}) (assoc! :t4 #{1 2}) (dissoc! 7))
                     filler)
        tv (conj! (transient (slab/root seg :v)) 3000)]
    (KillPoints/begin)
    (let [p (persistent! t)
          pv (persistent! tv)]
      (slab/set-root! seg :built p)
      (slab/set-root! seg :built-v pv))))

(def persistent-prepare publish-prepare)

;; --- ledger: the ledger growing and shrinking as versions come and go ---------------------------

(defn ledger-run [file]
  (let [seg (open file)
        m (slab/root seg :m)]
    (KillPoints/begin)
    ;; 1,500 versions held at once grow the ledger past its first size
    (let [versions (mapv #(assoc m :k %) (range 1500))]
      (slab/set-root! seg :last (peek versions))
      ;; releasing them shrinks it again (release! runs here, not in the Cleaner,
      ;; so the steps come in the same order every run)
      (run! slab/release! versions))
    (slab/set-root! seg :after-release 1)))

(def ledger-prepare publish-prepare)

;; --- pool: the page pool handing out and taking back runs of pages ---------------------------

(def big-strings (vec (for [i (range 3)] (apply str (repeat (+ 40000 (* 30000 i)) (char (+ 97 i)))))))

(def pool-prepare publish-prepare)

(defn pool-run
  "Large blocks (runs of pages) published, then dropped: their pages go back
  to the pool and merge; then a span of a fresh size class is made."
  [file]
  (let [seg (open file)]
    (KillPoints/begin)
    (slab/set-root! seg :big big-strings)
    (slab/set-root! seg :big nil)
    (slab/set-root! seg :after (vec (range 2000)))))

;; --- span: a closing process giving up its spans ---------------------------------------------

(def span-prepare publish-prepare)

(defn span-run
  "Closing rebuilds and abandons every span this process owns (or gives it
  back if empty); the next opener must find every span exact."
  [file]
  (let [seg (open file)]
    (hold-versions! seg)
    (let [junk (mapv #(assoc (slab/root seg :m) :junk %) (range 300))]
      (run! slab/release! (take 150 junk))
      (KillPoints/begin)
      (slab/close-segment! seg))))

;; --- lineage: path copies borrowing from the versions they were made from ---------------------

(def lineage-prepare publish-prepare)

(def lineage-final
  (reduce (fn [m i] (assoc m i {:replaced i})) (:m roots) (range 0 200 90)))

(defn lineage-run
  "Versions of :m made one from another (each node copy the heir of the one
  it copies), the older ones dropped as they go (each passes on to its heir
  or dies), and the last published."
  [file]
  (let [seg (open file)
        m0 (slab/root seg :m)]
    (KillPoints/begin)
    (let [last (reduce (fn [m i]
                         (let [m2 (assoc m i {:replaced i})]
                           (slab/release! m)
                           m2))
                       m0 (range 0 200 90))
          other (assoc last :other true)]      ; a second copy of the newest: a full copy
      (slab/release! other)
      (slab/set-root! seg :m last))))

;; --- reader: a C reader (src/c) killed while it pins a version -------------------------------

(defn reader-prepare
  "A foreign reader (slabread --hold) pins :m's version and is killed with
  the pin held; then :m moves on, so the dead reader's count is all that
  keeps the old version. The slab JVM then dies too. (src/c must be built:
  the test that runs this scenario builds it.)"
  [file]
  (let [seg (open file)]
    (publish-roots! seg)
    (let [p (.start (ProcessBuilder. ^java.util.List ["src/c/build/slabread" "--hold" (str file) "m"]))]
      (.readLine ^java.io.BufferedReader (io/reader (.getInputStream p)))
      (.destroyForcibly p)
      (.waitFor p))
    (slab/set-root! seg :m (:m roots))))

(defn reader-run
  "Opening gives back what the dead JVM and the dead reader held."
  [file]
  (KillPoints/begin)
  (let [seg (open file)]
    (slab/recover! seg)))
