;; Proves symbols keep their metadata in slab (as values, keys, elements, nested, in roots), stay = and hash-equal to the same symbol without it, replace on assoc when only the metadata differs, refuse unsupported metadata, and free their metadata when dropped.
(ns slab.value.symbol-meta-test
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u :refer [bytes-in-use settle!]])
  (:import (slab.mem Segment)))

(set! *warn-on-reflection* true)

(def ^:private form
  "Code as data: a defn form whose symbols carry reader metadata."
  (list 'defn (with-meta 'f {:line 3 :column 7 :doc "a docstring long enough to need a blob"})
        [(with-meta 'x {:tag 'long})] (list (with-meta 'inc {:line 4}) 'x)))

(defn- metas
  "Every symbol in x with its metadata, depth first."
  [x]
  (->> (tree-seq coll? seq x) (filter symbol?) (map (juxt identity meta))))

(deftest symbol-metadata-round-trips
  (testing "as a map value, a map key, a set member and a vector element"
    (let [s (with-meta 'foo {:line 1})
          m (slab/hash-map :a s s :v)]
      (is (= {:line 1} (meta (:a m))))
      (is (= {:line 1} (meta (key (first (dissoc m :a))))))
      (is (= {:line 1} (meta (first (slab/hash-set s)))))
      (is (= {:line 1} (meta (nth (slab/vector 1 s) 1))))))
  (testing "deep inside a shared form"
    (let [shared (slab/share {:forms [form]})]
      (is (= (metas form) (metas (first (:forms shared)))))
      (is (= (pr-str form) (pr-str (first (:forms shared)))))))
  (testing "metadata holding collections and long strings"
    (let [s (with-meta 'spec {:args [1 2 {:k "a string long enough to need a blob"}] :ret #{:x}})]
      (is (= (meta s) (meta (:s (slab/share {:s s}))))))))

(deftest metadata-does-not-change-equality-or-hash
  (let [plain 'foo
        meta-sym (with-meta 'foo {:line 9})
        m (slab/hash-map meta-sym 1 :v meta-sym)]
    (testing "a key with metadata is found by the plain symbol and by one with other metadata"
      (is (= 1 (get m plain)))
      (is (= 1 (get m (with-meta 'foo {:other true}))))
      (is (contains? m plain)))
    (testing "= and hash equal the clojure.core twin's, both ways"
      (is (= m {plain 1 :v plain}))
      (is (= {plain 1 :v plain} m))
      (is (= (hash m) (hash {plain 1 :v plain})))
      (is (= (slab/vector plain) (slab/vector meta-sym))))
    (testing "assoc of a key already there keeps the stored key, as clojure.core does"
      (is (= {:line 9} (meta (key (first (dissoc (assoc m (with-meta 'foo {:new 1}) 2) :v))))))
      (is (= (meta (key (first (dissoc (assoc {meta-sym 1 :v 1} (with-meta 'foo {:new 1}) 2) :v))))
             (meta (key (first (dissoc (assoc m (with-meta 'foo {:new 1}) 2) :v)))))))
    (testing "assoc of a value that differs only in metadata replaces it"
      (is (= {:line 10} (meta (:v (assoc m :v (with-meta 'foo {:line 10}))))))
      (is (nil? (meta (:v (assoc m :v 'foo))))))
    (testing "empty metadata is stored as none"
      (is (= 'bar (:a (slab/hash-map :a (with-meta 'bar {}))))))))

(deftest unsupported-metadata-is-refused-and-writes-nothing
  (let [seg (Segment/anonymous (* 16 1024 1024) 5 5)]
    (try
      (slab/with-segment seg
        (slab/hash-map :a 1 :bad 2)                      ; interns the keywords used below
        (let [before (settle! seg -1)
              r (u/error-of #(slab/share {:a (with-meta 'x {:bad (Object.)})}))]
          (is (= :unsupported-value (:error r)))
          (is (= [:a :slab/meta :bad] (:path (:data r))))
          (is (== before (bytes-in-use seg)) "nothing was written")))
      (finally (.close seg)))))

(deftest dropped-symbols-free-their-metadata
  (let [seg (Segment/anonymous (* 64 1024 1024) 5 5)]
    (try
      (slab/with-segment seg
        (slab/share [form :i :form :sym :s 'y])          ; interns the symbols and keywords (never freed)
        (let [baseline (settle! seg -1)]
          (dotimes [i 2000]
            (slab/share {:i i :form form :sym (with-meta 'y {:i i :s (str "metadata string number " i " is long")})}))
          (is (== baseline (settle! seg baseline)) "every symbol block and its metadata is freed")))
      (finally (.close seg)))))
