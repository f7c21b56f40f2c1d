(ns attack.abuse
  (:require [slab.core :as slab])
  (:import (slab.mem Segment Allocator HeapAudit)))

(defn try* [label f]
  (let [r (try {:ok (f)}
               (catch Throwable t {:ex (.getName (class t)) :msg (.getMessage t) :data (ex-data t)}))]
    (println label "=>" (pr-str r))
    r))

(defn audit [^Segment seg label]
  (try* (str "AUDIT " label) #(str (HeapAudit/check seg))))

(defn -main [& _]
  (let [f "/dev/shm/attack-abuse.slab"
        _ (.delete (java.io.File. f))
        seg (slab/open-segment f {:capacity (* 16 1024 1024)})
        ^Allocator al (.allocator seg)
        base (.bytesInUse (.stats al))
        cap (.capacity seg)
        small (.allocate al 40 1)
        large (.allocate al 100000 1)]
    (println "base" base "small" small "large" large)
    (doseq [o [0 -16 8 16 cap (- cap 16) (* 2 cap) Long/MAX_VALUE Long/MIN_VALUE (+ small 1) (+ small 8) (+ small 16)
               (+ large 16) (+ large 16384) (+ large 65536) (- small 64)]]
      (try* (str "free " o) #(.free al o)))
    (audit seg "after garbage frees")
    ;; span header words as blocks
    (let [sp (- small (mod (- small 0) 16384))]
      (doseq [k [0 16 32 48]] (try* (str "free span+" k) #(.free al (+ sp k)))))
    (try* "free small" #(.free al small))
    (try* "double free small" #(.free al small))
    (try* "free large" #(.free al large))
    (try* "double free large" #(.free al large))
    (audit seg "after double frees")
    ;; retain/release with garbage
    (doseq [o [0 -8 cap small large (+ small 3)]]
      (try* (str "retain " o) #(.retain al o))
      (try* (str "release " o) #(.release al o)))
    ;; negative / huge requests
    (doseq [p [-1 -100 Long/MIN_VALUE Long/MAX_VALUE (inc cap) cap (* 15 1024 1024)]]
      (try* (str "allocate " p) #(.allocate al p 1))
      (try* (str "allocateIfRoom " p) #(.allocateIfRoom al p 1)))
    ;; bad types
    (doseq [t [-1 255 256 1000 Integer/MAX_VALUE]]
      (let [r (try* (str "allocate type " t) #(.allocate al 40 t))]
        (when-let [o (:ok r)]
          (println "  header" (Long/toHexString (.getLong seg o)) "live?" (.isLive al o))
          (try* (str "  free it") #(.free al o)))))
    (audit seg "after bad types")
    ;; crafted interior header: a block whose payload holds a word that looks like a live header of its own class
    (let [o (.allocate al 56 1)                      ; class 3 (64 bytes)
          h (.getLong seg o)]
      (.putLong seg (+ o 16) h)
      (try* "free interior crafted" #(.free al (+ o 16)))
      (audit seg "after interior free")
      (let [a (.allocate al 56 1) b (.allocate al 56 1)]
        (println "next allocs" a b "interior was" (+ o 16) "block" o)))
    (println "in use" (.bytesInUse (.stats al)) "base" base)
    (slab/close-segment! seg)
    (.delete (java.io.File. f))
    (shutdown-agents)))
