(ns slab.share.atom-test
  "Proves slab atoms and named roots behave as clojure.core atoms do, publish
  nothing when a swap changes nothing, and give old versions back."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :refer [bytes-in-use settle! temp-path]])
  (:import (slab.share Cells RootTable Sharing)))

(set! *warn-on-reflection* true)

(defn- published-box
  "The box the named root currently publishes (its identity in the segment)."
  [seg name]
  (let [sh (Sharing/of seg)]
    (.box (Cells/read sh (RootTable/cell sh name)))))

(deftest atom-semantics-match-clojure-core
  (let [seg (slab/open-segment (temp-path "atom") {:capacity (* 64 1024 1024)})
        a (slab/atom seg :orders {})
        c (atom {})
        watched (atom [])]
    (add-watch a :w (fn [k r old new] (swap! watched conj [k (identical? r a) old new])))
    (is (= (swap! a assoc 42 {:qty 3 :sku "X-1"}) (swap! c assoc 42 {:qty 3 :sku "X-1"})))
    (is (= (swap! a update-in [42 :qty] inc) (swap! c update-in [42 :qty] inc)))
    (is (= (swap! a assoc :k 1 :j 2) (swap! c assoc :k 1 :j 2)))
    (is (= (swap-vals! a dissoc :k) (swap-vals! c dissoc :k)))
    (is (= (reset-vals! a {:x 1}) (reset-vals! c {:x 1})))
    (is (= @a @c {:x 1}))
    (is (= [[:w true {} {42 {:qty 3 :sku "X-1"}}]] (take 1 @watched)) "watches fire with old and new")
    (is (= 5 (count @watched)))
    (testing "compare-and-set! compares against the version read"
      (let [v @a]
        (is (compare-and-set! a v (assoc v :y 2)))
        (is (not (compare-and-set! a v (assoc v :z 3))) "v is no longer the current version")
        (is (= {:x 1 :y 2} @a))))
    (testing "validators"
      (set-validator! a map?)
      (is (thrown-with-msg? IllegalStateException #"Invalid reference state" (reset! a 1)))
      (is (thrown-with-msg? IllegalStateException #"Invalid reference state" (swap! a (constantly [1]))))
      (is (= {:x 1 :y 2} @a)))
    (testing "the same root seen through another atom object"
      (is (= @a @(slab/atom seg :orders)))
      (is (= #{:orders} (set (slab/roots seg)))))
    (testing "metadata as on a clojure.core atom: alter-meta! and reset-meta!"
      (let [b (slab/atom {:v 1} :meta {:owner "x"})]
        (is (= {:owner "x"} (meta b)))
        (is (= {:owner "x" :n 1} (alter-meta! b assoc :n 1)))
        (is (= {:owner "x" :n 1} (meta b)))
        (is (= {:m 2} (reset-meta! b {:m 2})))
        (is (= {:m 2} (meta b)))
        (is (= {:v 1} @b))))
    (testing "a deref is a snapshot forever"
      (let [snap @a]
        (dotimes [i 100] (swap! a assoc :i i))
        (is (= {:x 1 :y 2} snap))))
    (slab/close-segment! seg)))

(deftest a-swap-that-changes-nothing-publishes-nothing
  (let [seg (slab/open-segment (temp-path "noop") {:capacity (* 64 1024 1024)})
        a (slab/atom seg :m {:a 1 :b "two" :c {:d [1 2 "three"]}})
        box (published-box seg :m)
        in-use (bytes-in-use seg)]
    (swap! a identity)
    (swap! a assoc :a 1)
    (swap! a dissoc :missing)
    (swap! a update :b str)
    (swap! a assoc :c {:d [1 2 "three"]})
    (swap! a update-in [:c :d] conj)
    (is (= box (published-box seg :m)) "no new box was published")
    (is (= {:a 1 :b "two" :c {:d [1 2 "three"]}} @a))
    (is (= in-use (settle! seg in-use)))
    (slab/close-segment! seg)))

(deftest many-resets-stay-flat
  (let [path (temp-path "resets")
        seg (slab/open-segment path {:capacity (* 256 1024 1024)})
        a (slab/atom seg :m nil)
        value (fn [i] (into {} (map (fn [k] [k (str "value " k " of round " i)])) (range 1000)))]
    (reset! a (value 0))
    (let [after-one (settle! seg -1)]
      (dotimes [i 10000] (reset! a (value (mod i 7))))
      (let [after (settle! seg -1)]
        (is (< (Math/abs (- after after-one)) (* 64 1024)) "old versions are given back")
        (is (= {:unreachable 0} (select-keys (slab/verify seg) [:unreachable])))))
    (slab/close-segment! seg)))

(deftest anonymous-atoms-are-reclaimed
  (let [path (temp-path "anon")
        seg (slab/open-segment path {:capacity (* 256 1024 1024)})]
    (slab/with-segment seg
      (slab/atom {:i 0 :name "interns the keywords used below"})
      (let [baseline (settle! seg -1)]
        (dotimes [i 10000]
          (let [a (slab/atom {:i i :name (str "atom number " i)})]
            (swap! a update :i inc)))
        (is (== baseline (settle! seg baseline)) "10,000 dropped atoms give everything back")))
    (slab/close-segment! seg)))

(deftest root-and-set-root!
  (let [seg (slab/open-segment (temp-path "roots") {:capacity (* 64 1024 1024)})]
    (is (nil? (slab/root seg :nothing-yet)))
    (slab/set-root! seg :config {:threads 4 :name "svc"})
    (is (= {:threads 4 :name "svc"} (slab/root seg :config)))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"must be a keyword" (slab/root seg "config")))
    (is (thrown? clojure.lang.ExceptionInfo (slab/set-root! seg :bad {:f inc})))
    (is (= {:threads 4 :name "svc"} (slab/root seg :config)) "a refused value changes nothing")
    (slab/close-segment! seg)))

(deftest values-outlive-the-process-that-wrote-them
  (let [path (temp-path "reopen")
        seg (slab/open-segment path {:capacity (* 64 1024 1024)})]
    (slab/set-root! seg :kept {:a [1 2 3] :b #{"x"}})
    (slab/flush! seg)
    (slab/close-segment! seg)
    (let [seg (slab/open-segment path)]
      (is (= {:a [1 2 3] :b #{"x"}} (slab/root seg :kept)))
      (is (zero? (:unreachable (slab/verify seg))))
      (slab/close-segment! seg))))
