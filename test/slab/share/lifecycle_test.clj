;; Proves the lifecycle promises hold under races: a close or a release! never lets a reader see a wrong value, recover! can sweep while other threads write, any number of threads can swap!, a transient misused from two threads never touches a persistent version, a truncated file gives a clear error and can still be closed.
(ns slab.share.lifecycle-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.util :as u :refer [temp-path]])
  (:import (java.io RandomAccessFile)
           (java.util.concurrent Callable CountDownLatch Executors ForkJoinPool TimeUnit)
           (slab.mem Segment)))

(set! *warn-on-reflection* true)

(defn- clear-error?
  "A slab error a user can act on: the closed error, or ex-info with :slab/error."
  [^Throwable t]
  (or (and (instance? IllegalStateException t)
           (or (str/includes? (str (ex-message t)) "is closed") (str/includes? (str (ex-message t)) "was released")))
      (some? (:slab/error (ex-data t)))))

;; --- close racing readers and writers ---------------------------------------------------

(defn- close-under-load
  "Readers and writers in threads use a 100k-entry map and a 100k-element
  vector in seg while this thread closes it. Returns {:wrong n :unclear
  [...] :right n :errors n}."
  [seg]
  (let [n 100000
        m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i (* 2 i)])) (range n))))
        v (slab/with-segment seg (slab/vec (map #(str "element number " %) (range n))))
        wrong (atom 0) right (atom 0) errors (atom 0) unclear (atom [])
        started (CountDownLatch. 6)
        work (fn [f]
               (future
                 (.countDown started)
                 (loop [i 0]
                   (let [r (try (if (f i) :right :wrong)
                                (catch Throwable t (if (clear-error? t) :error (do (swap! unclear conj (str t)) :error))))]
                     (case r
                       :right (do (swap! right inc) (recur (inc i)))
                       :wrong (do (swap! wrong inc) (recur (inc i)))
                       :error (swap! errors inc))))))
        fs [(work (fn [i] (let [k (mod (* i 7919) n)] (= (* 2 k) (get m k)))))
            (work (fn [i] (let [k (mod (* i 104729) n)] (= (str "element number " k) (nth v k)))))
            (work (fn [i] (= (reduce + (take 100 (vals m))) (reduce + (take 100 (vals m))))))
            (work (fn [i] (let [k (mod i n)] (= (str "element number " k) (first (subvec v k (inc k)))))))
            (work (fn [i] (let [k (mod i n) m2 (assoc m k :changed)] (and (= :changed (get m2 k)) (= (* 2 k) (get m k))))))
            (work (fn [i] (let [k (mod i n) v2 (assoc v k "x")] (and (= "x" (nth v2 k)) (= (str "element number " k) (nth v k))))))]]
    (.await started)
    (Thread/sleep 300)
    (slab/close-segment! seg)
    (run! #(deref % 60000 nil) fs)
    {:wrong @wrong :unclear @unclear :right @right :errors @errors}))

(deftest close-never-lets-a-reader-see-a-wrong-value
  (doseq [[what make] [["named segment" #(slab/open-segment (temp-path "close-race") {:capacity (* 256 1024 1024)})]
                       ["anonymous segment" #(Segment/anonymous (* 256 1024 1024) 5 5)]]]
    (testing what
      (dotimes [_ 3]
        (let [r (close-under-load (make))]
          (is (zero? (long (:wrong r))) (pr-str r))
          (is (empty? (:unclear r)) (pr-str (take 3 (:unclear r))))
          (is (= 6 (:errors r)) "every thread ended with the clear closed error")
          (is (pos? (long (:right r)))))))))

(deftest a-named-segment-closed-under-load-reopens-intact
  (let [file (temp-path "close-reopen")
        seg (slab/open-segment file {:capacity (* 256 1024 1024)})
        value {:a (vec (range 1000)) :s "a root's value, long enough for a blob"}]
    (slab/set-root! seg :r value)
    (close-under-load seg)
    (let [seg (slab/open-segment file)]
      (try
        (is (= value (slab/root seg :r)))
        ;; writes cut short by the close leaked what they had not yet published
        (slab/recover! seg)
        (let [v (slab/verify seg)]
          (is (zero? (long (:unreachable v))) (pr-str v))
          (is (:counts-add-up v) (pr-str v)))
        (finally (slab/close-segment! seg))))))

;; --- reopening while a close is under way ----------------------------------------------------------

(deftest close-does-not-wait-for-the-idle-cleaner-thread
  ;; The close waits for threads inside slab's core; the thread that gives
  ;; collected handles' counts back waits for the next one inside slab's code
  ;; too, but is in no operation: a close (and so every snapshot!) must not
  ;; wait the whole drain limit (5 s) for it.
  (let [file (temp-path "close-idle-cleaner")
        seg (slab/open-segment file {:capacity (* 8 1024 1024)})]
    (slab/set-root! seg :m {:a 1})
    (is (= {:a 1} (slab/root seg :m)))   ; a handle: the cleaner thread runs
    (let [t0 (System/nanoTime)]
      (slab/close-segment! seg)
      (is (< (/ (- (System/nanoTime) t0) 1e6) 2000.0) "close-segment! waited for the idle cleaner thread"))))

(deftest reopening-the-file-while-it-closes-waits-for-the-close
  ;; The close gives this process's spans up through a private mapping; an
  ;; open of the same file meanwhile waits for it, so the new mapping's spans
  ;; are never taken for the closing one's.
  (let [file (temp-path "close-while-open")
        old (vec (for [i (range 200000)] (str "old-string-" i)))]
    (dotimes [round 3]
      (let [seg (slab/open-segment file {:capacity (* 1024 1024 1024)})
            _ (slab/set-root! seg :old (slab/with-segment seg (slab/vec old)))
            held (slab/with-segment seg (slab/vec (for [i (range 200000)] (str "held-" i))))
            closer (future (Thread/sleep (* 10 (inc round))) (slab/close-segment! seg) :closed)
            opener (future
                     (let [s2 (loop [] (let [s (try (slab/open-segment file) (catch IllegalStateException _ seg))]
                                         (if (identical? s seg) (recur) s)))]
                       [s2 (slab/with-segment s2 (vec (for [i (range 30000)] (slab/share {:i i :s (str "new-" i)}))))]))
            c (deref closer 60000 :hang)
            [s2 vs] (deref opener 60000 [nil nil])]
        (is (= :closed c))
        (is (some? s2) "the open finished")
        (when s2
          (try
            (let [more (slab/with-segment s2 (vec (for [i (range 30000)] (slab/share {:j i}))))]
              (is (every? true? (map-indexed (fn [i m] (= m {:i i :s (str "new-" i)})) vs)))
              (is (every? true? (map-indexed (fn [i m] (= m {:j i})) more)))
              (is (= old (slab/root s2 :old)))
              (let [^slab.ref.Heap heap (slab.ref.Heap/of s2)   ; the Cleaner may be shrinking a ledger: audit a still heap
                    r (atom nil)]
                (.exclusive (.gate heap) 5000000000
                            #(.withReleasesPaused (.ownership heap) (fn [] (reset! r (u/audit s2 nil nil)))))
                (is (map? @r))))
            (finally (slab/close-segment! s2))))
        (is (some? held))))
    (let [s (slab/open-segment file)]
      (try
        (let [v (slab/verify s)]
          (is (:counts-add-up v) (pr-str v))
          (is (zero? (long (:unreachable v))) (pr-str v)))
        (finally (slab/close-segment! s))))))

;; --- hazard words never run out ----------------------------------------------------------------

(defn- swap-storm
  "threads (made by start) each swap! a once; the swap function derefs
  another atom and, on its first call, sleeps, so that every swap is in
  flight at once (a sleep on every retry would make the storm quadratic,
  with a clojure.core atom too). Returns the final count and whether every
  thread finished."
  [seg start threads]
  (let [a (slab/atom seg :storm 0)
        other (slab/atom seg :other {:x 1})
        done (CountDownLatch. threads)]
    (reset! a 0)
    (dotimes [_ threads]
      (start (fn []
               (try
                 (let [first-call (volatile! true)]
                   (swap! a (fn [x]
                              (when @first-call
                                (vreset! first-call false)
                                (Thread/sleep 200))
                              (+ x (:x @other)))))
                 (finally (.countDown done))))))
    {:finished (.await done 300 TimeUnit/SECONDS) :value @a :deref @other}))

(deftest any-number-of-threads-can-swap
  (let [seg (slab/open-segment (temp-path "storm") {:capacity (* 256 1024 1024)})]
    (try
      (testing "1,000 platform threads"
        (let [r (swap-storm seg #(doto (Thread. ^Runnable %) (.start)) 1000)]
          (is (:finished r))
          (is (= 1000 (:value r)))))
      (testing "10,000 virtual threads"
        (let [r (swap-storm seg #(Thread/startVirtualThread ^Runnable %) 10000)]
          (is (:finished r))
          (is (= 10000 (:value r)))))
      (testing "nothing leaked: every pinned box went back"
        (let [v (slab/verify seg)]
          (is (zero? (long (:unreachable v))) (pr-str v))
          (is (:counts-add-up v) (pr-str v))))
      (finally (slab/close-segment! seg)))))

;; --- transients misused from two threads ----------------------------------------------------------

(deftest a-transient-raced-from-two-threads-never-touches-a-persistent-version
  (let [seg (slab/open-segment (temp-path "transient-race") {:capacity (* 256 1024 1024)})]
    (try
      (dotimes [round 6]
        (let [src (slab/with-segment seg (slab/share (into {} (map (fn [i] [i i])) (range 5000))))
              vsrc (slab/with-segment seg (slab/vec (range 5000)))
              t (transient src)
              tv (transient vsrc)
              go (CountDownLatch. 1)
              race (fn [f] (future (.await go) (try (f) :ok (catch Throwable e (class e)))))
              results (mapv race [#(dotimes [i 20000] (assoc! t (mod i 7000) :a))
                                  #(dotimes [i 20000] (dissoc! t (mod i 5000)))
                                  #(dotimes [i 20000] (conj! tv i))
                                  #(dotimes [i 20000] (when (pos? (count tv)) (pop! tv)))
                                  #(do (Thread/sleep 5) (persistent! t))
                                  #(do (Thread/sleep 5) (persistent! tv))])]
          (.countDown go)
          (let [outcomes (mapv #(deref % 60000 :timeout) results)]
            (testing (str "round " round ": each racer finished or got a clear error " outcomes)
              (is (every? #{:ok java.util.ConcurrentModificationException IllegalAccessError} outcomes))))
          (testing "the versions the transients came from are unchanged"
            (is (= (into {} (map (fn [i] [i i])) (range 5000)) src))
            (is (= (vec (range 5000)) vsrc)))))
      (System/gc)
      (Thread/sleep 500)
      (is (zero? (long (:cleanup-failures (slab/stats seg)))) "no release of a block that is not live")
      (finally (slab/close-segment! seg)))))

;; --- a file truncated under the mapping ----------------------------------------------------------------

(deftest a-truncated-file-is-a-clear-error-and-can-be-closed
  (let [file (temp-path "truncated")
        seg (slab/open-segment file {:capacity (* 64 1024 1024)})
        v (slab/with-segment seg (slab/vec (map #(str "element number " %) (range 200000))))]
    (with-open [raf (RandomAccessFile. (str file) "rw")]
      (.setLength raf 4096))
    (let [r (u/error-of #(reduce (fn [n x] (+ n (count x))) 0 v))]
      (is (= :segment-truncated (:error r)) (pr-str r))
      (is (str/includes? (str (:message r)) (str file)) "the error names the file"))
    (slab/close-segment! seg)
    (is (.isClosed seg) "the segment could still be closed")
    (is (thrown-with-msg? IllegalStateException #"is closed" (nth v 0)))))

;; --- verify names what a dead process left --------------------------------------------------------

(deftest verify-reports-a-dead-process-until-recover!
  (let [file (temp-path "stuck")
        seg (slab/open-segment file {:capacity (* 64 1024 1024)})]
    (try
      (slab/set-root! seg :m {:a (vec (range 100))})
      (let [child (u/start-child (pr-str `(do (require '[slab.core :as slab])
                                              (let [seg# (slab/open-segment ~(str file))
                                                    held# [(slab/root seg# :m) (assoc (slab/root seg# :m) :b 2)]]
                                                (println "holding" (count held#))
                                                (flush)
                                                (.halt (Runtime/getRuntime) 0)))))]
        (try
          (is (= 0 (u/await-exit child 60000)))
          (finally (u/destroy! child))))
      (testing "before recover!, the dead process's slot is reported, and its counts are accounted for"
        (let [v (slab/verify seg)]
          (is (= 1 (:stuck-slots v)) (pr-str v))
          (is (:counts-add-up v) (pr-str v))))
      (testing "recover! gives them back"
        (let [r (slab/recover! seg)]
          (is (= 1 (:dead-processes r)))
          (is (= 0 (:stuck-slots r)))
          (is (:counts-add-up r) (pr-str r))
          (is (zero? (long (:unreachable r))) (pr-str r))))
      (is (= {:a (vec (range 100))} (slab/root seg :m)))
      (finally (slab/close-segment! seg)))))

;; --- found by the hostile review ------------------------------------------------------------------

(deftest threads-opening-a-segment-a-dead-process-left-wait-for-its-recovery
  (let [file (temp-path "open-race")
        cv (fn [n] {:n n :sum (quot (* n (inc n)) 2)})
        child (u/start-child (pr-str `(do (require '[slab.core :as slab])
                                          (let [seg# (slab/open-segment ~(str file) {:capacity (* 64 1024 1024)})
                                                a# (slab/atom seg# :counter {:n 0 :sum 0})
                                                held# (mapv #(assoc @a# :k %) (range 50))]
                                            (println (count held#))
                                            (flush)
                                            (.halt (Runtime/getRuntime) 0)))))]
    (try (is (= 0 (u/await-exit child 60000))) (finally (u/destroy! child)))
    ;; four threads open at once: the first gives back what the dead process held and
    ;; sweeps; the others must not use the segment until it has finished
    (let [fs (mapv (fn [_] (future
                             (let [a (slab/atom (slab/open-segment (str file)) :counter)]
                               (dotimes [_ 200] (swap! a (fn [{:keys [n]}] (cv (inc n))))))))
                   (range 4))]
      (run! deref fs))
    (let [seg (slab/open-segment (str file))]
      (try
        (is (= (cv 800) (slab/root seg :counter)))
        (let [r (slab/recover! seg)]
          (is (zero? (long (:unreachable r))) (pr-str r))
          (is (:counts-add-up r) (pr-str r)))
        (finally (slab/close-segment! seg))))))

(deftest closing-while-another-thread-uses-a-transient-of-a-root
  (let [file (temp-path "close-transient")]
    (let [seg (slab/open-segment file {:capacity (* 64 1024 1024)})]
      (slab/set-root! seg :v (vec (range 1024)))
      (slab/close-segment! seg))
    (dotimes [_ 30]
      (let [seg (slab/open-segment file)
            base (slab/root seg :v)
            f (future (try (loop [] (persistent! (conj! (transient base) :x)) (recur))
                           (catch Throwable t (if (clear-error? t) :clear (str t)))))]
        (Thread/sleep (long (+ 2 (rand-int 15))))
        (slab/close-segment! seg)
        (is (= :clear @f))))
    (let [seg (slab/open-segment file)]
      (try
        (is (= (vec (range 1024)) (slab/root seg :v)) "the published root is intact")
        (let [r (slab/recover! seg)]   ; the transients' nodes were left to the sweep
          (is (zero? (long (:unreachable r))) (pr-str r))
          (is (:counts-add-up r) (pr-str r)))
        (finally (slab/close-segment! seg))))))

(deftest closing-a-segment-whose-file-was-replaced-leaves-the-new-file-alone
  (let [file (temp-path "replaced")
        seg1 (slab/open-segment file {:capacity (* 16 1024 1024)})
        _ (slab/set-root! seg1 :r {:old true})
        held1 (slab/root seg1 :r)
        _ (java.nio.file.Files/delete (u/path file))
        seg2 (slab/open-segment file {:capacity (* 16 1024 1024)})
        v2 (slab/with-segment seg2 (slab/vec (map #(str "element " %) (range 100))))]
    (slab/set-root! seg2 :r {:new true})
    (is (not (identical? seg1 seg2)))
    (slab/close-segment! seg1)
    (is (= (map #(str "element " %) (range 100)) v2) "the new segment's values are intact")
    (is (= {:new true} (slab/root seg2 :r)))
    (let [v (slab/verify seg2)]
      (is (zero? (long (:unreachable v))) (pr-str v))
      (is (:counts-add-up v) (pr-str v)))
    (is (some? held1))
    (slab/close-segment! seg2)))

(deftest an-atom-holding-nan-compares-and-sets-as-clojure-core
  (let [a (slab/atom ##NaN)
        c (atom ##NaN)]
    (is (= (compare-and-set! c @c 2) (compare-and-set! a @a 2)))
    (reset! a ##NaN)
    (reset! c ##NaN)
    (is (= [true 1] (let [[old new] (reset-vals! a 1)] [(Double/isNaN old) new])))
    (is (= 1 @a))))

;; --- release! racing readers ---------------------------------------------------------------------

(defn- read-until-error
  "Runs (f i) for i = 0, 1, ... in a future until it throws; counts right and
  wrong answers and keeps any error that is not a clear slab error."
  [started f]
  (future
    (.countDown ^CountDownLatch started)
    (loop [i 0 right 0 wrong 0]
      (let [r (try (if (f i) :right :wrong) (catch Throwable t t))]
        (case r
          :right (recur (inc i) (inc right) wrong)
          :wrong (recur (inc i) right (inc wrong))
          {:right right :wrong wrong :error (when-not (clear-error? r) (str r))})))))

(deftest release-never-lets-a-reader-see-a-wrong-value
  (let [seg (slab/open-segment (temp-path "release-race") {:capacity (* 256 1024 1024)})]
    (try
      (let [base (u/bytes-in-use seg)
            n 50000]
        (dotimes [_ 3]
          (let [m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i (str "v" i)])) (range n))))
                v (slab/with-segment seg (slab/vec (map #(str "element number " %) (range n))))
                started (CountDownLatch. 4)
                fs [(read-until-error started (fn [i] (let [k (mod (* i 7919) n)] (= (str "v" k) (get m k)))))
                    (read-until-error started (fn [i] (let [k (mod (* i 104729) n)] (= (str "element number " k) (nth v k)))))
                    (read-until-error started (fn [_] (= n (count (into [] (take n) (seq v)))) ))
                    (read-until-error started (fn [i] (let [k (mod i n)] (= (str "v" k) (get (assoc m -1 -1) k)))))]]
            (.await started)
            (Thread/sleep 200)
            (slab/release! m)
            (slab/release! v)
            (doseq [f fs]
              (let [r (deref f 60000 :timeout)]
                (is (map? r) "the reader ended")
                (is (zero? (long (:wrong r 0))) (pr-str r))
                (is (nil? (:error r)) (pr-str r))
                (is (pos? (long (:right r 0))) (pr-str r))))))
        (testing "versions other threads read go back once the JVM collects them"
          (is (= base (u/settle! seg base)))))
      (finally (slab/close-segment! seg)))))

(deftest release-by-its-only-user-gives-back-at-once
  (let [seg (slab/open-segment (temp-path "release-alone") {:capacity (* 64 1024 1024)})]
    (try
      (let [base (u/bytes-in-use seg)
            m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i (str "v" i)])) (range 10000))))]
        (is (< base (u/bytes-in-use seg)))
        (slab/release! m)
        (is (= base (u/bytes-in-use seg)) "no GC needed")
        (is (thrown-with-msg? IllegalStateException #"was released" (get m 1))))
      (finally (slab/close-segment! seg)))))

;; --- recover! racing writers -------------------------------------------------------------------------

(deftest recover!-sweeps-while-other-threads-write
  (let [seg (slab/open-segment (temp-path "recover-race") {:capacity (* 256 1024 1024)})
        stop (atom false)
        a (slab/atom seg :counter 0)
        writer (fn [id]
                 (future
                   (loop [m (slab/with-segment seg (slab/hash-map)) v (slab/with-segment seg (slab/vector)) i 0]
                     (if @stop
                       {:id id :i i :m m :v v}
                       (let [m (assoc m i (str "value " i)) v (conj v {:i i :s (str "s" i)})
                             m (if (zero? (mod i 7)) (dissoc m (quot i 2)) m)]
                         (swap! a inc)
                         (when (zero? (mod i 50))
                           (slab/set-root! seg (keyword (str "w" id)) {:i i :m (into {} (take 5 m))})
                           (persistent! (reduce conj! (transient v) (range 20))))
                         (recur m v (inc i)))))))
        ws (mapv writer (range 4))
        ;; reads whose keys or values are collections or symbols with metadata
        ;; compare and decode through the stored blocks: no count is taken
        keyed (slab/with-segment seg (slab/share (into {} (map (fn [i] [[i (str i)] (with-meta 'sym {:i i})])) (range 2000))))
        reader (future
                 (loop [n 0 wrong 0]
                   (if @stop
                     {:reads n :wrong wrong}
                     (let [i (mod (* n 7919) 2000)
                           v (get keyed [i (str i)])
                           ok (and (= 'sym v) (= {:i i} (meta v)) (contains? keyed [i (str i)])
                                   (= [[i (str i)] v] (vec (find keyed [i (str i)]))))]
                       (recur (inc n) (if ok wrong (inc wrong)))))))]
    (try
      (let [reports (vec (for [_ (range 20)] (do (Thread/sleep 50) (slab/recover! seg))))
            _ (reset! stop true)
            done (mapv #(deref % 60000 nil) ws)
            r @reader]
        (is (zero? (:wrong r)) (pr-str r))
        (is (pos? (:reads r)))
        (is (every? :swept reports) (pr-str (map #(select-keys % [:swept :reclaimed]) reports)))
        (is (every? zero? (map :reclaimed reports)) "nothing was leaked, so a sweep finds nothing to free")
        (doseq [{:keys [i m v]} done]
          (let [expect-m (reduce (fn [m j] (let [m (assoc m j (str "value " j))] (if (zero? (mod j 7)) (dissoc m (quot j 2)) m)))
                                 {} (range i))]
            (is (= expect-m m))
            (is (= (mapv (fn [j] {:i j :s (str "s" j)}) (range i)) v))))
        (is (= (reduce + (map :i done)) @a))
        (let [v (slab/verify seg)]
          (is (zero? (long (:unreachable v))) (pr-str v))
          (is (:counts-add-up v) (pr-str v))))
      (finally
        (reset! stop true)
        (run! #(deref % 60000 nil) ws)
        (deref reader 60000 nil)
        (slab/close-segment! seg)))))

(deftest recover!-and-verify-run-while-transients-conj-in-place
  ;; conj! of a long (or a vector-of element) into a tail the transient owns
  ;; claims the transient without passing the write gate: the sweep and
  ;; verify may walk that tail while the slot is written. Strings between
  ;; the longs take the gated path (a blob allocated, a count taken).
  (let [seg (slab/open-segment (temp-path "conj-in-place") {:capacity (* 256 1024 1024)})
        stop (atom false)
        elem (fn [^long i] (if (zero? (mod i 97)) (str "s" i) i))
        builder (fn [id]
                  (future
                    (loop [rounds 0]
                      (if @stop
                        rounds
                        (let [n (+ 100 (mod (* rounds 37) 3000))
                              v (slab/with-segment seg (persistent! (reduce conj! (transient (slab/vector)) (map elem (range n)))))
                              d (slab/with-segment seg (persistent! (reduce conj! (transient (slab/vector-of :double)) (range n))))]
                          (when-not (and (= (mapv elem (range n)) v) (= (mapv double (range n)) d))
                            (throw (ex-info "a vector built beside the sweep is wrong" {:id id :n n})))
                          (when (zero? (mod rounds 10)) (slab/set-root! seg (keyword (str "b" id)) v))
                          (slab/release! v)
                          (slab/release! d)
                          (recur (inc rounds)))))))
        bs (mapv builder (range 2))]
    (try
      (let [reports (vec (for [i (range 30)]
                           (do (Thread/sleep 20)
                               (if (even? i) (slab/recover! seg) (slab/verify seg)))))
            _ (reset! stop true)
            rounds (mapv #(deref % 60000 :hang) bs)]
        (is (every? integer? rounds) (pr-str rounds))
        (is (every? pos? (filter integer? rounds)))
        (is (every? :counts-add-up reports) (pr-str reports))
        (is (every? #(empty? (:damaged %)) reports) (pr-str (keep :damaged reports)))
        (is (every? #(zero? (long (:reclaimed % 0))) (filter :swept reports)))
        (let [v (slab/verify seg)]
          (is (zero? (long (:unreachable v))) (pr-str v))
          (is (:counts-add-up v) (pr-str v))))
      (finally
        (reset! stop true)
        (run! #(deref % 60000 nil) bs)
        (slab/close-segment! seg)))))

(deftest recover!-from-inside-an-update-does-not-wait-for-itself
  (let [seg (slab/open-segment (temp-path "recover-inside") {:capacity (* 64 1024 1024)})]
    (try
      (let [m (slab/with-segment seg (slab/hash-map :a 1))
            seen (atom nil)
            ;; the lazy seq is realized while assoc stores it, inside the update
            m2 (assoc m :b (map (fn [x] (reset! seen (slab/recover! seg)) x) [1 2 3]))]
        (is (= {:a 1 :b [1 2 3]} m2))
        (is (false? (:swept @seen)) "a sweep cannot run inside the update that asked for it")
        (is (:swept (slab/recover! seg)) "and runs once outside"))
      (finally (slab/close-segment! seg)))))

(deftest a-transient-call-nested-in-an-update-on-a-pool-thread-does-not-hold-up-recover!
  ;; The common pool's workers reset their thread-locals each time they go idle, so a
  ;; transient must not keep a thread's gate depth across calls: a call nested in another
  ;; update (here from a probe key's equals) would look top-level and wait for a pending
  ;; sweep, which waits for the update (review: recover! stalled 10 s and did not sweep).
  (let [seg (slab/open-segment (temp-path "nested-pool") {:capacity (* 64 1024 1024)})
        on-pool (fn [f] (.get (.submit (ForkJoinPool/commonPool) ^Callable f) 60 TimeUnit/SECONDS))]
    (try
      (let [m (slab/with-segment seg (slab/share {[1 2] :v :other 1}))
            t (slab/with-segment seg (transient (slab/hash-map)))
            _ (on-pool (fn [] (assoc! t :a 1)))
            _ (Thread/sleep 500)                     ; the worker goes idle
            inside (promise)
            fired (atom false)
            probe (proxy [java.util.AbstractList] []
                    (size [] (when (compare-and-set! fired false true)
                               (deliver inside true)
                               (Thread/sleep 300)      ; recover! is waiting for this update now
                               (assoc! t :b 2))
                      2)
                    (get [i] (inc (long i)))
                    (hashCode [] (hash [1 2])))
            task (future (on-pool (fn [] (dissoc m probe))))
            _ (is (true? (deref inside 10000 :timeout)))
            report (slab/recover! seg)]
        (is (= {:other 1} @task))
        (is (:swept report) "the sweep ran once the update left")
        (is (= {:a 1 :b 2} (persistent! t))))
      (finally (slab/close-segment! seg)))))

(deftest close-waits-for-a-sweep-in-progress
  (let [file (temp-path "close-sweep")
        seg (slab/open-segment file {:capacity (* 256 1024 1024)})
        value (into {} (map (fn [i] [i {:n i :s (str "entry " i)}])) (range 200000))]
    (slab/set-root! seg :m value)
    (dotimes [_ 3]
      (let [seg (slab/open-segment file)
            r (future (try (slab/recover! seg) (catch Throwable t t)))]
        (Thread/sleep 20)
        (slab/close-segment! seg)
        (let [x (deref r 60000 :timeout)]
          (is (or (map? x) (clear-error? x)) (str x)))))
    (let [seg (slab/open-segment file)]
      (try
        (is (= value (slab/root seg :m)))
        (let [v (slab/verify seg)]
          (is (:counts-add-up v) (pr-str v))
          (is (zero? (long (:unreachable v))) (pr-str v)))
        (finally (slab/close-segment! seg))))))

(deftest release!-inside-a-reduce-over-the-same-version
  (let [seg (slab/open-segment (temp-path "release-reduce") {:capacity (* 64 1024 1024)})]
    (try
      (slab/release! (slab/with-segment seg (slab/hash-map :v 1)))   ; interns :v (never freed)
      (let [base (u/bytes-in-use seg)
            churn! (fn [] (dotimes [k 50] (slab/with-segment seg (slab/vec (map #(str "victim-" k "-" %) (range 40))))))]
        (testing "a vector, and a map, released by the function reducing over them"
          (let [v (slab/with-segment seg (slab/vec (map #(str "element " %) (range 10000))))
                wrong (atom 0)]
            ;; a lazy seq reads on chunk by chunk: the next chunk after the release throws
            (is (thrown-with-msg? IllegalStateException #"was released"
                  (reduce (fn [_ [i x]]
                            (when (= i 100) (slab/release! v) (churn!))
                            (when-not (= x (str "element " i)) (swap! wrong inc)))
                          nil (map-indexed vector (seq v)))))
            (is (zero? @wrong)))
          (let [v (slab/with-segment seg (slab/vec (map #(str "element " %) (range 10000))))
                wrong (reduce (fn [[i w] x]
                                (when (= i 100) (slab/release! v) (churn!))
                                [(inc i) (if (= x (str "element " i)) w (inc w))])
                              [0 0] v)]
            (is (zero? (second wrong)))
            (is (thrown-with-msg? IllegalStateException #"was released" (nth v 1))))
          (let [m (slab/with-segment seg (slab/share (into {} (map (fn [i] [i (str "v" i)])) (range 5000))))
                wrong (reduce-kv (fn [w k x]
                                   (when (= k 100) (slab/release! m) (churn!))
                                   (if (= x (str "v" k)) w (inc w)))
                                 0 m)]
            (is (zero? wrong))))
        (testing "a vector nested in a map, the map released while the vector is reduced"
          (let [m (slab/with-segment seg (slab/share {:v (vec (map #(str "element " %) (range 5000)))}))
                wrong (reduce (fn [[i w] x]
                                (when (= i 100) (slab/release! m) (churn!))
                                [(inc i) (if (= x (str "element " i)) w (inc w))])
                              [0 0] (:v m))]
            (is (zero? (second wrong)))))
        (testing "the versions go back once collected"
          (is (= base (u/settle! seg base)))))
      (finally (slab/close-segment! seg)))))
