(ns slab.share.read-only-test
  "Proves that open-segment {:read-only true} serves roots and collections,
  refuses every write API with :read-only, never changes a byte of the file,
  works on a 0444 file in a read-only directory and on a read-only file
  system, and refuses a file a live process (this one or another) writes."
  (:require [clojure.test :refer [deftest is testing]]
            [slab.core :as slab]
            [slab.support.native :as native]
            [slab.support.util :as tu])
  (:import [java.nio.file Files LinkOption Path]
           [java.nio.file.attribute PosixFilePermissions]
           [java.security MessageDigest]))

(set! *warn-on-reflection* true)

(def ^:private value {:m (into {} (map (fn [i] [i (str "entry number " i " with a long string")])) (range 3000))
                      :v (vec (range 5000))
                      :s #{:a :b "c"}})

(defn- write-segment!
  "A closed segment at p holding `value` under :value, and a few other roots."
  [p]
  (let [seg (slab/open-segment p {:capacity "64m"})]
    (slab/set-root! seg :value value)
    (slab/set-root! seg :n 42)
    (slab/atom seg :counter 0)
    (slab/close-segment! seg)))

(defn- digest ^String [^Path p]
  (let [md (MessageDigest/getInstance "SHA-256")]
    (apply str (map #(format "%02x" %) (.digest md (Files/readAllBytes p))))))

(defn- chmod! [^Path p ^String perms]
  (Files/setPosixFilePermissions p (PosixFilePermissions/fromString perms)))

(defn- write-attempts
  "Every write API, applied to read-only segment ro; name -> thunk."
  [ro]
  (let [m (slab/root ro :value)
        counter (slab/atom ro :counter)]
    {"set-root! of a new root" #(slab/set-root! ro :new 1)
     "set-root! of an existing root" #(slab/set-root! ro :n 43)
     "reset! of an atom" #(reset! counter 1)
     "swap! of an atom" #(swap! counter inc)
     "swap-vals! of an atom" #(swap-vals! counter inc)
     "compare-and-set! of an atom" #(compare-and-set! counter 0 1)
     "an atom on a new root" #(slab/atom ro :fresh 1)
     "an anonymous atom" #(slab/with-segment ro (slab/atom 1))
     "hash-map in the segment" #(slab/with-segment ro (slab/hash-map :a 1))
     "an empty hash-set in the segment" #(slab/with-segment ro (slab/hash-set))
     "vector in the segment" #(slab/with-segment ro (slab/vector 1 2))
     "vec in the segment" #(slab/with-segment ro (slab/vec [1 2]))
     "share into the segment" #(slab/share {:a 1} {:segment ro})
     "assoc on a map read from it" #(assoc (:m m) -1 "new")
     "conj on a vector read from it" #(conj (:v m) 1)
     "transient of a map read from it" #(transient (:m m))
     "transient of a vector read from it" #(transient (:v m))
     "into a set read from it" #(into (:s m) [:z])
     "recover!" #(slab/recover! ro)
     "flush!" #(slab/flush! ro)}))

(deftest a-read-only-segment-serves-reads-and-refuses-every-write
  (tu/with-temp-dir [dir "read-only"]
    (let [p (.resolve dir "seg.slab")]
      (write-segment! p)
      (let [before (digest p)
            ro (slab/open-segment p {:read-only true :verify :full})]
        (try
          (is (.isReadOnly (.memory ro)) "the file is mapped READ_ONLY")
          (is (= #{:value :n :counter} (set (slab/roots ro))))
          (is (= value (slab/root ro :value)))
          (is (= 42 (slab/root ro :n)))
          (is (nil? (slab/root ro :never-set)))
          (is (= 0 @(slab/atom ro :counter)) "an atom on an existing root reads")
          (is (= (get-in value [:m 7]) (get-in (slab/root ro :value) [:m 7])))
          (is (= (reduce + (:v value)) (reduce + (:v (slab/root ro :value)))))
          (is (= (:m value) (dissoc (:m (slab/root ro :value)) -5))
              "an update that changes nothing gives a value, still readable")
          (is (:counts-add-up (slab/verify ro)))
          (doseq [[what f] (write-attempts ro)]
            (let [r (tu/error-of f)]
              (is (= :read-only (:error r)) (str what ": " r))))
          (testing "release! of a read-only version is safe"
            (let [v (slab/root ro :value)]
              (slab/release! v)
              (slab/release! v)
              (is (thrown? IllegalStateException (count v)))
              (is (= value (slab/root ro :value)) "the root reads on")))
          (is (zero? (long (:live-versions (slab/stats ro)))) "a read-only reader holds no counts")
          (let [again (.resolve dir "again.slab")]
            (slab/snapshot! ro again)
            (let [ro2 (slab/open-segment again {:read-only true :verify :full})]
              (is (= value (slab/root ro2 :value)) "a read-only segment can be snapshotted")
              (slab/close-segment! ro2)))
          (is (identical? ro (slab/open-segment p {:read-only true})) "opening it again gives the same segment")
          (is (= :segment-in-use (:error (tu/error-of #(slab/open-segment p)))) "no writer while it is open read-only")
          (finally (slab/close-segment! ro)))
        (is (= before (digest p)) "not a byte of the file changed"))
      (let [rw (slab/open-segment p)]
          (is (= value (slab/root rw :value)) "it opens for writing once the reader closed it")
          (is (= :segment-in-use (:error (tu/error-of #(slab/open-segment p {:read-only true}))))
              "no read-only opening while this process writes it")
          (slab/close-segment! rw)))))

(deftest read-only-opening-works-on-a-0444-file-in-a-read-only-directory
  (tu/with-temp-dir [dir "read-only-perms"]
    (let [sub (.resolve dir "locked")
          p (.resolve sub "seg.slab")
          snap (.resolve sub "snap.slab")]
      (Files/createDirectory sub (make-array java.nio.file.attribute.FileAttribute 0))
      (write-segment! p)
      (let [seg (slab/open-segment p)]
        (slab/snapshot! seg snap)
        (slab/close-segment! seg))
      (chmod! p "r--r--r--")
      (chmod! snap "r--r--r--")
      (chmod! sub "r-xr-xr-x")
      (try
        (doseq [f [p snap]]
          (testing (str f)
            (let [before (digest f)
                  ro (slab/open-segment f {:read-only true})]
              (try
                (is (= value (slab/root ro :value)))
                (is (.isReadOnly (.memory ro)))
                ;; root ignores file modes; the mapping still refuses, through slab's own error
                (is (= :read-only (:error (tu/error-of #(slab/set-root! ro :n 0)))))
                (finally (slab/close-segment! ro)))
              (is (= before (digest f))))))
        (when-not (= "root" (System/getProperty "user.name"))
          (is (some? (:error (tu/error-of #(slab/open-segment p)))) "a writer cannot open a 0444 file"))
        (finally
          (chmod! sub "rwxr-xr-x")
          (chmod! p "rw-r--r--")
          (chmod! snap "rw-r--r--"))))))

(deftest read-only-opening-works-on-a-read-only-file-system
  (tu/with-temp-dir [dir "read-only-fs"]
    (if-not (tu/mount-tmpfs! dir "64m")
      (is true "skipped: mounting a tmpfs needs root")
      (try
        (let [snap (.resolve dir "snap.slab")
              src (.resolve dir "src.slab")]
          (write-segment! src)
          (let [seg (slab/open-segment src)]
            (slab/snapshot! seg snap)
            (slab/close-segment! seg))
          (let [{:keys [exit out]} (let [pr (.start (doto (ProcessBuilder. ^java.util.List ["mount" "-o" "remount,ro" (str dir)])
                                                      (.redirectErrorStream true)))]
                                     {:out (slurp (.getInputStream pr)) :exit (.waitFor pr)})]
            (is (zero? (long exit)) (str "remount read-only: " out)))
          (is (some? (:error (tu/error-of #(slab/open-segment src)))) "the file system refuses a writer")
          (doseq [f [src snap]]
            (let [ro (slab/open-segment f {:read-only true :verify :full})]
              (try
                (is (= value (slab/root ro :value)))
                (is (= :read-only (:error (tu/error-of #(swap! (slab/atom ro :counter) inc)))))
                (finally (slab/close-segment! ro))))))
        (finally (tu/umount! dir))))))

(deftest read-only-opening-refuses-a-file-another-process-is-attached-to
  (tu/with-temp-dir [dir "read-only-live"]
    (let [p (.resolve dir "seg.slab")
          _ (write-segment! p)
          k (tu/start-child (pr-str `(do (require '[slab.core :as ~'slab])
                                         (let [seg# (slab/open-segment ~(str p))]
                                           (println :ready)
                                           (read-line)
                                           (slab/close-segment! seg#)
                                           (println :closed)
                                           (shutdown-agents))))
                            :jvm-opts ["-XX:TieredStopAtLevel=1"])]
      (try
        (is (= :ready (tu/read-edn! k 60000)))
        (let [r (tu/error-of #(slab/open-segment p {:read-only true}))]
          (is (= :segment-in-use (:error r)) (str r))
          (is (= (.pid ^Process (:process k)) (get-in r [:data :pid])) "the error names the writer"))
        (tu/send-line! k "go")
        (is (= :closed (tu/read-edn! k 60000)))
        (is (= 0 (tu/await-exit k 60000)))
        (let [ro (slab/open-segment p {:read-only true})]
          (is (= value (slab/root ro :value)) "once the writer closed it, it opens read-only")
          (slab/close-segment! ro))
        (finally (tu/destroy! k))))))

(defn- read-only-child
  "A JVM that opens p read-only, prints the count of :value's :m, waits for a
  line, prints it again, closes, and prints :closed."
  [p]
  (tu/start-child (pr-str `(do (require '[slab.core :as ~'slab])
                               (let [seg# (slab/open-segment ~(str p) {:read-only true})]
                                 (prn {:count (count (:m (slab/root seg# :value)))})
                                 (read-line)
                                 (prn {:count (count (:m (slab/root seg# :value)))})
                                 (slab/close-segment! seg#)
                                 (println :closed)
                                 (shutdown-agents))))
                  :jvm-opts ["-XX:TieredStopAtLevel=1"]))

(deftest a-writer-that-comes-after-a-read-only-opener-is-refused
  ;; A read-only opener reads without counts: a writer opening the file later
  ;; could free blocks under it. Its shared read-only lock makes the writer's
  ;; open fail instead (no wait: the writer does not block on it).
  (tu/with-temp-dir [dir "read-only-then-writer"]
    (let [p (.resolve dir "seg.slab")
          _ (write-segment! p)
          k (read-only-child p)]
      (try
        (is (= {:count 3000} (tu/read-edn! k 60000)))
        (let [before (digest p)
              r (tu/error-of #(slab/open-segment p))]
          (is (= :segment-in-use (:error r)) (str r))
          (is (re-find #"open read-only" (str (:message r))) (str r))
          (is (= before (digest p)) "the refused writer changed nothing")
          (let [ro (slab/open-segment p {:read-only true})]
            (is (= value (slab/root ro :value)) "another read-only opener is welcome")
            (slab/close-segment! ro))
          (when (native/built?)
            ;; a foreign reader frees nothing, so it attaches (its file lock does not cover the read-only byte)
            (is (= 42 (native/read-edn (:out (native/slabread! (str p) :n)))))))
        (tu/send-line! k "go")
        (is (= {:count 3000} (tu/read-edn! k 60000)) "the read-only opener still reads its roots")
        (is (= :closed (tu/read-edn! k 60000)))
        (is (= 0 (tu/await-exit k 60000)))
        (let [seg (slab/open-segment p)]
          (is (= value (slab/root seg :value)) "once it closed, the file opens for writing")
          (slab/close-segment! seg))
        (finally (tu/destroy! k))))))

(deftest a-writer-mapped-before-a-read-only-opener-came-is-refused-when-it-attaches
  ;; The race the check at attach closes: a writer has mapped the file but not
  ;; yet joined the process table when a read-only opener comes (and finds no
  ;; live writer); the writer's attach is then refused, and it writes nothing.
  (tu/with-temp-dir [dir "read-only-race"]
    (let [p (.resolve dir "seg.slab")
          _ (write-segment! p)
          seg (slab.mem.Segment/open p (* 64 1024 1024) 5 5)   ; mapped, not attached
          k (read-only-child p)]
      (try
        (is (= {:count 3000} (tu/read-edn! k 60000)))
        (let [before (digest p)
              r (tu/error-of #(slab.share.Sharing/of seg))]
          (is (= :segment-in-use (:error r)) (str r))
          (is (= before (digest p)) "the refused attach changed nothing"))
        (slab.share.Closing/close seg)
        (tu/send-line! k "go")
        (is (= {:count 3000} (tu/read-edn! k 60000)))
        (is (= :closed (tu/read-edn! k 60000)))
        (is (= 0 (tu/await-exit k 60000)))
        (finally
          (tu/destroy! k)
          (when-not (.isClosed seg) (slab.share.Closing/close seg)))))))

(deftest read-only-opening-of-a-segment-a-killed-process-left
  (tu/with-temp-dir [dir "read-only-dead"]
    (let [p (.resolve dir "seg.slab")
          _ (write-segment! p)
          k (tu/start-child (pr-str `(do (require '[slab.core :as ~'slab])
                                         (let [seg# (slab/open-segment ~(str p))]
                                           (slab/set-root! seg# :held (slab/share {:x (vec (range 100))} {:segment seg#}))
                                           (def ~'keep (slab/root seg# :held))
                                           (println :ready)
                                           (read-line))))
                            :jvm-opts ["-XX:TieredStopAtLevel=1"])]
      (try
        (is (= :ready (tu/read-edn! k 60000)))
        (.destroyForcibly ^Process (:process k))
        (.waitFor ^Process (:process k))
        (let [before (digest p)
              ro (slab/open-segment p {:read-only true :verify :full})]
          (try
            (is (= {:x (vec (range 100))} (slab/root ro :held)) "a dead process's slot is no live writer")
            (is (= value (slab/root ro :value)))
            (is (= 1 (:stuck-slots (slab/verify ro))) "and it is left for a writer to recover")
            (finally (slab/close-segment! ro)))
          (is (= before (digest p)) "the reader recovered nothing (it writes nothing)"))
        (finally (tu/destroy! k))))))

(deftest open-segment-read-only-arguments
  (tu/with-temp-dir [dir "read-only-args"]
    (let [p (.resolve dir "seg.slab")]
      (write-segment! p)
      (is (= :bad-argument (:error (tu/error-of #(slab/open-segment p {:read-only true :verify :everything})))))
      (is (= :bad-argument (:error (tu/error-of #(slab/open-segment p {:verify :full})))))
      (is (= :io (:error (tu/error-of #(slab/open-segment (.resolve dir "missing.slab") {:read-only true})))))
      (is (not (Files/exists (.resolve dir "missing.slab") (make-array LinkOption 0)))
          "a read-only opening creates nothing"))))
