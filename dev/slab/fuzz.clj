(ns slab.fuzz
  "Thousands of random corruptions of a segment file (the harness the test
  slab.share.corruption-fuzz-test runs a few hundred of):

    bin/lein run -m slab.fuzz [trials] [seed]

  prints the outcome counts, by outcome and by what the corruption hit,
  and every trial that hung, threw something other than :damaged-segment,
  read back other data without any report, or changed a byte a block's
  seal covers without any report; exits 1 if there was one."
  (:require [slab.support.corruption :as c]
            [slab.support.util :as u]))

(defn -main [& [trials seed]]
  (let [trials (parse-long (or trials "5000"))
        seed (parse-long (or seed (str (System/currentTimeMillis))))
        results (u/with-temp-dir [dir "slab-fuzz"]
                  (c/run-trials dir {:trials trials :seed seed :data-seed seed :timeout-ms 60000}))
        bad (filter #(or (#{:hang :foreign :misread} (:outcome %))
                         (and (:sealed %) (= :equal (:outcome %))))
                    results)]
    (println "seed" seed "trials" (count results))
    (println "outcomes:" (into (sorted-map) (frequencies (map :outcome results))))
    (println "by field:" (into (sorted-map) (frequencies (map (juxt :field :outcome) results))))
    (println "by block type:" (into (sorted-map) (frequencies (map (juxt :type :outcome) results))))
    (println "inside a seal's covered range:" (into (sorted-map) (frequencies (map :outcome (filter :sealed results)))))
    (doseq [t bad] (prn (c/describe t)))
    (flush)
    (shutdown-agents)
    (System/exit (if (seq bad) 1 0))))
