;; Proves the lineage protocol (slab.ref.Lineage: lazily propagated counts) safe by running its own code over a model memory in every interleaving of its threads within a bound, with and without a thread killed at any step: no block is freed while a version reaches it, no count is lost or doubled, a kill leaks at worst, and after recovery's sweep every count is exact.
(ns slab.ref.lineage-model-test
  (:require [clojure.test :refer [deftest is testing]])
  (:import (java.util.function Supplier)
           (slab.model Explorer Explorer$Result Scenarios)))

(set! *warn-on-reflection* true)

(defn- explore ^Explorer$Result [^Supplier make preemptions kills]
  (let [^Explorer$Result r (Explorer/explore make (int preemptions) (int kills) 2000000)]
    (println (format "lineage model: %-92s %7d schedules (%d with a kill), up to %d steps"
                     (.scenario r) (.executions r) (.killedExecutions r) (.longestTrace r)))
    r))

(deftest every-interleaving-with-two-preemptions
  ;; A failure throws, naming the schedule and every step of it.
  (doseq [make (Scenarios/all)]
    (let [r (explore make 2 0)]
      (is (> (.executions r) 500) "the bound lets the threads interleave"))))

(deftest every-interleaving-with-a-kill-at-any-step
  (doseq [make (Scenarios/all)]
    (let [r (explore make 1 1)]
      (is (pos? (.killedExecutions r)))
      (is (> (.executions r) 1000)))))
