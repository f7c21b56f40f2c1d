(ns attack.fraguni
  (:import (slab.mem Segment SizeClasses)
           (java.util ArrayList SplittableRandom)))

(defn churn [dist seed steps]
  (with-open [s (Segment/anonymous (* 256 1048576) 5 5)]
    (let [a (.allocator s)
          rnd (SplittableRandom. seed)
          budget (* 128 1048576) maxb (* 16 1048576)
          live (ArrayList.) total (long-array 1) fails (atom [])]
      (dotimes [step steps]
        (let [n (case dist
                  :uniform (+ 8 (.nextLong rnd (- maxb 8)))
                  :bimodal (if (< (.nextDouble rnd) 0.9) (+ 8 (.nextInt rnd 200)) (+ (quot maxb 2) (.nextLong rnd (quot maxb 2))))
                  :pages (+ 16385 (.nextInt rnd 100000)))
              size (SizeClasses/sizeOf (SizeClasses/classFor (+ n 8)))]
          (while (and (pos? (.size live)) (> (+ (aget total 0) size) budget))
            (let [i (.nextInt rnd (.size live)) [off sz] (.get live i)]
              (.set live i (.get live (dec (.size live)))) (.remove live (int (dec (.size live))))
              (.free a (long off)) (aset total 0 (- (aget total 0) (long sz)))))
          (let [off (.allocateIfRoom a n 0)]
            (if (pos? off)
              (do (.add live [off size]) (aset total 0 (+ (aget total 0) size)))
              (swap! fails conj {:step step :n n :live (aget total 0)})))))
      (println dist seed "failures" (count @fails) (take 2 @fails)))))

(defn -main [& _]
  (doseq [d [:uniform :bimodal :pages] seed [1 2 3]] (churn d seed 20000))
  (shutdown-agents))
