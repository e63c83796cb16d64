// Dasbor: the charts of the head-of-office dashboard, drawn by Chart.js (bundled, nothing fetched).
// The figures come from <script type="application/json" id="dashboard-data"> (the CSP allows no inline
// script); every chart repeats a data table of the page, which works without JavaScript.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Title,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Title, Tooltip);

const COLOURS = ["#0b5394", "#7a4d00", "#a4161a", "#1e6b2e", "#5b3f8c", "#00727a"];
const printing = window.matchMedia ? window.matchMedia("print") : null;

function draw(canvas, config) {
  const chart = new Chart(canvas, {
    ...config,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      ...config.options,
    },
  });
  canvas.dataset.drawn = "true";
  return chart;
}

const source = document.getElementById("dashboard-data");
if (source) {
  const data = JSON.parse(source.textContent);
  const charts = [];
  const figures = document.getElementById("chart-sops");
  if (figures && data.sops.labels.length) {
    charts.push(draw(figures, {
      type: "bar",
      data: {
        labels: data.sops.labels,
        datasets: data.sops.series.map((series, index) => ({
          label: series.label, data: series.values, backgroundColor: COLOURS[index % COLOURS.length],
        })),
      },
    }));
  }
  const channels = document.getElementById("chart-channels");
  if (channels && data.channels.labels.length) {
    charts.push(draw(channels, {
      type: "bar",
      data: {
        labels: data.channels.labels,
        datasets: [{ label: data.channels.label, data: data.channels.values, backgroundColor: COLOURS[0] }],
      },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    }));
  }
  for (const step of data.steps) {
    const canvas = document.getElementById(step.canvas);
    if (!canvas || !step.labels.length) continue;
    charts.push(draw(canvas, {
      type: "bar",
      data: {
        labels: step.labels,
        datasets: [{ label: step.label, data: step.values, backgroundColor: COLOURS[3] }],
      },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, max: 100 } } },
    }));
  }
  // the print view redraws at the paper's width
  if (printing) printing.addEventListener("change", () => charts.forEach((chart) => chart.resize()));
  document.body.dataset.charts = String(charts.length);
}
