/* The 统计 page's charts: each [data-chart] element holds its series as JSON ({labels, values, name}). */
(function () {
  "use strict";
  function draw(el) {
    var series = JSON.parse(el.getAttribute("data-series"));
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var bar = el.getAttribute("data-chart") === "bar";
    chart.setOption({
      animation: false,
      color: ["#0b5cad"],
      grid: { left: 44, right: 12, top: 24, bottom: bar ? 64 : 32 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      xAxis: { type: "category", data: series.labels,
               axisLabel: { interval: 0, rotate: bar && series.labels.length > 3 ? 30 : 0, color: "#1b1f24" } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", color: "#1b1f24" } },
      series: [{ name: series.name, type: bar ? "bar" : "line", data: series.values, connectNulls: false,
                 barMaxWidth: 56, label: { show: bar, position: "top", color: "#1b1f24", formatter: "{c}%" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function start() {
    if (!window.echarts) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
