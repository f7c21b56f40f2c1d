(ns attack.killer
  (:import (java.io BufferedReader InputStreamReader File)
           (java.util Random)))

(defn java-cmd [& args]
  (into [(str (System/getProperty "java.home") "/bin/java") "-XX:+UseG1GC" "-Xss4m" "-cp" (System/getProperty "java.class.path")
         "clojure.main" "-m"] args))

(defn run-check [file]
  (let [p (.start (doto (ProcessBuilder. ^java.util.List (java-cmd "attack.check" file "attack.kchild/check-roots")) (.redirectErrorStream true)))
        out (slurp (.getInputStream p))]
    (.waitFor p)
    [(.exitValue p) out]))

(defn bad? [out]
  (or (re-find #"AUDIT FAILED|BROKEN|Exception|:unreachable [1-9]|:counts-add-up false|:stuck-slots [1-9]" out)
      (not (re-find #"alloc-after ok true true" out))))

(defn -main [rounds cap nthreads max-ms mode]
  (let [rounds (parse-long rounds) max-ms (parse-long max-ms)
        file (str "/dev/shm/attack-kill-" (System/nanoTime) ".slab")
        rnd (Random.)
        damaged (atom 0)]
    (dotimes [round rounds]
      (let [p (.start (doto (ProcessBuilder. ^java.util.List (java-cmd "attack.kchild" file cap nthreads mode)) (.redirectErrorStream true)))
            out (BufferedReader. (InputStreamReader. (.getInputStream p)))
            child-out (StringBuilder.)]
        (loop [] (let [l (.readLine out)] (when (and l (not= l "working")) (.append child-out l) (recur))))
        (future (loop [] (when-let [l (.readLine out)] (locking child-out (.append child-out l) (.append child-out "\n")) (recur))))
        (Thread/sleep (.nextInt rnd (int max-ms)))
        (.destroyForcibly p)
        (.waitFor p)
        (let [[rc o] (run-check file)
              b (or (bad? o) (not= rc 0))]
          (when b (swap! damaged inc))
          (println (format "round %3d: %s" round (if b (str "DAMAGE rc=" rc "\n" o "\nCHILD:\n" (locking child-out (str child-out))) "ok")))
          (when (re-find #"CHILD-" (locking child-out (str child-out)))
            (println "child output:" (locking child-out (str child-out))))
          (flush))))
    (println rounds "rounds," @damaged "damaged")
    (.delete (File. file))
    (shutdown-agents)
    (System/exit 0)))
