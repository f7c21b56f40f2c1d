;; Proves every multi-step protocol survives a kill at each of its steps: close, recovery of a dead process (and of a dead recoverer), the sweep, swap!/compare-and-set!/set-root!, persistent!, ledger growth and shrinking, the page pool, giving up spans, and the lineage of path copies.
(ns slab.share.kill-point-test
  "Each test runs one protocol in child JVMs halted at every one of its
  steps (slab.support.kill), then opens the segment here and checks that the
  roots read back as before (or as after, for a publish), that recover!
  leaves no leaked or doubly given back count, no unreachable block and no
  stuck slot, and that writing goes on."
  (:require [clojure.test :refer [deftest is]]
            [slab.support.kill :as kill]
            [slab.support.kill-scenarios :as sc]))

(def ^:private unchanged (into {} (map (fn [[k v]] [k #{v}])) sc/roots))

(deftest close-survives-a-kill-at-every-step
  (kill/run-scenario :close "close" unchanged))

(deftest recovery-survives-a-kill-at-every-step
  ;; the next opener takes over the slot the killed recoverer left half done
  (kill/run-scenario :recover "recover" unchanged))

(deftest the-sweep-survives-a-kill-at-every-step
  ;; the next opener finds the sweep word naming a dead sweeper and sweeps again
  (kill/run-scenario :sweep "sweep" unchanged))

(deftest publishing-survives-a-kill-at-every-step
  (kill/run-scenario :publish "publish"
                     {:m #{(:m sc/roots) sc/swapped}
                      :n #{42 43}
                      :v #{(:v sc/roots) [:replaced]}}))

(deftest persistent!-survives-a-kill-at-every-step
  (kill/run-scenario :persistent "persistent"
                     (assoc unchanged
                            :built #{nil sc/built}
                            :built-v #{nil (conj (:v sc/roots) 3000)})))

(deftest ledger-growth-survives-a-kill-at-every-step
  (kill/run-scenario :ledger "ledger"
                     (assoc unchanged :last #{nil (assoc (:m sc/roots) :k 1499)})))

(deftest the-page-pool-survives-a-kill-at-every-step
  ;; a holder of the pool lock that dies is taken over, and the bins rebuilt from the page table
  (kill/run-scenario :pool "pool"
                     (assoc unchanged
                            :big #{nil sc/big-strings}
                            :after #{nil (vec (range 2000))})))

(deftest giving-up-spans-survives-a-kill-at-every-step
  ;; spans half rebuilt by a closing process that died are rebuilt again by the next opener
  (kill/run-scenario :span "span" unchanged))

(deftest lineage-survives-a-kill-at-every-step
  ;; a claim, a death or a passing on cut short leaks at worst; the sweep on open flattens it
  (kill/run-scenario :lineage "lineage" (assoc unchanged :m #{(:m sc/roots) sc/lineage-final})))
