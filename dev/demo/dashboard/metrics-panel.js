// The metrics panel: what the functions emitted as Embedded Metric Format lines, as CloudWatch
// would extract them from their logs (the emulator's /_emulator/metrics), refreshed every few
// seconds. One row per metric and dimensions that moved; series that stayed at 0 (a handler
// reports every count, also when nothing happened) are left out and counted.
"use strict";

const METRICS_URL = "/_emulator/metrics";
const METRICS_REFRESH_MS = 5000;

class MetricsPanel {
  constructor(panel) {
    this.panel = panel;
    this.rows = panel.querySelector(".metrics-rows");
    this.summary = panel.querySelector(".metrics-summary");
  }

  start() {
    this.panel.hidden = false;
    this.refresh();
  }

  async refresh() {
    try {
      const response = await fetch(METRICS_URL, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.render(await response.json());
    } catch (error) {
      this.summary.textContent = `not available (${error.message})`;
    }
    setTimeout(() => this.refresh(), METRICS_REFRESH_MS);
  }

  render(listed) {
    const moved = listed.metrics.filter((series) => !(series.min === 0 && series.max === 0));
    moved.sort((a, b) => compareSeries(a, b));
    this.rows.replaceChildren(...moved.map(metricsRow));
    const zeros = listed.metrics.length - moved.length;
    const rejected = listed.rejectedLines ? ` · ${listed.rejectedLines} malformed EMF lines` : "";
    this.summary.textContent = `${moved.length} series moved, ${zeros} stayed at 0${rejected}`;
  }
}

// By function, then metric, then the other dimensions.
function compareSeries(a, b) {
  const key = (series) => [
    series.dimensions.Function ?? "",
    series.metric,
    dimensionsText(series.dimensions),
    series.namespace,
  ];
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < ka.length; i++) {
    const order = ka[i].localeCompare(kb[i]);
    if (order !== 0) return order;
  }
  return 0;
}

// `Function=… Channel=…`: the function first, then the others by name.
function dimensionsText(dimensions) {
  const names = Object.keys(dimensions).sort((a, b) =>
    a === "Function" ? -1 : b === "Function" ? 1 : a.localeCompare(b),
  );
  return names.map((name) => `${name}=${dimensions[name]}`).join(" ");
}

function metricsRow(series) {
  const row = document.createElement("tr");
  row.dataset.metric = series.metric;
  row.dataset.dimensions = dimensionsText(series.dimensions);
  const spread = `min ${figure(series.min)} · p50 ${figure(series.p50)} · max ${figure(series.max)}`;
  row.title = `namespace ${series.namespace} · ${spread}`;
  const cells = [
    series.metric,
    row.dataset.dimensions,
    series.unit,
    String(series.count),
    figure(series.sum),
    figure(series.p99),
  ];
  for (const [index, text] of cells.entries()) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (index >= 3) cell.className = "number";
    row.append(cell);
  }
  return row;
}

function figure(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

new MetricsPanel(document.getElementById("metrics")).start();
