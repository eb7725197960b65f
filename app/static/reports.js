// Draws each [data-chart] with the vendored Apache ECharts (horizontal bars: long Chinese labels
// stay readable on a phone). The numbers are also in the table after each chart, so a reader
// without JavaScript, a screen reader or a printer loses nothing.
(function () {
  "use strict";
  var COLOURS = ["#1f5fa8", "#b3261e", "#5b5b5b", "#1b6e20", "#8a4b08"];

  function draw(el) {
    if (typeof echarts === "undefined") return;
    var d = JSON.parse(el.getAttribute("data-chart"));
    var elder = document.body.classList.contains("elder");
    var size = elder ? 20 : 13;
    var several = d.series.length > 1;
    if (d.kind === "line") {
      echarts.init(el, null, { renderer: "canvas" }).setOption(line(d, size, several));
      window.addEventListener("resize", function () { echarts.getInstanceByDom(el).resize(); });
      el.setAttribute("data-drawn", "1");
      return;
    }
    var rows = d.labels.length * Math.max(1, d.series.length);
    el.style.height = Math.max(elder ? 300 : 200, rows * (elder ? 56 : 34) + 60) + "px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      aria: { enabled: false },
      color: COLOURS,
      textStyle: { fontSize: size },
      legend: several ? { top: 0, textStyle: { fontSize: size, color: "#1a1a1a" } } : { show: false },
      tooltip: { show: false },
      grid: { left: 8, right: 48, top: several ? (elder ? 64 : 36) : 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { fontSize: size, color: "#1a1a1a" } },
      yAxis: {
        type: "category",
        inverse: true,
        data: d.labels,
        axisLabel: { fontSize: size, color: "#1a1a1a", width: elder ? 140 : 110, overflow: "break" },
      },
      series: d.series.map(function (s) {
        return {
          type: "bar",
          name: s.name,
          data: s.values,
          label: { show: true, position: "right", fontSize: size, color: "#1a1a1a" },
        };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "1");
  }

  // A figure over time: the buckets along the bottom, one line per series, each named in the legend.
  function line(d, size, several) {
    return {
      animation: false,
      aria: { enabled: false },
      color: COLOURS,
      textStyle: { fontSize: size },
      legend: several ? { top: 0, textStyle: { fontSize: size, color: "#1a1a1a" } } : { show: false },
      tooltip: { show: false },
      grid: { left: 8, right: 16, top: several ? (size > 13 ? 64 : 36) : 8, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: d.labels.map(function (day) { return day.slice(5); }),
        axisLabel: { fontSize: size, color: "#1a1a1a", hideOverlap: true },
      },
      yAxis: { type: "value", axisLabel: { fontSize: size, color: "#1a1a1a" } },
      series: d.series.map(function (s, i) {
        return {
          type: "line",
          name: s.name,
          data: s.values,
          symbol: ["circle", "rect", "triangle", "diamond"][i % 4],
          symbolSize: size > 13 ? 10 : 7,
          lineStyle: { width: 3, type: i % 2 ? "dashed" : "solid" },
        };
      }),
    };
  }

  function start() {
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
