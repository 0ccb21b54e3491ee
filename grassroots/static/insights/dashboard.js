/* 研判看板: the three charts from the page's JSON (no network). */
(function () {
  "use strict";
  var node = document.getElementById("insights-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var byKey = {};
  data.measures.forEach(function (m) { byKey[m.key] = m; });

  function shown(key, value) {
    if (value === null || value === undefined) { return null; }
    return byKey[key].unit === "%" ? Math.round(value * 1000) / 10 : Math.round(value * 10) / 10;
  }

  var parts = echarts.init(document.getElementById("chart-parts"));
  var select = document.getElementById("part-measure");
  function drawParts() {
    var key = select.value, m = byKey[key];
    parts.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + (m.unit === "%" ? "%" : " " + m.unit); } },
      grid: { left: 48, right: 16, top: 24, bottom: 60 },
      xAxis: { type: "category", data: data.children.map(function (c) { return c.name; }), axisLabel: { rotate: data.children.length > 8 ? 40 : 0 } },
      yAxis: { type: "value", name: m.unit },
      series: [{ type: "bar", name: m.label, data: data.children.map(function (c) { return shown(key, c.values[key]); }), itemStyle: { color: "#2f6fb3" } }]
    }, true);
  }
  select.addEventListener("change", drawParts);
  drawParts();

  var trend = echarts.init(document.getElementById("chart-trend"));
  trend.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["受理", "结案", "解决率"] },
    grid: { left: 48, right: 48, top: 32, bottom: 32 },
    xAxis: { type: "category", data: data.trend.map(function (t) { return t.month; }) },
    yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", max: 100 }],
    series: [
      { name: "受理", type: "bar", data: data.trend.map(function (t) { return t.received; }), itemStyle: { color: "#8fb4e3" } },
      { name: "结案", type: "bar", data: data.trend.map(function (t) { return t.closed; }), itemStyle: { color: "#2f6fb3" } },
      { name: "解决率", type: "line", yAxisIndex: 1, data: data.trend.map(function (t) { return t.resolution; }), itemStyle: { color: "#d9822b" } }
    ]
  });

  var cats = echarts.init(document.getElementById("chart-categories"));
  cats.setOption({
    tooltip: { trigger: "item" },
    series: [{ type: "pie", radius: ["35%", "70%"], data: data.categories.map(function (c) { return { name: c.name, value: c.received }; }) }]
  });
  window.addEventListener("resize", function () { parts.resize(); trend.resize(); cats.resize(); });
})();
