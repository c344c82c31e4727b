// Draws the analytics page's charts with Apache ECharts from the page's JSON block
// (#chart-data). The tables beside each chart hold the same figures; without
// JavaScript the page is complete, only without pictures.
"use strict";

(function () {
  const block = document.getElementById("chart-data");
  if (!block || typeof echarts === "undefined") {
    return;
  }
  const data = JSON.parse(block.textContent);
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const charts = [];

  function draw(id, option) {
    const element = document.getElementById(id);
    if (!element) {
      return;
    }
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: !still }, option));
    charts.push(chart);
  }

  // Three rows over one time axis, read top to bottom as the equation:
  // active users × value per user = revenue.
  const s = data.series;
  const rows = [
    { name: s.names[1], data: s.active, type: "line", color: "#1f5fa8", unit: "" },
    { name: s.names[2], data: s.value_per_user, type: "line", color: "#b05a00", unit: "¥" },
    { name: s.names[0], data: s.revenue, type: "bar", color: "#2f6f4e", unit: "¥" },
  ];
  draw("chart-series", {
    tooltip: { trigger: "axis" },
    axisPointer: { link: [{ xAxisIndex: "all" }] },
    grid: rows.map((_, i) => ({ left: 64, right: 24, top: 28 + i * 120, height: 80 })),
    xAxis: rows.map((_, i) => ({
      type: "category", data: s.labels, gridIndex: i, axisLabel: { show: i === rows.length - 1 },
    })),
    yAxis: rows.map((row, i) => ({
      type: "value", gridIndex: i, name: row.name, nameTextStyle: { align: "left" },
      splitNumber: 2, minInterval: row.unit ? 0 : 1,
      axisLabel: { formatter: (v) => row.unit + v },
    })),
    series: rows.map((row, i) => ({
      name: row.name, type: row.type, xAxisIndex: i, yAxisIndex: i, data: row.data,
      itemStyle: { color: row.color }, showSymbol: s.labels.length <= 31,
    })),
  });

  function funnel(id, steps) {
    draw(id, {
      tooltip: { trigger: "item", formatter: "{b}: {c}" },
      series: [{
        type: "funnel",
        sort: "none",
        left: "10%",
        width: "80%",
        top: 8,
        bottom: 8,
        minSize: "20%",
        label: { position: "inside", formatter: "{b}\n{c}", color: "#fff" },
        data: steps,
        color: ["#1f5fa8", "#2f6f4e"],
      }],
    });
  }
  funnel("chart-funnel", data.funnel);
  funnel("chart-repurchase", data.repurchase);

  const r = data.retention;
  draw("chart-retention", {
    tooltip: { position: "top", formatter: (p) => `${r.cohorts[p.value[1]]} · ${r.weeks[p.value[0]]}: ${p.value[2]}%` },
    grid: { left: 88, right: 24, top: 16, bottom: 72 },
    xAxis: { type: "category", data: r.weeks, splitArea: { show: true } },
    yAxis: { type: "category", data: r.cohorts, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                 inRange: { color: ["#eef4fb", "#1f5fa8"] }, text: ["100%", "0%"] },
    series: [{ type: "heatmap", data: r.cells, label: { show: true, formatter: (p) => `${p.value[2]}%` } }],
  });

  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
})();
