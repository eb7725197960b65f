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
    // The size of the chart's text is the page's (reports.css --chart-fs): the body's in 长辈版.
    var size = parseFloat(getComputedStyle(el).getPropertyValue("--chart-fs")) || 14;
    var several = d.series.length > 1;
    // Counts (wishes, sign-ups) have whole steps: an axis of 0, 0.5, 1, 1.5 spoke of half a wish.
    var step = wholeNumbers(d) ? 1 : 0;
    if (d.kind === "line") {
      echarts.init(el, null, { renderer: "canvas" }).setOption(line(d, size, several, step));
      window.addEventListener("resize", function () { echarts.getInstanceByDom(el).resize(); });
      el.setAttribute("data-drawn", "1");
      return;
    }
    var rows = d.labels.length * Math.max(1, d.series.length);
    el.style.height = Math.max(elder ? 300 : 200, rows * Math.round(size * 2.4) + 60 + legendRows(d, size)) + "px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      aria: { enabled: false },
      color: COLOURS,
      textStyle: { fontSize: size },
      legend: several ? { top: 0, textStyle: { fontSize: size, color: "#1a1a1a" } } : { show: false },
      tooltip: { show: false },
      grid: { left: 8, right: Math.round(size * 3), top: several ? legendRows(d, size) : 8, bottom: 8, containLabel: true },
      // Few ticks at large sizes: each bar carries its own number, the axis only a scale.
      xAxis: { type: "value", splitNumber: size > 18 ? 2 : 4, minInterval: step, axisLabel: { fontSize: size, color: "#1a1a1a", hideOverlap: true } },
      yAxis: {
        type: "category",
        inverse: true,
        data: d.labels,
        axisLabel: { fontSize: size, color: "#1a1a1a", width: Math.round(size * 5.5), overflow: "break" },
      },
      series: d.series.map(function (s) {
        return {
          type: "bar",
          name: s.name,
          data: s.values,
          // A share says it is one ("50%"): a bare 50 beside a unit's name read as a count.
          label: { show: true, position: "right", fontSize: size, color: "#1a1a1a",
                   formatter: d.unit === "%" ? "{c}%" : "{c}" },
        };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "1");
  }

  function wholeNumbers(d) {
    return d.series.every(function (s) {
      return s.values.every(function (v) { return v === null || Math.floor(v) === v; });
    });
  }

  // Room above the plot for the legend: a line of it for every two series on a phone's width.
  function legendRows(d, size) {
    return d.series.length > 1 ? Math.ceil(d.series.length / 2) * Math.round(size * 1.6) + 8 : 0;
  }

  // A figure over time: the buckets along the bottom, one line per series, each named in the legend.
  function line(d, size, several, step) {
    return {
      animation: false,
      aria: { enabled: false },
      color: COLOURS,
      textStyle: { fontSize: size },
      legend: several ? { top: 0, textStyle: { fontSize: size, color: "#1a1a1a" } } : { show: false },
      tooltip: { show: false },
      grid: { left: 8, right: 16, top: several ? legendRows(d, size) : 8, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: d.labels.map(function (day) { return day.slice(5); }),
        axisLabel: { fontSize: size, color: "#1a1a1a", hideOverlap: true },
      },
      yAxis: { type: "value", minInterval: step, axisLabel: { fontSize: size, color: "#1a1a1a" } },
      series: d.series.map(function (s, i) {
        return {
          type: "line",
          name: s.name,
          data: s.values,
          symbol: ["circle", "rect", "triangle", "diamond"][i % 4],
          symbolSize: Math.round(size * 0.45),
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
