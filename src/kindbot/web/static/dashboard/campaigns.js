// Draws a campaign's guard plan (recipients per decision and rule) with Apache ECharts
// from the page's JSON block (#plan-data); the table beside it has the same figures.
"use strict";

(function () {
  const block = document.getElementById("plan-data");
  const element = document.getElementById("chart-plan");
  if (!block || !element || typeof echarts === "undefined") {
    return;
  }
  const data = JSON.parse(block.textContent);
  const colours = { allow: "#2f6f4e", defer: "#b05a00", deny: "#a8201a" };
  const chart = echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: !window.matchMedia("(prefers-reduced-motion: reduce)").matches,
    tooltip: { trigger: "axis" },
    grid: { left: 200, right: 24, top: 8, bottom: 24 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.labels, inverse: true },
    series: [{
      type: "bar",
      data: data.counts.map((value, i) => ({
        value, itemStyle: { color: colours[data.decisions[i]] || "#1f5fa8" },
      })),
      label: { show: true, position: "right" },
    }],
  });
  window.addEventListener("resize", () => chart.resize());
})();
