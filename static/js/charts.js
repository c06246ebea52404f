// Draws the charts whose data a page embeds with json_script (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("usage-chart");
  const source = document.getElementById("usage-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];
  const total = document.documentElement.lang === "en" ? "Whole subscription" : "整个订阅";
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: data.series.map((s, i) => ({
        label: s.name || total,
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
});
