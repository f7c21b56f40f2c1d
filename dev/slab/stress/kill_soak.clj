(ns slab.stress.kill-soak
  "A randomized kill -9 soak, the real-signal counterpart of the kill-point
  tests: a child JVM works on a named segment (swap!s on a shared atom, root
  replacements, transients, versions held and dropped, closes and reopens)
  and is killed with SIGKILL at a random instant; then this process opens
  the segment, checks that every root still satisfies its invariant, runs
  recover!, and checks that verify finds no unreachable block, no stuck
  slot and counts that add up. Repeats for many rounds and prints a summary.

    bin/lein run -m slab.stress.kill-soak [rounds] [max-ms]

  Defaults: 50 rounds, kills within 3000 ms of the child's start of work.
  Exits with status 1 if any round found damage."
  (:require [slab.core :as slab])
  (:import (java.io BufferedReader InputStreamReader)
           (java.nio.file Files)
           (java.util Random)))

(set! *warn-on-reflection* true)

;; --- the child ------------------------------------------------------------------------------

(defn- counter-value
  "The invariant of :counter: n swaps leave {:n n :sum 0+1+...+n :v [1 .. n]}
  (the vector capped at its last 200 elements)."
  [n]
  {:n n :sum (quot (* n (inc n)) 2) :v (vec (range (max 1 (- n 199)) (inc n)))})

(defn- work!
  "What the child does until it is killed."
  [file]
  (let [rnd (Random.)]
    (println "working")
    (flush)
    (loop [seg (slab/open-segment file {:capacity (* 256 1024 1024)})
           held []]
      (let [a (slab/atom seg :counter (counter-value 0))
            r (.nextInt rnd 100)]
        (cond
          (< r 60) (do (swap! a (fn [{:keys [n]}] (counter-value (inc n))))
                       (recur seg held))
          (< r 75) (let [i (.nextInt rnd 1000)]
                     (slab/set-root! seg :table (persistent! (reduce #(assoc! %1 %2 (str "row " %2 " of " i))
                                                                     (transient (slab/hash-map :i i))
                                                                     (range 300))))
                     (recur seg held))
          (< r 90) (let [held (conj held (assoc @a :extra (.nextInt rnd)))]
                     (recur seg (if (> (count held) 50) (subvec held 25) held)))
          (< r 95) (do (System/gc) (recur seg []))
          :else (do (slab/close-segment! seg)
                    (recur (slab/open-segment file) [])))))))

;; --- the parent --------------------------------------------------------------------------------

(defn- table-ok? [t]
  (or (nil? t)
      (let [i (:i t)]
        (and (= 301 (count t))
             (every? #(= (str "row " % " of " i) (get t %)) (range 300))))))

(defn- check
  "Opens file and returns the problems a fresh process finds (empty if none)."
  [file]
  (let [seg (slab/open-segment file)]
    (try
      (let [c (slab/root seg :counter)
            problems (cond-> []
                       (and c (not= c (counter-value (:n c)))) (conj {:counter-broken (:n c)})
                       (not (table-ok? (slab/root seg :table))) (conj :table-broken))
            _ (slab/recover! seg)
            v (slab/verify seg)]
        (print (format "swaps so far %6d  " (long (or (:n c) 0))))
        (cond-> problems
          (not (and (zero? (long (:unreachable v))) (:counts-add-up v) (zero? (long (:stuck-slots v)))))
          (conj {:verify v})))
      (finally (slab/close-segment! seg)))))

(defn- start-child ^Process [file]
  (let [cmd [(str (System/getProperty "java.home") "/bin/java") "-cp" (System/getProperty "java.class.path")
             "clojure.main" "-m" "slab.stress.kill-soak" "child" file]]
    (.start (doto (ProcessBuilder. ^java.util.List cmd) (.redirectErrorStream true)))))

(defn -main [& args]
  (if (= "child" (first args))
    (work! (second args))
    (let [rounds (parse-long (or (first args) "50"))
          max-ms (parse-long (or (second args) "3000"))
          dir (Files/createTempDirectory "slab-kill-soak" (make-array java.nio.file.attribute.FileAttribute 0))
          file (str (.resolve dir "soak.slab"))
          rnd (Random.)
          damaged (atom 0)]
      (dotimes [round rounds]
        (let [p (start-child file)
              out (BufferedReader. (InputStreamReader. (.getInputStream p)))]
          ;; wait until the child works, then kill it at a random instant
          (loop [] (let [l (.readLine out)] (when (and l (not= l "working")) (recur))))
          (Thread/sleep (.nextInt rnd (int max-ms)))
          (.destroyForcibly p)                        ; SIGKILL
          (.waitFor p)
          (let [problems (check file)]
            (when (seq problems) (swap! damaged inc))
            (println (format "round %3d: %s" round
                             (if (seq problems) (str "DAMAGE " (pr-str problems)) "ok")))
            (.close out))))
      (println (format "%d rounds, %d with damage" rounds @damaged))
      (shutdown-agents)
      (System/exit (if (pos? (long @damaged)) 1 0)))))
