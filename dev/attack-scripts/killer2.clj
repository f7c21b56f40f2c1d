(ns attack.killer2
  (:require [attack.killer :as k])
  (:import (java.io BufferedReader InputStreamReader File)
           (java.util Random)))

(defn start [file cap nthreads mode]
  (let [p (.start (doto (ProcessBuilder. ^java.util.List (k/java-cmd "attack.kchild" file cap nthreads mode)) (.redirectErrorStream true)))
        out (BufferedReader. (InputStreamReader. (.getInputStream p)))
        sb (StringBuilder.)]
    (loop [] (let [l (.readLine out)] (when (and l (not= l "working")) (.append sb l) (recur))))
    (future (loop [] (when-let [l (.readLine out)] (locking sb (.append sb l) (.append sb "\n")) (recur))))
    [p sb]))

(defn -main [rounds cap nthreads max-ms mode]
  (let [rounds (parse-long rounds) max-ms (parse-long max-ms)
        file (str "/dev/shm/attack-kill2-" (System/nanoTime) ".slab")
        rnd (Random.)
        damaged (atom 0)]
    (dotimes [round rounds]
      (let [[pa sa] (start file cap nthreads mode)
            [pb sb] (start file cap nthreads mode)]
        (Thread/sleep (.nextInt rnd (int max-ms)))
        (.destroyForcibly pa) (.waitFor pa)
        (Thread/sleep (+ 1000 (.nextInt rnd (int max-ms))))   ; B goes on, recovers A
        (.destroyForcibly pb) (.waitFor pb)
        (let [[rc o] (k/run-check file)
              b (or (k/bad? o) (not= rc 0))
              co (str (locking sa (str sa)) (locking sb (str sb)))]
          (when b (swap! damaged inc))
          (println (format "round %3d: %s" round (if b (str "DAMAGE rc=" rc "\n" o) "ok")))
          (when (re-find #"CHILD-" co) (println "child output:" (subs co 0 (min 3000 (count co)))))
          (flush))))
    (println rounds "rounds," @damaged "damaged")
    (.delete (File. file))
    (shutdown-agents)
    (System/exit 0)))
