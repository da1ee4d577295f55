/**
 * Small SVG charts drawn from snapshot rows. Rows are untrusted server data: every field is
 * checked here and bad points are skipped, so a malformed snapshot draws less, never throws.
 * Labels reach the DOM as SVG text nodes / `<title>` text only.
 */
import { svg, tooltip } from "./dom.js";
import { formatShort } from "./format.js";

const PALETTE = ["#2f6fde", "#17a398", "#f2a541", "#e4572e", "#8e6cd8", "#5c6b7a", "#c2185b", "#43a047"];

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}
function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

/** Line + area chart of `{t, value}` rows, oldest first. */
export function timeseries(rows: unknown[], unit: string): SVGSVGElement {
  const points = rows
    .map(rec)
    .map((r) => ({ t: Date.parse(str(r.t)), label: str(r.t).slice(0, 10), v: num(r.value) }))
    .filter((p): p is { t: number; label: string; v: number } => p.v !== null && Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
  const W = 240;
  const H = 120;
  const pad = { l: 36, r: 6, t: 8, b: 16 };
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "time series" });
  if (points.length === 0) return root;
  const vs = points.map((p) => p.v);
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const span = hi - lo;
  lo -= span * 0.08;
  hi += span * 0.08;
  const x = (i: number) => pad.l + (points.length === 1 ? 0 : (i / (points.length - 1)) * (W - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  for (const frac of [0, 0.5, 1]) {
    const v = lo + (hi - lo) * frac;
    root.append(
      svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }),
      label(svg("text", { x: pad.l - 4, y: y(v) + 3, class: "axis", "text-anchor": "end" }), formatShort(v)),
    );
  }
  const line = points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
  const base = y(lo);
  root.append(
    svg("path", { d: `${line}L${x(points.length - 1).toFixed(1)},${base}L${x(0).toFixed(1)},${base}Z`, class: "area" }),
    svg("path", { d: line, class: "line" }),
  );
  const first = points[0];
  const last = points[points.length - 1];
  if (first && last) {
    root.append(
      label(svg("text", { x: pad.l, y: H - 4, class: "axis" }), first.label.slice(5)),
      label(svg("text", { x: W - pad.r, y: H - 4, class: "axis", "text-anchor": "end" }), last.label.slice(5)),
      svg("circle", { cx: x(points.length - 1), cy: y(last.v), r: 3, class: "dot" }, tooltip(`${last.label}: ${last.v} ${unit}`)),
    );
  }
  return root;
}

/** Horizontal bars of `{label, value}` rows, largest first. */
export function breakdown(rows: unknown[], unit: string): SVGSVGElement {
  const items = rows
    .map(rec)
    .map((r) => ({ label: str(r.label), v: num(r.value) }))
    .filter((p): p is { label: string; v: number } => p.v !== null)
    .sort((a, b) => b.v - a.v)
    .slice(0, 8);
  const rowH = 18;
  const W = 240;
  const H = Math.max(rowH, items.length * rowH + 4);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "breakdown" });
  const max = Math.max(...items.map((i) => i.v), 0) || 1;
  const labelW = 78;
  items.forEach((item, i) => {
    const w = Math.max(1, (item.v / max) * (W - labelW - 36));
    const yy = i * rowH + 2;
    root.append(
      label(svg("text", { x: labelW - 6, y: yy + 12, class: "axis", "text-anchor": "end" }), clip(item.label, 12)),
      svg(
        "rect",
        { x: labelW, y: yy + 2, width: w.toFixed(1), height: rowH - 6, rx: 3, fill: PALETTE[i % PALETTE.length] },
        tooltip(`${item.label}: ${item.v} ${unit}`),
      ),
      label(svg("text", { x: labelW + w + 4, y: yy + 12, class: "axis" }), formatShort(item.v)),
    );
  });
  return root;
}

/** Funnel of `{stage, value}` rows in server order, with stage-to-stage conversion. */
export function funnel(rows: unknown[]): SVGSVGElement {
  const stages = rows
    .map(rec)
    .map((r) => ({ stage: str(r.stage), v: num(r.value) }))
    .filter((p): p is { stage: string; v: number } => p.v !== null);
  const rowH = 24;
  const W = 240;
  const H = Math.max(rowH, stages.length * rowH);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "funnel" });
  const max = Math.max(...stages.map((s) => s.v), 0) || 1;
  const mid = 130;
  const maxW = 110;
  stages.forEach((s, i) => {
    const w = Math.max(2, (s.v / max) * maxW);
    const yy = i * rowH;
    const prev = stages[i - 1];
    const conv = prev && prev.v > 0 ? ` · ${((s.v / prev.v) * 100).toFixed(0)}%` : "";
    root.append(
      svg("rect", { x: (mid - w / 2).toFixed(1), y: yy + 2, width: w.toFixed(1), height: rowH - 4, rx: 3, class: "funnel-bar", opacity: (1 - i * 0.12).toFixed(2) }, tooltip(`${s.stage}: ${s.v}`)),
      label(svg("text", { x: 4, y: yy + 16, class: "axis" }), clip(s.stage, 12)),
      label(svg("text", { x: W - 2, y: yy + 16, class: "axis", "text-anchor": "end" }), `${formatShort(s.v)}${conv}`),
    );
  });
  return root;
}

/** Heatmap of `{x, y, value}` rows (e.g. weekday × lead time). */
export function heatmap(rows: unknown[], unit: string): SVGSVGElement {
  const cells = rows
    .map(rec)
    .map((r) => ({ x: str(r.x), y: str(r.y), v: num(r.value) }))
    .filter((c): c is { x: string; y: string; v: number } => c.v !== null);
  const xs = [...new Set(cells.map((c) => c.x))];
  const ys = [...new Set(cells.map((c) => c.y))];
  const W = 240;
  const left = 40;
  const top = 14;
  const cw = xs.length ? (W - left) / xs.length : 1;
  const ch = 16;
  const H = top + Math.max(1, ys.length) * ch + 2;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "heatmap" });
  const vs = cells.map((c) => c.v);
  const lo = Math.min(...vs, 0);
  const hi = Math.max(...vs, lo + 1);
  xs.forEach((x, i) =>
    root.append(label(svg("text", { x: left + i * cw + cw / 2, y: 10, class: "axis", "text-anchor": "middle" }), clip(x, 6))),
  );
  ys.forEach((y, j) =>
    root.append(label(svg("text", { x: left - 4, y: top + j * ch + 12, class: "axis", "text-anchor": "end" }), clip(y, 8))),
  );
  for (const c of cells) {
    const t = (c.v - lo) / (hi - lo);
    root.append(
      svg(
        "rect",
        {
          x: (left + xs.indexOf(c.x) * cw + 1).toFixed(1),
          y: top + ys.indexOf(c.y) * ch + 1,
          width: Math.max(1, cw - 2).toFixed(1),
          height: ch - 2,
          rx: 2,
          fill: `rgba(47, 111, 222, ${(0.08 + 0.92 * t).toFixed(2)})`,
        },
        tooltip(`${c.x} · ${c.y}: ${c.v} ${unit}`),
      ),
    );
  }
  return root;
}

function label<T extends SVGTextElement>(node: T, text: string): T {
  node.textContent = text;
  return node;
}

function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
