(ns slab.bench.alloc-bench
  "Small-block throughput: slab's Allocator (allocate + free of 16..128-byte
  payloads in a shared segment) side by side with allocating byte[] of the
  same sizes on the heap, with 1 and 2 threads.

  Both sides run the same loop: each thread keeps a ring of the last 64
  blocks; every operation replaces the oldest one (slab: free it; heap: drop
  it for the GC) with a new block of the next size from a fixed random
  sequence, and writes into the new block. The ring keeps heap arrays alive
  briefly, so escape analysis cannot remove the allocation.

    bin/lein run -m slab.bench.alloc-bench               ; full run (~1 min)
    bin/lein run -m slab.bench.alloc-bench --quick       ; smoke run
    bin/lein run -m slab.bench.alloc-bench --primitives  ; also time the atomics an
                                                         ; allocate+free pair is made of"
  (:require [slab.bench.harness :as h])
  (:import [java.util Random]
           [slab.mem Allocator AllocatorDescriptor Segment]))

(set! *warn-on-reflection* true)
(set! *unchecked-math* :warn-on-boxed)

(def ^:private ^:const ring-size 64)
(def ^:private ^:const size-count 1024)           ; a power of two

(defn- payload-sizes
  "A fixed random sequence of payload sizes in 16..128 bytes."
  ^ints []
  (let [r (Random. 42) a (int-array size-count)]
    (dotimes [i size-count] (aset a i (+ 16 (.nextInt r 113))))
    a))

(defn- slab-body [^Segment s ^ints sizes]
  (let [a (.allocator s)
        payload AllocatorDescriptor/BLOCK_HEADER_LENGTH]
    (fn ^long [^long _thread ^long n]
      (let [ring (long-array ring-size)]
        (loop [i 0 acc 0]
          (if (< i n)
            (let [slot (bit-and i (dec ring-size))
                  old (aget ring slot)]
              (when-not (zero? old) (.free a old))
              (let [off (.allocate a (aget sizes (bit-and i (dec size-count))) 0)]
                (.putLong s (+ off payload) i)
                (aset ring slot off)
                (recur (inc i) (bit-xor acc off))))
            (do (dotimes [j ring-size]
                  (let [o (aget ring j)] (when-not (zero? o) (.free a o))))
                acc)))))))

(defn- heap-body [^ints sizes]
  (fn ^long [^long _thread ^long n]
    (let [ring (object-array ring-size)]
      (loop [i 0 acc 0]
        (if (< i n)
          (let [b (byte-array (aget sizes (bit-and i (dec size-count))))]
            (aset b 0 (unchecked-byte i))
            (aset ring (bit-and i (dec ring-size)) b)
            (recur (inc i) (+ acc (alength b))))
          acc)))))

(defn- primitive-benches
  "Single-thread costs of the segment operations the allocator is built
  from, on one uncontended word, to explain where its time goes."
  [^Segment s]
  (let [a (.allocator s)
        off (+ (.allocate a 64 0) AllocatorDescriptor/BLOCK_HEADER_LENGTH)]
    [{:name "segment plain write+read" :threads 1
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 acc 0]
                (if (< i n)
                  (do (.putLong s off i) (recur (inc i) (+ acc (.getLong s (+ off 8)))))
                  acc)))}
     {:name "segment volatile read + CAS" :threads 1
      :body (fn ^long [^long _ ^long n]
              (dotimes [_ n] (let [v (.getLongVolatile s off)] (.casLong s off v (inc v))))
              (.getLong s off))}
     {:name "segment getAndAdd" :threads 1
      :body (fn ^long [^long _ ^long n]
              (dotimes [_ n] (.getAndAddLong s off 1))
              (.getLong s off))}
     {:name "slab allocate+free, no ring" :threads 1
      :body (fn ^long [^long _ ^long n]
              (loop [i 0 acc 0]
                (if (< i n)
                  (let [o (.allocate a 40 0)] (.free a o) (recur (inc i) (bit-xor acc o)))
                  acc)))}]))

(defn -main [& args]
  (let [quick? (some #{"--quick"} args)
        opts (if quick?
               {:warmup-ms 500 :rounds 3 :round-ms 200}
               {:warmup-ms 4000 :rounds 10 :round-ms 500})
        sizes (payload-sizes)]
    (println "slab allocator vs heap byte[]: 16..128-byte blocks, allocate + write + free")
    (println (h/environment))
    (with-open [s (Segment/anonymous (* 1024 1024 1024) Segment/DEFAULT_MAP_BITS Segment/DEFAULT_VEC_BITS)]
      (let [benches [{:name "heap byte[]" :threads 1 :body (heap-body sizes)}
                     {:name "slab allocate+free" :threads 1 :body (slab-body s sizes)}
                     {:name "heap byte[]" :threads 2 :body (heap-body sizes)}
                     {:name "slab allocate+free" :threads 2 :body (slab-body s sizes)}]
            results (h/run-suite benches opts)
            by-key (into {} (map (juxt (juxt :name :threads) identity) results))]
        (println)
        (println (h/markdown-table results
                                   :baseline-of (fn [r] (when-not (= "heap byte[]" (:name r))
                                                          (by-key ["heap byte[]" (:threads r)])))))
        (let [st (.stats ^Allocator (.allocator s))]
          (println)
          (println (format "segment after the run: %d bytes in use, frontier %d KiB"
                           (.bytesInUse st) (quot (.frontier st) 1024))))
        (when (some #{"--primitives"} args)
          (println)
          (println "The operations an allocate+free pair is made of (one thread, one word):")
          (println (h/markdown-table (h/run-suite (primitive-benches s) (assoc opts :rounds 5)))))))
    (shutdown-agents)))
