;; Proves: a shared vector works wherever Clojure code uses a vector, and fails the way clojure.core's does.
(ns slab.vector.interop-test
  (:require [clojure.test :refer [deftest is are testing]]
            [clojure.walk :as walk]
            [slab.core]                     ; registers the map and set types (nested values)
            [slab.vector :as sv]
            [slab.support.util :refer [settle!]])
  (:import (clojure.lang ArityException ExceptionInfo)
           (java.util List)
           (slab.ref Handle Heap SharedColl)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defonce ^:private seg (Segment/anonymous (* 64 1024 1024) 5 2))
(def ^:private c (Heap/of seg))

(defmacro ^:private thrown
  "[class message] of what body throws, or :none."
  [& body]
  `(try ~@body :none (catch Throwable e# [(class e#) (.getMessage e#)])))

(deftest errors-match-clojure-core
  (let [s (sv/vector-in c 1 2 3), m [1 2 3]
        e (sv/vector-in c), em []]
    (are [f] (= (thrown (f s)) (thrown (f m)))
      #(nth % 3)
      #(nth % -1)
      #(% 3)
      #(% :a)
      #(assoc % 4 :x)
      #(assoc % -1 :x)
      #(assoc % :k 1)
      #(subvec % 2 5)
      #(subvec % 2 1)
      #(.get ^List % 5)
      #(.add ^List % 5)
      #(.remove ^List % (int 0))
      #(assoc! (transient %) 5 1)
      #(assoc! (transient %) :a 1)
      #(nth (transient %) 5)
      #((transient %) :a)
      #(let [t (transient %)] (persistent! t) (conj! t 1))
      #(let [t (transient %)] (persistent! t) (count t))
      #(let [t (transient %)] (persistent! t) (nth t 0))
      #(let [t (transient %)] (persistent! t) (pop! t))
      #(.indexOf ^List % 2)
      #(.lastIndexOf ^List % 4))
    (are [f] (= (thrown (f e)) (thrown (f em)))
      #(assoc % 1 :x)
      #(pop %)
      #(peek %)
      #(pop! (transient %))
      #(reduce + %))
    (is (thrown? ArityException (s 1 2)))
    (is (thrown? ArityException ((transient s) 1 2)))
    (is (thrown? ArityException (apply s (range 30))))))

(deftest unsupported-values-leave-nothing-behind
  (let [seg (Segment/anonymous (* 16 1024 1024) 5 2)
        c (Heap/of seg)
        before (.bytesInUse (.stats (.allocator seg)))
        s (sv/vector-in c 1 2)]
    (let [e (thrown (sv/vector-in c 1 [2 [3 (Object.)]]))]
      (is (= ExceptionInfo (first e))))
    (let [data (try (sv/vector-in c 1 [2 [3 (Object.)]]) (catch ExceptionInfo e (ex-data e)))]
      (is (= :unsupported-value (:slab/error data)))
      (is (= [1 1 1] (:path data))))
    (is (thrown? ExceptionInfo (conj s (atom 1))))
    (is (thrown? ExceptionInfo (assoc s 0 (fn []))))
    (is (thrown? ExceptionInfo (conj! (transient s) (Object.))))
    (is (thrown? ExceptionInfo (sv/vec-in c (concat (range 100) [(Object.)]))))
    (is (= [1 2] s))
    (.release ^Handle (.slabHandle ^SharedColl s))
    ;; the failed conj! left a transient holding counts until it is collected
    (is (= before (settle! seg before)))))

(deftest released-handles-throw-clearly
  (let [s (sv/vector-in c 1 2 3)
        r (.slabHandle ^SharedColl s)
        sq (seq (sv/vec-in c (range 100)))]
    (.release r)
    (.release r)
    (doseq [f [#(nth % 0) count seq #(conj % 1) hash #(reduce + %) transient #(= % [1 2 3])]]
      (let [[cls msg] (thrown (f s))]
        (is (= IllegalStateException cls))
        (is (re-find #"released" (str msg)))))
    (is (= 0 (first sq)))))

(deftest prints-like-a-vector
  (let [s (sv/vector-in c 1 "two" :three [4 5] (list 6) nil 7.5 \c)
        m [1 "two" :three [4 5] (list 6) nil 7.5 \c]]
    (is (= (pr-str m) (pr-str s)))
    (is (= (str m) (str s) (.toString ^Object s)))
    (is (= "[]" (pr-str (sv/vector-in c))))
    (binding [*print-length* 2]
      (is (= (pr-str m) (pr-str s))))
    (binding [*print-meta* true]
      (is (= (pr-str (with-meta m {:a 1})) (pr-str (with-meta s {:a 1})))))))

(deftest behaves-as-a-vector
  (let [m (vec (range 100))
        s (sv/vec-in c m)]
    (testing "predicates"
      (is (every? #(% s) [vector? sequential? coll? associative? reversible? counted? ifn? indexed?
                          #(instance? java.util.RandomAccess %) #(instance? Comparable %)]))
      (is (chunked-seq? (seq s)))
      (is (not (seq? s))))
    (testing "core functions"
      (is (= (let [[a b & r] s] [a b (count r)]) [0 1 98]))
      (is (= (mapv inc s) (mapv inc m)))
      (is (= (filterv odd? s) (filterv odd? m)))
      (is (= (reduce-kv (fn [acc i x] (+ acc (* i x))) 0 s) (reduce-kv (fn [acc i x] (+ acc (* i x))) 0 m)))
      (is (= (transduce (comp (map inc) (filter even?) (take 10)) + s)
             (transduce (comp (map inc) (filter even?) (take 10)) + m)))
      (is (= (sequence (map inc) s) (map inc m)))
      (is (= (nthrest s 95) (nthrest m 95)))
      (is (= (nthnext s 95) (nthnext m 95)))
      (is (= (drop 98 s) (drop 98 m)))
      (is (nil? (nthnext s 100)))
      ;; as clojure.core's vector-of (its vector's seq throws an index error here)
      (is (= () (drop Integer/MAX_VALUE (next (seq s))) (drop Integer/MAX_VALUE (next (seq (vector-of :long 1 2 3))))))
      (is (= () (drop Integer/MAX_VALUE (next (seq (sv/vector-of-in c :long [1 2 3 4 5 6]))))))
      (is (= () (nthrest s 100)))
      (is (= (take-last 3 s) (take-last 3 m)))
      (is (= (rseq s) (rseq m)))
      (is (nil? (rseq (sv/vector-in c))))
      (is (nil? (seq (sv/vector-in c))))
      (is (= (reduce (fn [a x] (if (= x 10) (reduced a) (+ a x))) 0 s) 45))
      (is (= (apply s [3]) 3))
      (is (= (s 7) (get s 7) (nth s 7) (.get ^List s 7) 7))
      (is (= (find s 3) [3 3]))
      (is (= (contains? s 99) true))
      (is (= (contains? s 100) false))
      (is (= (sort [(sv/vector-in c 2 1) [1 2] (sv/vector-in c 1 1) [0]]) [[0] [1 1] [1 2] [2 1]]))
      (is (= (compare s m) 0))
      (is (= (compare (pop s) m) -1))
      (is (= (compare (assoc s 5 -1) m) -1)))
    (testing "into keeps the shared type and metadata"
      (let [x (into (with-meta (sv/vector-in c 1) {:a 1}) (range 5))]
        (is (sv/shared-vector? x))
        (is (= {:a 1} (meta x)))
        (is (= [1 0 1 2 3 4] x))))
    (testing "subvec"
      (let [sub (subvec s 10 20), msub (subvec m 10 20)]
        (is (= sub msub))
        (is (= msub sub))
        (is (= (hash sub) (hash msub)))
        (is (= (conj sub :x) (conj msub :x)))
        (is (= (assoc sub 0 :y) (assoc msub 0 :y)))
        (is (= (.subList ^List s 10 20) msub))))
    (testing "hash-based collections"
      (is (= :x (get {m :x} s)))
      (is (= :x (get {s :x} m)))
      (is (contains? #{m} s))
      (is (= :x (.get (let [^java.util.Map hm {m :x}] (java.util.HashMap. hm)) s)))
      (is (= (.hashCode ^Object s) (.hashCode ^Object m))))
    (testing "java.util.List"
      (let [^List l s]
        (is (= 100 (.size l)))
        (is (false? (.isEmpty l)))
        (is (.contains l 42))
        (is (not (.contains l 420)))
        (is (.containsAll l [1 2 3]))
        (is (= 42 (.indexOf l 42)))
        (is (= (vec (.toArray l)) m))
        (is (= (vec (.toArray l ^objects (make-array Object 100))) m))
        (is (= (take 3 (iterator-seq (.listIterator l 97))) [97 98 99]))
        (is (= (vec (iterator-seq (.iterator l))) m))))
    (testing "clojure.walk"
      (let [nested (sv/vector-in c 1 [2 3] [4 [5]])]
        (is (= (walk/postwalk #(if (number? %) (inc %) %) nested) [2 [3 4] [5 [6]]]))
        (is (= (walk/prewalk identity nested) nested))))
    (testing "metadata"
      (let [w (with-meta s {:k 1})]
        (is (= {:k 1} (meta w)))
        (is (nil? (meta s)))
        (is (identical? (.slabHandle ^SharedColl s) (.slabHandle ^SharedColl w)))
        (is (= {:k 1} (meta (empty w))))
        (is (= {:k 1} (meta (conj w 1))))
        (is (nil? (meta (sv/vec-in c w))))
        (is (identical? (.slabHandle ^SharedColl s) (.slabHandle ^SharedColl (sv/vec-in c w))))))))

(deftest nested-values-round-trip
  (let [m [[1 2] (list 3 4) () [] "short" "a string longer than eight" 1.5 nil true :k 'sym 22/7 3N
           (bigint 1e30) 1.5M \x #uuid "00000000-0000-0000-0000-000000000001" (java.util.Date. 0)]
        s (sv/vec-in c m)]
    (is (= m s))
    (is (= s m))
    (is (= (hash m) (hash s)))
    (is (sv/shared-vector? (nth s 0)))
    (is (list? (nth s 1)))
    (is (seq? (nth s 1)))
    (is (list? (nth s 2)))
    (is (= (map #(if (vector? %) (type s) (type %)) m) (map type (assoc s 0 [1 2]))))
    (is (= (conj (nth s 1) 0) '(0 3 4)))
    (testing "metadata and maps inside"
      (let [s (sv/vector-in c (with-meta [1 2] {:tag :inner}) {:a [1 {:b #{2}}]} (with-meta (list 1) {:l 1}))]
        (is (= {:tag :inner} (meta (nth s 0))))
        (is (= {:l 1} (meta (nth s 2))))
        (is (= [[1 2] {:a [1 {:b #{2}}]} '(1)] s))
        (is (= (hash [[1 2] {:a [1 {:b #{2}}]} '(1)]) (hash s)))))
    (testing "a shared vector nested in its own segment is stored by reference"
      (let [inner (sv/vec-in c (range 1000))
            outer (sv/vector-in c inner inner)]
        (is (= (.node ^Handle (.slabHandle ^SharedColl inner))
               (.node ^Handle (.slabHandle ^SharedColl (nth outer 1)))))))))

(deftest chunks-read-as-clojure-core's
  (testing "each chunk of the seq: its elements, nth, count, dropFirst and reduce, as clojure.core's chunks"
    (doseq [m [(vec (range 70))
               (vec (concat (range -200 -150) ["s" nil [1 2] {:a 1} 1.5 :k] (range 150 180)))
               (vec (range 5))]
            :let [s (sv/vec-in c m)]]
      ;; the reference for each chunk: clojure.core's ArrayChunk over the same elements
      ;; (this segment's leaves hold 4, PersistentVector's 32)
      (loop [a (seq s), at 0]
        (if (nil? a)
          (is (= at (count m)))
          (let [ca (chunk-first a)
                cb (clojure.lang.ArrayChunk. (object-array (subvec m at (+ at (count ca)))))]
            (is (pos? (count ca)))
            (is (= (vec (for [i (range (count cb))] (nth cb i))) (vec (for [i (range (count ca))] (nth ca i)))))
            (is (= (class (thrown (nth cb (count cb)))) (class (thrown (nth ca (count ca))))))
            (is (= (class (thrown (nth cb -1))) (class (thrown (nth ca -1)))))
            (is (= ::none (nth ca (count ca) ::none) (nth ca -1 ::none)))
            (is (= (.reduce cb conj []) (.reduce ca conj [])))
            (let [r (.reduce ca (fn [_ x] (reduced [x])) nil)]
              (is (and (reduced? r) (= [(nth ca 0)] @r)) "a reduced value comes back wrapped, for the caller to stop on"))
            (let [da (nth (iterate #(.dropFirst ^clojure.lang.IChunk %) ca) (count ca))
                  db (nth (iterate #(.dropFirst ^clojure.lang.IChunk %) cb) (count cb))]
              (is (zero? (count da)))
              (is (= (thrown (.dropFirst ^clojure.lang.IChunk db)) (thrown (.dropFirst ^clojure.lang.IChunk da)))))
            (recur (chunk-next a) (+ at (count ca))))))
      (is (= m (vec (seq s)) (into [] (iterator-seq (.iterator ^java.util.List s)))))
      (is (= (map-indexed vector m) (map-indexed vector s)) "chunked consumers")
      (let [d (drop 6 (seq s))]
        (when (seq d)
          (is (= (seq (drop 6 m)) (chunk-cons (chunk-first d) (chunk-rest d))) "a seq that starts inside a leaf chunks from there")))))
  (testing "a value other than a long is decoded once: every read of it is the same object"
    (let [s (sv/vector-in c "a string longer than eight" [1 2] {:a 1})
          q (seq s)]
      (is (every? true? (map identical? q (seq q))))
      (is (identical? (nth (chunk-first q) 1) (first (next q))))))
  (testing "vector-of chunks box each element as its type"
    (doseq [t [:long :double :int :float :short :char :byte :boolean]
            :let [m (vec (map (case t :char char :boolean odd? :double double :float float :int int :short short
                                   :byte byte identity)
                              (range 1 40)))
                  s (sv/vector-of-in c t m)]]
      (is (= m (seq s)) (str t))
      (is (= (map class m) (map class (seq s))) (str t))
      (is (= (take 4 m) (.reduce (chunk-first (seq s)) conj [])) (str t)))))

(deftest seqs-of-collections-read-back
  (testing "a stored list or lazy seq holding collections reads back, as a value and nested"
    (let [users (map (fn [i] {:id i :tags [i (inc i)]}) (range 3))
          m (slab.core/share {:users users :nested (list (list {:a 1}) [2])})]
      (is (= 0 (:id (first (:users m)))))
      (is (= [1 2] (:tags (second (:users m)))))
      (is (= {:users users :nested '(({:a 1}) [2])} m))
      (is (= (pr-str users) (pr-str (seq (map #(into (sorted-map) %) (:users m))))) "prints as a seq of maps")
      (is (= {:a 1} (first (slab.core/share (list {:a 1})))))
      (is (= [{:a 1} {:b 2}] (vec (slab.core/share (seq [{:a 1} {:b 2}])))))))
  (testing "through a named root, after the value that was read goes out of scope"
    (let [seg (Segment/anonymous (* 16 1024 1024) 5 5)]
      (slab.core/with-segment seg
        (let [a (slab.core/atom (list {:id 1} {:id 2}))
              v @a]
          (System/gc)
          (is (= '({:id 1} {:id 2}) v))
          (is (= 2 (:id (second @a)))))))))

(deftest other-segment-vectors-are-copied
  (let [other (Heap/of (Segment/anonymous (* 16 1024 1024) 5 5))
        a (sv/vec-in other (range 100))
        b (sv/vec-in c a)]
    (is (= a b))
    (is (= b a))
    (is (= (hash a) (hash b)))
    (is (not= (.heap ^Handle (.slabHandle ^SharedColl a)) (.heap ^Handle (.slabHandle ^SharedColl b))))))
