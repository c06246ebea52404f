// Draws the charts whose data a page embeds with json_script (no inline script: CSP).
async function drawUsageChart() {
  const canvas = document.getElementById("usage-chart");
  const source = document.getElementById("usage-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];
  const total = document.documentElement.lang === "en" ? "Whole subscription" : "整个订阅";
  const names = data.series.map((s) => s.name || total);
  // Canvas text does not trigger web-font loading: load the Chinese glyphs the legend needs
  // first, or they are drawn as empty boxes.
  const family = getComputedStyle(document.body).fontFamily;
  await Promise.all(names.map((n) => document.fonts.load(`12px ${family}`, n))).catch(() => {});
  Chart.defaults.font.family = family;
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: data.series.map((s, i) => ({
        label: names[i],
        data: s.values.map((v) => (v === null ? null : parseFloat(v))),
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        spanGaps: true,
        tension: 0.2,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, suggestedMax: 100, ticks: { callback: (v) => v + "%" } } },
    },
  });
  canvas.dataset.drawn = "true";
}
document.addEventListener("DOMContentLoaded", drawUsageChart);
