// The budget overview's bar chart: allocated / committed / actual / available per department.
// The page embeds the figures with json_script (no inline script: CSP); labels come translated.
async function drawBudgetChart() {
  const canvas = document.getElementById("budget-chart");
  const source = document.getElementById("budget-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#0d6efd", "#fd7e14", "#6c757d", "#198754"];
  // One band of four bars per department: let the box grow with the number of departments.
  canvas.parentElement.style.height = `${Math.max(280, 80 + data.labels.length * 44)}px`;
  // Canvas text does not trigger web-font loading: load the Chinese glyphs first, or they are
  // drawn as empty boxes.
  const family = getComputedStyle(document.body).fontFamily;
  const texts = [...data.labels, ...data.series.map((s) => s.label)];
  await Promise.all(texts.map((t) => document.fonts.load(`12px ${family}`, t))).catch(() => {});
  Chart.defaults.font.family = family;
  // Whole amounts on the axis (in 万 in Chinese: 120万); the tooltips give the exact figure.
  const lang = document.documentElement.lang || undefined;
  const chinese = (lang || "").toLowerCase().startsWith("zh");
  const format = new Intl.NumberFormat(
    chinese ? "zh-CN" : lang,
    chinese ? { notation: "compact", maximumFractionDigits: 1 } : { maximumFractionDigits: 0 },
  );
  // "1200000.00" -> "1,200,000.00" (the text as sent, never through a float), a real minus sign.
  const exact = (text) => {
    const [whole, fraction] = String(text).replace("-", "").split(".");
    const sign = String(text).startsWith("-") ? "\u2212" : "";
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + grouped + (fraction === undefined ? "" : `.${fraction}`);
  };
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map((s, i) => ({
        label: s.label,
        data: s.values.map((v) => parseFloat(v)),
        backgroundColor: palette[i % palette.length],
      })),
    },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        tooltip: {
          callbacks: {
            // The exact figure the table shows (the bar is drawn from a float).
            label: (item) =>
              `${item.dataset.label}: ${exact(data.series[item.datasetIndex].values[item.dataIndex])} ${data.currency}`,
          },
        },
      },
      scales: { x: { ticks: { callback: (v) => format.format(v) } } },
    },
  });
  canvas.dataset.drawn = "true";
}
document.addEventListener("DOMContentLoaded", drawBudgetChart);
