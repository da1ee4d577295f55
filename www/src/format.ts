/** Number, time and unit formatting shared by the widgets and the status bar. */

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

/** A metric value with its unit (`%`, `EUR`, `nights`, …) the way a hotel manager reads it. */
export function formatValue(value: unknown, unit = ""): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  const u = unit.trim();
  if (u === "%" || u === "percent" || u === "pct") return `${plain.format(value)}%`;
  if (u === "ratio") return `${plain.format(value * 100)}%`;
  const abs = Math.abs(value);
  const sign = value < 0 ? "−" : "";
  const n = abs >= 10_000 ? compact.format(abs) : plain.format(abs);
  if (u === "EUR" || u === "€") return `${sign}€${n}`;
  if (u === "USD" || u === "$") return `${sign}$${n}`;
  if (value < 0) return u ? `${sign}${n} ${u.replaceAll("_", " ")}` : `${sign}${n}`;
  return u ? `${n} ${u.replaceAll("_", " ")}` : n;
}

/** A short axis label (no unit). */
export function formatShort(value: number): string {
  return Math.abs(value) >= 1000 ? compact.format(value) : plain.format(Math.round(value * 10) / 10);
}

/** "3 min ago", "2 h ago", "just now". */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "unknown";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** A local wall-clock time like "14:05" (today) or "3 Nov 14:05". */
export function clock(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  const sameDay = d.toDateString() === new Date().toDateString();
  const time = d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${d.toLocaleDateString("en-GB", { day: "numeric", month: "short" })} ${time}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
