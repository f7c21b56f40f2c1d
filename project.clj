(defproject slab "0.1.0-SNAPSHOT"
  :description "Persistent Clojure collections whose nodes live off-heap in a shared memory segment."
  :license {:name "EPL-2.0" :url "https://www.eclipse.org/legal/epl-2.0/"}
  ;; Only Maven Central is reachable where we build. Debian's leiningen package
  ;; ships nREPL (which Leiningen's :base profile adds) in /usr/share/maven-repo,
  ;; so `lein repl` keeps working without Clojars.
  :repositories ^:replace [["central" {:url "https://repo1.maven.org/maven2/" :snapshots false}]
                           ["debian" {:url "file:///usr/share/maven-repo" :snapshots false :checksum :ignore}]]
  :dependencies [[org.clojure/clojure "1.12.3"]]
  :source-paths ["src/clojure"]
  :java-source-paths ["src/java"]
  :javac-options ["--release" "22" "-Xlint:all,-serial,-processing,-path" "-Werror"]
  :jvm-opts ["-XX:+UseG1GC" "-Xss4m"]
  :main ^:skip-aot slab.demo
  :test-paths ["test"]
  ;; Leiningen's :base profile adds nREPL, whose Debian jars name Debian's
  ;; Clojure 1.11 in their manifest Class-Path; keep nREPL to the REPL so that
  ;; run and test use the Clojure declared above.
  :profiles {:default [:base-no-nrepl :system :user :provided :dev]
             :base-no-nrepl {:resource-paths ["dev-resources"]
                             :jvm-opts ["-XX:-OmitStackTraceInFastThrow"]
                             ;; :scale tests (10M entries, minutes) run only when asked:
                             ;; `bin/lein test :scale`; plain `bin/lein test` (CI) leaves them out.
                             :test-selectors {:default (complement :scale) :scale :scale}}
             ;; The model checker of the reclamation protocol (test/java/slab/model).
             ;; Native access: a test calls a C kernel through the FFM Linker (slab itself needs no flag).
             :test {:java-source-paths ["test/java"]
                    :jvm-opts ["--enable-native-access=ALL-UNNAMED"]}
             :repl {:dependencies [[nrepl/nrepl "1.0.0"] [org.nrepl/incomplete "0.1.0"]]}
             :dev {:source-paths ["dev"]
                   :dependencies [[org.clojure/test.check "1.1.1"]
                                  [org.clojure/core.async "1.8.741"]
                                  [org.clojure/data.fressian "1.1.0"]]}
             ;; Benchmarks: `bin/lein with-profile +bench run -m slab.bench.map-bench`.
             ;; The 10M-entry runs keep two PersistentHashMaps and their keys live.
             ;; XChart draws the scale benchmark's charts (doc/charts) in the run
             ;; itself, headless; its PDF backend drags in JUnit, which we leave out.
             :bench {:jvm-opts ["-Xmx14g" "-Dslab.capacity=32g" "-Djava.awt.headless=true"]
                     :dependencies [[org.knowm.xchart/xchart "3.8.8" :exclusions [org.junit.jupiter/junit-jupiter]]]}
             ;; With +bench for the scale benchmark: the whole heap committed and touched at
             ;; start, so that neither side's timings include the heap growing into memory
             ;; never touched before (about 12 us per 4 KiB page on this VM) or shrinking
             ;; back after the benchmark's System.gc() calls. Costs ~40 s of start-up.
             :pretouch {:jvm-opts ["-Xms14g" "-XX:+AlwaysPreTouch"]}})
