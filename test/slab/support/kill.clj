;; The kill-point harness (not a test itself): runs a protocol in child JVMs halted at each of its steps, then checks what a fresh process finds.
(ns slab.support.kill
  "Crash tests in the spirit of SQLite's: a scenario runs in a child JVM
  with -Dslab.killpoint=protocol:N, which halts the JVM (as kill -9 would) at
  the N-th step of the protocol, for every N; then this process opens the
  segment and checks that every named root reads back as one of the values
  it may have, that recover! leaves no leaked, doubly given back or
  unreachable block and no stuck process slot, and that writing goes on.

  A scenario is a function in slab.support.kill-scenarios: (prepare file)
  builds the segment the protocol starts from, once, in a child that exits
  without closing (a process that died); (run file) runs the protocol after
  KillPoints/begin. Each kill point works on a fresh copy of the prepared file."
  (:require [clojure.string :as str]
            [clojure.test :refer [is testing]]
            [slab.core :as slab]
            [slab.support.util :as u])
  (:import (java.nio.file Files Path StandardCopyOption CopyOption)
           (slab.mem KillPoints)))

(set! *warn-on-reflection* true)

(defn- child-form [scenario phase ^Path file]
  (pr-str `(do (require 'slab.support.kill-scenarios)
               ((resolve '~(symbol "slab.support.kill-scenarios" (str (name scenario) "-" (name phase))))
                ~(str file))
               (println "slab.killpoint" (System/getProperty "slab.killpoint") (KillPoints/counted))
               (flush)
               ;; exit without closing: the segment is left as a process that died leaves it
               (.halt (Runtime/getRuntime) 0))))

(def ^:private compiled
  "A directory holding slab's namespaces and the scenarios compiled once, so
  that each of the many children starts in about a second instead of
  compiling them again."
  (delay
    (let [dir (Files/createTempDirectory "slab-kill-classes" (make-array java.nio.file.attribute.FileAttribute 0))
          ;; in a fresh JVM: this one has loaded the namespaces already, so
          ;; compile would not write their classes
          child (u/start-child (pr-str `(binding [*compile-path* ~(str dir)]
                                          (compile 'slab.support.kill-scenarios))))]
      (try
        (when-not (= 0 (u/await-exit child 300000))
          (throw (ex-info (u/child-failure child "compiling the scenarios failed") {})))
        (finally (u/destroy! child)))
      (.addShutdownHook (Runtime/getRuntime) (Thread. #(u/delete-tree! dir)))
      dir)))

(defn run-child
  "Runs phase (:prepare or :run) of scenario on file in a child JVM, with
  the kill point protocol:n armed when protocol is given. Returns {:exit
  code :out [lines]}."
  [scenario phase ^Path file & [protocol n]]
  (let [child (u/start-child (child-form scenario phase file)
                             :jvm-opts (cond-> ["-XX:TieredStopAtLevel=1"]
                                         protocol (conj (str "-Dslab.killpoint=" protocol ":" n)))
                             :classpath-first (str @compiled))]
    (try
      (let [exit (u/await-exit child 180000)
            out (loop [acc []]
                  (let [l (.poll ^java.util.concurrent.LinkedBlockingQueue (:lines child)
                                 5 java.util.concurrent.TimeUnit/SECONDS)]
                    (if (or (nil? l) (= l :slab.support.util/eof)) acc (recur (conj acc l)))))]
        {:exit exit :out out :failure (when-not (#{0 KillPoints/HALT_STATUS} exit)
                                        (u/child-failure child (str "child exited with " exit)))})
      (finally (u/destroy! child)))))

(defn steps
  "How many steps of protocol the scenario's run phase takes (a child that
  only counts them)."
  [scenario protocol ^Path template ^Path work]
  (Files/copy template work ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption [StandardCopyOption/REPLACE_EXISTING]))
  (let [{:keys [out failure]} (run-child scenario :run work protocol 0)
        line (some #(when (str/starts-with? % (str "slab.killpoint " protocol ":0 ")) %) out)]
    (when failure (throw (ex-info failure {})))
    (when-not line (throw (ex-info (str "the counting child printed no step count: " (pr-str out)) {})))
    (parse-long (last (str/split line #" ")))))

(defn check-segment
  "Opens file in this process and checks it as a fresh process would find
  it after a crash. allowed: root name -> set of values it may hold (nil:
  unset). Returns a list of problems (empty if none)."
  [^Path file allowed]
  (let [seg (slab/open-segment (str file))]
    (try
      (let [problems (transient [])
            add! (fn [p] (conj! problems p))]
        (doseq [[root ok] allowed
                :let [v (try (slab/root seg root) (catch Throwable t [:threw (str t)]))]]
          (when-not (contains? ok v)
            (add! {:root root :read (let [s (pr-str v)] (if (> (count s) 200) (str (subs s 0 200) "...") s))
                   :allowed-hashes (mapv hash ok)})))
        (let [r (slab/recover! seg)]
          (when-not (and (zero? (long (:unreachable r))) (:counts-add-up r) (zero? (long (:stuck-slots r))))
            (add! {:after-recover r})))
        (let [v (slab/verify seg)]
          (when-not (and (zero? (long (:unreachable v))) (:counts-add-up v) (zero? (long (:stuck-slots v))))
            (add! {:verify v})))
        ;; the allocator's pages, spans and free runs agree with each other
        (try (u/audit seg nil nil)
             (catch Throwable t (add! {:heap-audit (str t)})))
        ;; writing goes on
        (let [a (slab/atom seg :after-kill {:n 0})]
          (dotimes [_ 10] (swap! a update :n inc))
          (slab/set-root! seg :written {:s "written after the kill" :v (vec (range 100))})
          (when-not (and (= {:n 10} @a) (= (vec (range 100)) (:v (slab/root seg :written))))
            (add! {:write-failed (pr-str @a)})))
        (persistent! problems))
      (finally (slab/close-segment! seg)))))

(defn run-scenario
  "Prepares scenario once, then for every kill point of protocol runs it on
  a fresh copy and checks the result; allowed as for check-segment. Every
  step is reported as its own assertion. Returns the number of steps."
  [scenario protocol allowed]
  (u/with-temp-dir [dir (str "slab-kill-" (name scenario))]
    (let [template (.resolve ^Path dir "template.slab")
          work (.resolve ^Path dir "work.slab")
          prep (run-child scenario :prepare template)]
      (is (nil? (:failure prep)) (str (:failure prep)))
      (let [n (long (steps scenario protocol template work))
            one (fn [^long k]
                  (let [work (.resolve ^Path dir (str "work-" k ".slab"))]
                    (Files/copy template work ^"[Ljava.nio.file.CopyOption;" (into-array CopyOption [StandardCopyOption/REPLACE_EXISTING]))
                    (let [{:keys [exit failure]} (run-child scenario :run work protocol k)]
                      (testing (str scenario ", killed at step " k " of " n " of " protocol)
                        (is (= KillPoints/HALT_STATUS exit) (str "the child was not halted at the kill point" failure))
                        (is (= [] (check-segment work allowed)))))
                    (Files/delete work)))]
        (is (pos? n) (str protocol " has no kill points in scenario " scenario))
        (println (format "kill points: %s in scenario %s has %d steps" protocol (name scenario) n))
        ;; two children at a time (each check opens its own copy)
        (let [ks (range 1 (inc n))
              halves [(take-nth 2 ks) (take-nth 2 (rest ks))]]
          (run! deref (mapv (fn [part] (future (run! one part))) halves)))
        n))))
