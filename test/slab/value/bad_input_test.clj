(ns slab.value.bad-input-test
  "Proves that values slab cannot store are refused with a clear ex-info
  naming the class and the key path, and that a refusal writes nothing."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab])
  (:import (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defrecord Point [x y])

(defn- refusal [f]
  (try (f) nil (catch clojure.lang.ExceptionInfo e e)))

(deftest unsupported-values-are-refused-and-nothing-is-written
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)]
    (slab/with-segment seg
      (let [m (slab/hash-map :a 1 :b {:c 2})
            s (slab/hash-set 1 2)
            before (slab/stats seg)]
        (doseq [[what f path cls]
                [["a fn value" #(assoc m :f inc) [:f] "clojure.core$inc"]
                 ["an atom key" #(assoc m (atom 1) 1) [] "clojure.lang.Atom"]
                 ["an object in a set" #(conj s (Object.)) [] "java.lang.Object"]
                 ["a deep fn" #(slab/share {:brand-new-keyword {:deeper [1 2 {:c inc}]}})
                  [:brand-new-keyword :deeper 2 :c] "clojure.core$inc"]
                 ["a record" #(slab/share {:p (->Point 1 2)}) [:p] "slab.value.bad_input_test.Point"]
                 ["a transient value" #(assoc! (transient m) :t (transient [])) [:t] "clojure.lang.PersistentVector$TransientVector"]
                 ["bad metadata" #(slab/share {:v (with-meta #{1} {:m (Object.)})}) [:v :slab/meta :m] "java.lang.Object"]
                 ["a hash-map arg" #(slab/hash-map :ok 1 :bad (Thread.)) [:bad] "java.lang.Thread"]]]
          (testing what
            (let [e (refusal f)]
              (is (some? e))
              (is (= :unsupported-value (:slab/error (ex-data e))))
              (is (= path (:path (ex-data e))))
              (is (= cls (:class (ex-data e))))
              (is (re-find (re-pattern (java.util.regex.Pattern/quote cls)) (ex-message e)))
              (is (= (:bytes-in-use before) (:bytes-in-use (slab/stats seg))) "nothing was written"))))
        (is (= {:a 1 :b {:c 2}} m) "existing versions are intact")
        (is (= #{1 2} s))))
    (.close seg)))

(deftest a-transient-survives-a-refused-value
  (let [t (transient (slab/hash-map :a 1))]
    (is (thrown? clojure.lang.ExceptionInfo (assoc! t :b (Object.))))
    (assoc! t :c 3)
    (is (= {:a 1 :c 3} (persistent! t)))
    (is (thrown-with-msg? IllegalAccessError #"after persistent!" (assoc! t :d 4)))))
