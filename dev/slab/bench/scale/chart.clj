(ns slab.bench.scale.chart
  "Draws the scale benchmark's charts with XChart: one PNG per collection
  (a panel per operation, ns per op against entries, log-log, clojure.core
  and slab), one of the full-GC pause against live entries and one of bytes
  per entry. Panels are XChart charts pasted into one image, so each
  collection is one file to link from the docs."
  (:import (java.awt Color Font RenderingHints)
           (java.awt.image BufferedImage)
           (java.io File)
           (javax.imageio ImageIO)
           (org.knowm.xchart BitmapEncoder XYChart XYChartBuilder XYSeries)
           (org.knowm.xchart.style Styler$LegendLayout Styler$LegendPosition XYStyler)
           (org.knowm.xchart.style.lines SeriesLines)
           (org.knowm.xchart.style.markers SeriesMarkers)))

(set! *warn-on-reflection* true)

(def ^:private colors
  {"clojure.core" (Color. 0x1f 0x77 0xb4) "slab" (Color. 0xd6 0x27 0x28) "nothing live" (Color. 0x55 0x55 0x55)})

(def ^:private panel-w 520)
(def ^:private panel-h 360)

(defn- panel
  "One log-log chart; series is [[name xs ys] ...], points with y <= 0 left out."
  ^XYChart [title y-title series]
  (let [c (.build (doto (XYChartBuilder.) (.width panel-w) (.height panel-h)
                        (.title title) (.xAxisTitle "entries") (.yAxisTitle y-title)))
        ^XYStyler st (.getStyler c)]
    (doto st
      (.setXAxisLogarithmic true) (.setYAxisLogarithmic true)
      ;; Ticks between the decades too: an operation often stays within one
      ;; decade, and a log axis with decade ticks only would show no number.
      (.setYAxisLogarithmicDecadeOnly false)
      ;; (XChart's tick-label functions would turn a log axis linear: patterns instead)
      (.setXAxisDecimalPattern "#,###") (.setYAxisDecimalPattern "#,##0.#")
      ;; below the plot, so the legend never hides a point
      (.setLegendPosition Styler$LegendPosition/OutsideS) (.setLegendLayout Styler$LegendLayout/Horizontal)
      (.setAxisTickLabelsFont (Font. Font/SANS_SERIF Font/PLAIN 10))
      (.setChartBackgroundColor Color/WHITE) (.setMarkerSize 7)
      (.setChartTitleFont (Font. Font/SANS_SERIF Font/BOLD 13)))
    (doseq [[nm xs ys] series
            :let [pts (filter (fn [[_ y]] (and y (pos? (double y)))) (map vector xs ys))]
            :when (seq pts)]
      (let [^XYSeries s (.addSeries c ^String nm ^doubles (double-array (map first pts)) ^doubles (double-array (map second pts)))
            col (colors nm (Color. 0x2c 0xa0 0x2c))]
        (.setMarker s SeriesMarkers/CIRCLE)
        (.setLineColor s col)
        (.setMarkerColor s col)
        (when (= nm "nothing live") (.setLineStyle s SeriesLines/DASH_DASH))))
    c))

(defn- grid
  "The panels in rows of `cols`, under a title line, as one image."
  ^BufferedImage [^String title ^String subtitle panels ^long cols]
  (let [rows (long (Math/ceil (/ (count panels) (double cols))))
        top 56
        img (BufferedImage. (* cols (long panel-w)) (+ top (* rows (long panel-h))) BufferedImage/TYPE_INT_RGB)
        g (.createGraphics img)]
    (.setRenderingHint g RenderingHints/KEY_TEXT_ANTIALIASING RenderingHints/VALUE_TEXT_ANTIALIAS_ON)
    (.setColor g Color/WHITE)
    (.fillRect g 0 0 (.getWidth img) (.getHeight img))
    (.setColor g Color/BLACK)
    (.setFont g (Font. Font/SANS_SERIF Font/BOLD 17))
    (.drawString g title 12 24)
    (.setFont g (Font. Font/SANS_SERIF Font/PLAIN 12))
    (.drawString g subtitle 12 44)
    (doseq [[i p] (map-indexed vector panels)]
      (.drawImage g (BitmapEncoder/getBufferedImage ^XYChart p)
                  (int (* (long panel-w) (rem (long i) cols))) (int (+ top (* (long panel-h) (quot (long i) cols)))) nil))
    (.dispose g)
    img))

(defn- write! [^BufferedImage img ^File f]
  (.mkdirs (.getParentFile f))
  (ImageIO/write img "png" f)
  (println "   wrote" (str f)))

(defn- series-of
  "[xs ys] over the stages, y from (f stage), nil where f gives nil."
  [stages f]
  [(map :size stages) (map f stages)])

(defn draw!
  "Writes the charts of a run (the results map the benchmark saves) into dir.
  metric is :cpu or :wall; op-label names an operation on a collection."
  [{:keys [stages]} dir metric subtitle {:keys [titles op-label op-ids]}]
  (let [by-coll (group-by :coll stages)
        colls (filter by-coll (keys titles))]
    (doseq [coll colls
            :let [ss (sort-by :size (by-coll coll))
                  ops (filter (fn [id] (some #(some (fn [o] (= id (:id o))) (:ops %)) ss)) op-ids)
                  med (fn [side id] (fn [s] (get-in (first (filter #(= id (:id %)) (:ops s))) [side metric :median])))
                  panels (for [id ops]
                           (panel (op-label coll id) (str "ns per op (" (if (= metric :cpu) "thread CPU" "wall") ")")
                                  [(into ["clojure.core"] (series-of ss (med :core id)))
                                   (into ["slab"] (series-of ss (med :slab id)))]))]
            :when (seq panels)]
      (write! (grid (str "slab vs clojure.core: " (titles coll) " — ns per op, median of rounds, "
                         (if (= metric :cpu) "benchmark thread's CPU time" "wall time"))
                    subtitle panels 3)
              (File. (str dir "/scale-" (name coll) ".png"))))
    (let [gc (fn [k] (fn [s] (get-in s [:gc k :wall-ms])))
          bytes (fn [k] (fn [s] (get-in s [:bytes k])))
          per-coll (fn [f] (for [coll colls :let [ss (sort-by :size (by-coll coll))]] (f coll ss)))]
      (write! (grid "Full-GC pause (System.gc, median) against live entries" subtitle
                    (per-coll (fn [coll ss]
                                (panel (titles coll) "ms"
                                       [(into ["nothing live"] (series-of ss (gc :nothing)))
                                        (into ["clojure.core"] (series-of ss (gc :core)))
                                        (into ["slab"] (series-of ss (gc :slab)))])))
                    3)
              (File. (str dir "/scale-gc-pause.png")))
      (write! (grid "Bytes per entry: clojure.core on the heap, slab in the segment (+ its heap)" subtitle
                    (per-coll (fn [coll ss]
                                (panel (titles coll) "bytes per entry"
                                       [(into ["clojure.core"] (series-of ss (bytes :core-heap)))
                                        (into ["slab"] (series-of ss #(when-let [b (get-in % [:bytes :slab-segment])]
                                                                        (+ (double b) (max 0.0 (double (get-in % [:bytes :slab-heap] 0.0)))))))])))
                    3)
              (File. (str dir "/scale-bytes.png"))))))
