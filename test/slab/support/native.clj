;; Building and running the C reader (src/c) from tests (not tests themselves): make, slabread runs with a timeout, and reading its EDN back.
(ns slab.support.native
  "The C side of the tests: builds src/c with make once per JVM, runs
  src/c/build/slabread as a child process with a timeout, and reads its
  output back with clojure.edn (an #inst with nine fraction digits is a
  java.time.Instant, any other a java.util.Date, as slabread prints them).

  Without a C compiler the tests that need one fail with a message that
  says so (.ci/run installs gcc and make); they never pass silently."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [is]])
  (:import (java.time Instant)
           (java.util.concurrent TimeUnit)))

(set! *warn-on-reflection* true)

(def src-dir "src/c")
(def slabread (str src-dir "/build/slabread"))
(def slabread-asan (str src-dir "/build/asan/slabread"))

(defn- sh
  "Runs a command, returns {:exit :out} (stdout and stderr together)."
  [& args]
  (try
    (let [p (-> (ProcessBuilder. ^java.util.List (vec args)) (.redirectErrorStream true) (.start))
          out (slurp (.getInputStream p))]
      {:exit (.waitFor p) :out out})
    (catch java.io.IOException e {:exit -1 :out (str e)})))

(def ^:private build
  (delay
    (let [{:keys [exit out]} (sh "make" "-C" src-dir)]
      (if (zero? (long exit))
        {:ok true}
        {:ok false :why (str "make -C " src-dir " failed (a C compiler and make are needed: "
                             "apt-get install gcc make, as .ci/run does):\n" out)}))))

(def ^:private asan-build
  (delay (zero? (long (:exit (sh "make" "-C" src-dir "asan"))))))

(defn built?
  "Builds the C code once; true if it built. If not, records a failing
  assertion that says why, so a missing compiler is a failure, not a skip."
  []
  (let [{:keys [ok why]} @build]
    (is ok why)
    ok))

(defn asan?
  "Whether the AddressSanitizer build (make asan) could be made here."
  []
  (and (:ok @build) @asan-build))

(defn run
  "Runs program with args; {:exit :out :err :timed-out}. A run that takes
  longer than timeout-ms is killed and reported as timed out."
  [program args & {:keys [timeout-ms env] :or {timeout-ms 60000}}]
  (let [pb (ProcessBuilder. ^java.util.List (into [program] (map str) args))
        _ (doseq [[k v] env] (.put (.environment pb) k v))
        p (.start pb)
        ;; a process killed on timeout has its streams closed under the readers
        drain (fn [in] (future (try (slurp in :encoding "UTF-8") (catch java.io.IOException _ ""))))
        out (drain (.getInputStream p))
        err (drain (.getErrorStream p))
        done (.waitFor p (long timeout-ms) TimeUnit/MILLISECONDS)]
    (when-not done (.waitFor (.destroyForcibly p)))
    {:exit (.exitValue p) :out @out :err @err :timed-out (not done)}))

(defn slabread!
  "Runs slabread on file and root (a keyword or a name) with extra args first."
  [file root & args]
  (run slabread (concat args [file (if (keyword? root) (subs (str root) 1) root)])))

(defn read-inst
  "The #inst reader for slabread's output: nine fraction digits make an Instant, any other a Date."
  [^String s]
  (let [i (Instant/parse s)]
    (if (re-find #"\.\d{9}Z$" s) i (java.util.Date/from i))))

(defn read-edn
  "Reads slabread's output (one value) back."
  [s]
  (edn/read-string {:readers {'inst read-inst}} s))

(defn start
  "Starts slabread with args as a child process; returns the Process."
  ^Process [& args]
  (.start (ProcessBuilder. ^java.util.List (into [slabread] (map str) args))))

(defn first-line
  "The first line the process prints (waits for it)."
  [^Process p]
  (.readLine ^java.io.BufferedReader (io/reader (.getInputStream p) :encoding "UTF-8")))

(defn kill-9!
  "Kills the process as kill -9 does and waits until it is gone (reaped, so its pid reads as dead)."
  [^Process p]
  (.destroyForcibly p)
  (.waitFor p)
  (.exitValue p))

(defn one-line?
  "Whether s is exactly one line of text (an error message)."
  [s]
  (let [lines (str/split-lines (str/trim-newline (str s)))]
    (and (= 1 (count lines)) (not (str/blank? (first lines))))))
