/* 指挥大屏: our own grid GeoJSON coloured by a measure (no tiles), cases as clusters, ECharts panels. */
(function () {
  "use strict";
  var node = document.getElementById("bigscreen-data");
  if (!node || !window.L) { return; }
  var data = JSON.parse(node.textContent);
  var byKey = {};
  data.measures.forEach(function (m) { byKey[m.key] = m; });
  var select = document.getElementById("bs-measure");
  var COLOURS = ["#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"]; // bad → good
  var NONE = "#3a4a66";

  var map = L.map("bs-map", { zoomSnap: 0.25, attributionControl: false, preferCanvas: true });
  var gridLayer = L.geoJSON(data.grids, {
    style: function () { return { color: "#7fb0ff", weight: 1, fillOpacity: 0.65, fillColor: NONE }; },
    onEachFeature: function (f, layer) {
      layer.on("mouseover", function () {
        var key = select.value;
        layer.bindTooltip(f.properties.community + " " + f.properties.name + "：" + byKey[key].label + " " + f.properties.labels[key], { sticky: true }).openTooltip();
      });
    }
  }).addTo(map);
  if (gridLayer.getLayers().length) { map.fitBounds(gridLayer.getBounds(), { padding: [10, 10] }); } else { map.setView([31.38, 120.95], 12); }

  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () { this.div = L.DomUtil.create("div", "bs-legend"); return this.div; };
  legend.addTo(map);

  function paint() {
    var key = select.value, m = byKey[key];
    var values = data.grids.features.map(function (f) { return f.properties.values[key]; }).filter(function (v) { return v !== null && v !== undefined; });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (!values.length) { lo = 0; hi = 0; }
    function colour(v) {
      if (v === null || v === undefined) { return NONE; }
      var i = hi > lo ? Math.min(4, Math.floor((v - lo) / (hi - lo) * 5)) : 2;
      return COLOURS[m.up ? i : 4 - i];
    }
    gridLayer.eachLayer(function (layer) { layer.setStyle({ fillColor: colour(layer.feature.properties.values[key]) }); });
    var fmt = function (v) { return m.unit === "%" ? (v * 100).toFixed(1) + "%" : (Math.round(v * 10) / 10) + m.unit; };
    var html = "<strong>" + m.label + "</strong><br>";
    if (values.length) {
      for (var i = 0; i < 5; i++) {
        var a = lo + (hi - lo) * i / 5, b = lo + (hi - lo) * (i + 1) / 5;
        html += '<i style="background:' + COLOURS[m.up ? i : 4 - i] + '"></i>' + fmt(a) + " – " + fmt(b) + "<br>";
      }
    }
    html += '<i style="background:' + NONE + '"></i>无数据<br><i class="bs-cluster" style="width:10px;height:10px"></i>办理中案件（数字为件数）';
    legend.div.innerHTML = html;
  }
  select.addEventListener("change", function () {
    paint();
    var url = new URL(window.location.href); url.searchParams.set("measure", select.value);
    window.history.replaceState(null, "", url);
  });
  paint();

  // Open cases: cells from the server, merged on screen by pixel distance at every zoom.
  var clusters = L.layerGroup().addTo(map);
  function cluster() {
    clusters.clearLayers();
    var cell = 48, bins = {};
    data.points.forEach(function (p) {
      var pt = map.latLngToLayerPoint([p.lat, p.lon]);
      var k = Math.floor(pt.x / cell) + ":" + Math.floor(pt.y / cell);
      var b = bins[k] || (bins[k] = { n: 0, lat: 0, lon: 0 });
      b.n += p.n; b.lat += p.lat * p.n; b.lon += p.lon * p.n;
    });
    Object.keys(bins).forEach(function (k) {
      var b = bins[k], size = Math.round(18 + 8 * Math.log10(b.n + 1));
      var icon = L.divIcon({ className: "bs-cluster", html: "<span style='line-height:" + size + "px'>" + b.n + "</span>", iconSize: [size, size] });
      L.marker([b.lat / b.n, b.lon / b.n], { icon: icon, keyboard: false })
        .bindTooltip("办理中案件 " + b.n + " 件").addTo(clusters);
    });
  }
  map.on("zoomend", cluster);
  cluster();

  if (!window.echarts) { return; }
  var dark = { textStyle: { color: "#d8e6ff" } };
  var trend = echarts.init(document.getElementById("bs-trend"));
  trend.setOption(Object.assign({}, dark, {
    tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 20, bottom: 24 },
    legend: { data: ["受理", "结案"], textStyle: { color: "#d8e6ff" } },
    xAxis: { type: "category", data: data.trend.map(function (t) { return t.month.slice(2); }), axisLabel: { color: "#9fb3d9" } },
    yAxis: { type: "value", axisLabel: { color: "#9fb3d9" }, splitLine: { lineStyle: { color: "#1d3a6b" } } },
    series: [
      { name: "受理", type: "line", smooth: true, data: data.trend.map(function (t) { return t.received; }), itemStyle: { color: "#4fd1ff" } },
      { name: "结案", type: "line", smooth: true, data: data.trend.map(function (t) { return t.closed; }), itemStyle: { color: "#91cf60" } }
    ]
  }));
  var cats = echarts.init(document.getElementById("bs-categories"));
  cats.setOption(Object.assign({}, dark, {
    tooltip: { trigger: "item" },
    series: [{ type: "pie", radius: ["30%", "65%"], label: { color: "#d8e6ff" }, data: data.categories.map(function (c) { return { name: c.name, value: c.received }; }) }]
  }));
  var rank = echarts.init(document.getElementById("bs-rank"));
  function drawRank() {
    var key = select.value, m = byKey[key];
    var rows = data.children.filter(function (c) { return c.values[key] !== null; })
      .sort(function (a, b) { return (a.values[key] - b.values[key]) * (m.up ? 1 : -1); }).slice(-10);
    rank.setOption(Object.assign({}, dark, {
      grid: { left: 80, right: 20, top: 10, bottom: 20 },
      xAxis: { type: "value", axisLabel: { color: "#9fb3d9" }, splitLine: { lineStyle: { color: "#1d3a6b" } } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { color: "#d8e6ff" } },
      series: [{ type: "bar", data: rows.map(function (r) { var v = r.values[key]; return m.unit === "%" ? Math.round(v * 1000) / 10 : Math.round(v * 10) / 10; }), itemStyle: { color: "#4fd1ff" } }]
    }), true);
  }
  select.addEventListener("change", drawRank);
  drawRank();
  window.addEventListener("resize", function () { trend.resize(); cats.resize(); rank.resize(); map.invalidateSize(); });
})();
