(ns slab.mem.free-memory-test
  "Proves FreeMemory, which bounds persistent!'s layout copies, reads a
  plausible figure on Linux: more than nothing, no more than the machine has."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is]])
  (:import (java.nio.file Files Path)
           (slab.mem FreeMemory)))

(defn- mem-total-bytes []
  (some (fn [line] (when (str/starts-with? line "MemTotal:")
                     (* 1024 (Long/parseLong (second (str/split (str/trim line) #"\s+"))))))
        (Files/readAllLines (Path/of "/proc/meminfo" (make-array String 0)))))

(deftest free-memory-is-within-the-machine
  (if-let [total (when (.exists (io/file "/proc/meminfo")) (mem-total-bytes))]
    (let [free (FreeMemory/bytes)]
      (is (pos? free))
      (is (<= free total) (str free " bytes free of " total)))
    (is (= Long/MAX_VALUE (FreeMemory/bytes)) "unknown without /proc")))
