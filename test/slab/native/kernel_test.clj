;; Proves a C function called through the FFM Linker reads a vector-of's leaves in place (slab/reduce-leaves): the sum it computes equals reduce's, the leaves it is handed are read-only and cover every element once, in order.
(ns slab.native.kernel-test
  (:require [clojure.java.io :as io]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.native :as native]
            [slab.support.util :as u])
  (:import (java.lang.foreign Arena FunctionDescriptor Linker Linker$Option MemoryLayout MemorySegment
                              SymbolLookup ValueLayout)
           (java.lang.invoke MethodHandle)))

(set! *warn-on-reflection* true)

(def ^:private kernel-source
  "#include <stddef.h>
double sum_doubles(const double *x, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += x[i]; return s; }
long long sum_ints(const int *x, size_t n) { long long s = 0; for (size_t i = 0; i < n; i++) s += x[i]; return s; }
")

(defn- compile-kernel!
  "Builds the kernel as a shared library in dir; its path, or nil (with a failing assertion) without a compiler."
  [dir]
  (let [src (io/file (str dir) "kernel.c")
        lib (io/file (str dir) "libkernel.so")]
    (spit src kernel-source)
    (let [r (native/run "cc" ["-O2" "-shared" "-fPIC" "-o" (str lib) (str src)])]
      (is (zero? (long (:exit r))) (str "cc failed: " (:err r)))
      (when (zero? (long (:exit r))) (str lib)))))

(defn- downcall ^MethodHandle [lib fn-name ret]
  (.downcallHandle (Linker/nativeLinker)
                   (.get (.find (SymbolLookup/libraryLookup ^String lib (Arena/global)) fn-name))
                   (FunctionDescriptor/of ret (into-array MemoryLayout [ValueLayout/ADDRESS ValueLayout/JAVA_LONG]))
                   ^"[Ljava.lang.foreign.Linker$Option;" (make-array Linker$Option 0)))

(deftest a-c-kernel-sums-leaves-in-place
  (when (native/built?)
    (u/with-temp-dir [dir "slab-kernel"]
      (when-let [lib (compile-kernel! dir)]
        (let [sum-doubles (downcall lib "sum_doubles" ValueLayout/JAVA_DOUBLE)
              sum-ints (downcall lib "sum_ints" ValueLayout/JAVA_LONG)
              n 100003
              ;; integral values: every order of summing them gives the same double
              dv (apply slab/vector-of :double (range n))
              iv (apply slab/vector-of :int (map #(- % 50000) (range n)))]
          (testing "doubles"
            (is (== (reduce + 0.0 dv)
                    (slab/reduce-leaves (fn [^double acc ^MemorySegment leaf]
                                          (+ acc (double (.invokeWithArguments sum-doubles
                                                                               (object-array [leaf (quot (.byteSize leaf) 8)])))))
                                        0.0 dv))))
          (testing "ints"
            (is (== (reduce + 0 iv)
                    (slab/reduce-leaves (fn [^long acc ^MemorySegment leaf]
                                          (+ acc (long (.invokeWithArguments sum-ints
                                                                             (object-array [leaf (quot (.byteSize leaf) 4)])))))
                                        0 iv))))
          (testing "the leaves cover every element once, in order, and are read-only"
            ;; read inside f: a leaf's segment is valid only while f runs
            (let [leaves (slab/reduce-leaves (fn [acc ^MemorySegment leaf]
                                               (conj acc [(.isReadOnly leaf) (.toArray leaf ValueLayout/JAVA_DOUBLE)]))
                                             [] dv)
                  seen (into [] (mapcat second) leaves)]
              (is (every? first leaves))
              (is (= (count seen) n))
              (is (= (mapv double (range n)) seen) "every element once, in order")))
          (testing "reduced stops the walk"
            (is (= 2 (slab/reduce-leaves (fn [acc _] (if (= acc 1) (reduced 2) (inc acc))) 0 dv))))
          (testing "only a vector-of has leaves of numbers"
            (is (= :bad-argument (:slab/error (ex-data (try (slab/reduce-leaves conj [] (slab/vector 1.0))
                                                            (catch clojure.lang.ExceptionInfo e e))))))))))))

(deftest a-leaf-kept-past-reduce-leaves-cannot-be-read
  ;; A leaf's segment that f keeps must not read the leaf's block once it is
  ;; freed and reused: it is closed when reduce-leaves returns.
  (let [seg (u/anonymous (* 64 1024 1024))]
    (slab/with-segment seg
      (let [v (apply slab/vector-of :double (range 64))
            kept (slab/reduce-leaves (fn [acc ^MemorySegment leaf]
                                       (is (<= 0.0 (.get leaf ValueLayout/JAVA_DOUBLE 0) 63.0) "readable while f runs")
                                       (conj acc leaf))
                                     [] v)]
        (slab/release! v)
        (let [others (doall (repeatedly 50 #(apply slab/vector-of :double (repeat 64 -1.0))))]
          (doseq [^MemorySegment leaf kept]
            (is (thrown? IllegalStateException (.get leaf ValueLayout/JAVA_DOUBLE 0))))
          (run! slab/release! others))))))
