// Draws the charts of a Vayu HTML report from the embedded data (window.VAYU).
(function () {
  "use strict";
  const data = window.VAYU;
  const ticks = data.ticks || [];
  const width = () => Math.min(1100, document.body.clientWidth - 40);
  const x = ticks.map((t) => t.elapsedSeconds);

  function line(id, title, series) {
    const el = document.getElementById(id);
    if (!el || ticks.length === 0) {
      if (el) el.textContent = "No live ticks recorded.";
      return;
    }
    const opts = {
      title: title,
      width: width(),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: "seconds" }, { size: 70 }],
      series: [{ label: "t (s)" }].concat(series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))),
    };
    new uPlot(opts, [x].concat(series.map((s) => ticks.map(s.value))), el);
  }

  function bars(id, title, labels, values, xLabel) {
    const el = document.getElementById(id);
    if (!el || values.length === 0) {
      if (el) el.textContent = "No data.";
      return;
    }
    const xs = values.map((_, i) => i);
    const opts = {
      title: title,
      width: width(),
      height: 260,
      scales: { x: { time: false, range: [-0.5, values.length - 0.5] } },
      axes: [{ label: xLabel, values: (u, splits) => splits.map((i) => labels[i] ?? "") }, { size: 70 }],
      series: [{}, { label: "count", stroke: "#4b6cb7", fill: "rgba(75,108,183,0.5)", paths: uPlot.paths.bars({ size: [0.8, 60] }) }],
    };
    new uPlot(opts, [xs, values], el);
  }

  line("chart-latency", "Latency (ms)", [
    { label: "p50", color: "#2a9d8f", value: (t) => t.latencyP50Ms },
    { label: "p95", color: "#e9c46a", value: (t) => t.latencyP95Ms },
    { label: "p99", color: "#e76f51", value: (t) => t.latencyP99Ms },
  ]);
  line("chart-rps", "Requests per second", [
    { label: "completed/s", color: "#264653", value: (t) => t.currentRps },
    { label: "sent/s", color: "#8ab17d", value: (t) => t.sendRate },
  ]);
  let previousErrors = 0;
  const errorsPerTick = ticks.map((t) => {
    const delta = t.totalErrors - previousErrors;
    previousErrors = t.totalErrors;
    return delta;
  });
  line("chart-errors", "Errors per tick", [
    { label: "errors", color: "#d62828", value: (t, i) => errorsPerTick[i] },
  ]);
  const buckets = data.histogram || [];
  bars("chart-histogram", "Latency histogram", buckets.map((b) => b[0].toFixed(2)), buckets.map((b) => b[1]), "ms (upper bound)");
  document.querySelectorAll("div[id^='chart-endpoint-']").forEach((el) => {
    const name = el.getAttribute("data-endpoint");
    const of = (t) => (t.endpoints && t.endpoints[name]) || {};
    line(el.id, name + ": latency (ms)", [
      { label: "p50", color: "#2a9d8f", value: (t) => of(t).latencyP50Ms },
      { label: "p95", color: "#e9c46a", value: (t) => of(t).latencyP95Ms },
      { label: "p99", color: "#e76f51", value: (t) => of(t).latencyP99Ms },
    ]);
  });
  const codes = Object.entries((data.report && data.report.statusCodes) || {});
  bars("chart-status", "Status codes", codes.map((c) => c[0]), codes.map((c) => c[1]), "status");
  document.body.setAttribute("data-charts", "rendered");
})();
