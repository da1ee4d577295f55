/**
 * The widget grid of one dashboard, rendered from the local cache only: each card reads the
 * widget's latest snapshot and its metric definition from IndexedDB, so the grid appears at
 * once, offline too. Placement follows each widget's `layout` on a 12-column grid.
 */
import type { Freshness, MetricDefinition, SyncClient, Widget, WidgetSnapshot } from "sync-core";
import { breakdown, funnel, heatmap, timeseries } from "./charts.js";
import { el } from "./dom.js";
import { clock, formatValue } from "./format.js";

const TYPE_LABEL: Record<Widget["type"], string> = {
  kpi: "KPI",
  timeseries: "Trend",
  breakdown: "Breakdown",
  funnel: "Funnel",
  heatmap: "Heatmap",
};

/** Builds every card of `dashboardId`; resolves with the cards in layout order. */
export async function renderWidgets(
  client: SyncClient,
  dashboardId: string,
  freshness: Freshness | undefined,
): Promise<HTMLElement[]> {
  const widgets = await client.widgets(dashboardId);
  widgets.sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x);
  const stale = new Set(freshness?.staleWidgetIds ?? []);
  return Promise.all(
    widgets.map(async (w) => {
      const [snapshot, metric] = await Promise.all([client.latestSnapshot(w.id), client.metric(w.metricKey)]);
      return card(w, snapshot, metric, stale.has(w.id));
    }),
  );
}

function card(w: Widget, snapshot: WidgetSnapshot | undefined, metric: MetricDefinition | undefined, stale: boolean): HTMLElement {
  const unit = metric?.unit ?? "";
  const node = el(
    "article",
    { class: `widget widget-${w.type}${stale ? " is-stale" : ""}`, "data-widget-id": w.id, "data-type": w.type },
    el(
      "header",
      { class: "widget-head" },
      el("h3", {}, w.title_i18n.default),
      el("span", { class: "chip" }, TYPE_LABEL[w.type] ?? w.type),
    ),
    body(w, snapshot, unit),
    el(
      "footer",
      { class: "widget-foot" },
      el("span", {}, metric ? metric.name_i18n.default : w.metricKey),
      el("span", { class: stale ? "stale-text" : "" }, snapshot ? `${stale ? "Stale · " : ""}${clock(snapshot.generatedAt)}` : "No data yet"),
    ),
  );
  // Layout drives placement through CSS variables; the narrow-window media query ignores them.
  node.style.setProperty("--x", String(Math.max(0, w.layout.x) + 1));
  node.style.setProperty("--w", String(Math.min(12, Math.max(1, w.layout.w))));
  node.style.setProperty("--h", String(Math.max(1, w.layout.h)));
  return node;
}

function body(w: Widget, snapshot: WidgetSnapshot | undefined, unit: string): HTMLElement {
  const box = el("div", { class: "widget-body" });
  if (!snapshot) {
    box.append(el("p", { class: "muted" }, "Waiting for the first snapshot"));
    return box;
  }
  const rows = Array.isArray(snapshot.rows) ? snapshot.rows : [];
  switch (w.type) {
    case "kpi":
      box.append(kpi(rows[0], unit));
      break;
    case "timeseries":
      box.append(timeseries(rows, unit));
      break;
    case "breakdown":
      box.append(breakdown(rows, unit));
      break;
    case "funnel":
      box.append(funnel(rows));
      break;
    case "heatmap":
      box.append(heatmap(rows, unit));
      break;
    default:
      box.append(el("p", { class: "muted" }, "Unsupported widget type"));
  }
  return box;
}

function kpi(row: unknown, fallbackUnit: string): HTMLElement {
  const r = row !== null && typeof row === "object" ? (row as Record<string, unknown>) : {};
  const unit = typeof r.unit === "string" ? r.unit : fallbackUnit;
  const delta = typeof r.delta === "number" && Number.isFinite(r.delta) ? r.delta : null;
  const dir = delta === null || delta === 0 ? "flat" : delta > 0 ? "up" : "down";
  const arrow = dir === "up" ? "▲" : dir === "down" ? "▼" : "●";
  const deltaText =
    delta === null
      ? "no change data"
      : unit === "percent"
        ? `${delta > 0 ? "+" : delta < 0 ? "−" : ""}${Math.abs(delta).toFixed(2)} pts`
        : `${delta > 0 ? "+" : ""}${formatValue(delta, unit)}`; // formatValue signs negatives
  return el(
    "div",
    { class: "kpi" },
    el("div", { class: "kpi-value" }, formatValue(r.value, unit)),
    el("div", { class: `kpi-delta delta-${dir}` }, `${arrow} ${deltaText}`, el("span", { class: "muted" }, " vs previous")),
  );
}
