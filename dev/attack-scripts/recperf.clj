(ns attack.recperf
  (:require [slab.core :as slab]))

(defmacro timed [label & body]
  `(let [t# (System/nanoTime) r# (do ~@body)]
     (println ~label (format "%.1f ms" (/ (- (System/nanoTime) t#) 1e6)))
     r#))

(defn build [seg n off]
  (slab/with-segment seg (persistent! (reduce #(conj! %1 (str "string-number-" (+ off %2))) (transient (slab/vector)) (range n)))))

(defn -main [path n recover?]
  (.delete (java.io.File. ^String path))
  (let [n (parse-long n)
        seg (slab/open-segment path {:capacity "4g"})
        m (timed "build 1" (build seg n 0))
        m2 (timed "dissoc every other" (persistent! (reduce #(assoc! %1 %2 nil) (transient m) (range 0 n 2))))]
    (slab/release! m)
    (println "stats" (select-keys (slab/stats seg) [:bytes-in-use :high-water]))
    (when (= recover? "true") (println (timed "recover!" (slab/recover! seg))))
    (let [m3 (timed (str "build 2 (after recover=" recover? ")") (build seg (quot n 2) n))]
      (println (count m2) (count m3)))
    (slab/close-segment! seg)
    (.delete (java.io.File. ^String path))
    (shutdown-agents)))
