/* 数据质量: the trend of the deduplication rate and completeness from the page's JSON (no network). */
(function () {
  "use strict";
  var node = document.getElementById("quality-trend-data");
  var box = document.getElementById("quality-trend");
  if (!node || !box || !window.echarts) { return; }
  var points = JSON.parse(node.textContent);
  var chart = echarts.init(box);
  function series(key) {
    return points.map(function (p) {
      return p.live ? { value: p[key], symbol: "emptyCircle", symbolSize: 9 } : p[key];
    });
  }
  chart.setOption({
    tooltip: {
      trigger: "axis",
      formatter: function (items) {
        var p = points[items[0].dataIndex];
        var lines = [p.day + (p.live ? "（实时）" : "")];
        items.forEach(function (it) {
          var v = typeof it.value === "object" && it.value !== null ? it.value.value : it.value;
          lines.push(it.marker + it.seriesName + "：" + (v === null || v === undefined ? "—" : v + "%"));
        });
        lines.push("来源记录 " + p.records + "，人数 " + p.persons);
        return lines.join("<br>");
      }
    },
    legend: { data: ["去重率", "人员信息完整度"] },
    grid: { left: 48, right: 24, top: 36, bottom: 36 },
    xAxis: { type: "category", data: points.map(function (p) { return p.day; }) },
    yAxis: { type: "value", name: "%", min: 0, max: 100 },
    series: [
      { name: "去重率", type: "line", connectNulls: true, data: series("dedup_rate"), itemStyle: { color: "#2f6fb3" } },
      { name: "人员信息完整度", type: "line", connectNulls: true, data: series("completeness"), itemStyle: { color: "#d9822b" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
