// The benchmark workload (issue 7): seeded, deterministic pull pages shaped like the contract
// (PROTOCOL §2–§3). Pure functions of (scenario, seed), so the loopback server (Node) and the
// preloader in the page (browser) build exactly the same rows without shipping them around.
//
// Per page of 2000 items: ≈85 % upserts across the six versioned kinds (≈3 % of them stale,
// i.e. not newer than what a preloaded database holds), ≈5 % tombstones, ≈10 % snapshot
// appends of which ≈10 % repeat the widget's newest content under a new `generatedAt`.
// Scenario "cold": 10 pages into an empty database. Scenario "warm": 10 pages into a database
// already holding PRELOAD_TOTAL items (every versioned key below UNIVERSE at version 1, and
// SNAPSHOTS_PER_WIDGET snapshots for each of SNAPSHOT_WIDGETS widgets).
//
// The full figures are the (10 pages, 100 000 preloaded items). `make bench-quick` (run
// inside `make test`, where minutes matter) shrinks them with configureWorkload() — the same
// shapes and mix, fewer pages and a preload `scale` times the size. Node (server) and page each
// call it with the same values before building anything, so both sides stay in step.

export const PAGE_SIZE = 2000;
/** Pull pages per scenario (10 in the full run). */
export let PAGES = 10;
export const USER_ID = "usr_bench";
export const TENANT_ID = "tnt_bench";
export const RETENTION = 12;

/** Versioned keys per kind that the full warm database holds (version 1). Sum: 88 000. */
const FULL_UNIVERSE = {
  Dashboard: 2000,
  Widget: 8000,
  MetricDefinition: 1000,
  Query: 28000,
  Projection: 1000,
  DqAlertOpen: 48000,
};
const FULL_SNAPSHOT_WIDGETS = 1000;
/** Versioned keys per kind that the warm database holds (version 1), after scaling. */
export let UNIVERSE = { ...FULL_UNIVERSE };
/** Widgets with preloaded snapshots (at least the 48 the first-render measurement reads). */
export let SNAPSHOT_WIDGETS = FULL_SNAPSHOT_WIDGETS;
export const SNAPSHOTS_PER_WIDGET = RETENTION;
const total = () => Object.values(UNIVERSE).reduce((a, b) => a + b, 0) + SNAPSHOT_WIDGETS * SNAPSHOTS_PER_WIDGET;
/** Items the warm database holds before the pull: 100 000 in the full run. */
export let PRELOAD_TOTAL = total();

/**
 * Sets the workload's size: `pages` pull pages per scenario and a preload `scale` (1 = the
 * issue's 100 000 items; 0.1 = 10 000). Must run before any page or preload is built.
 */
export function configureWorkload({ pages = 10, scale = 1 } = {}) {
  if (!Number.isInteger(pages) || pages < 1) throw new Error(`bad page count ${pages}`);
  if (!(scale > 0 && scale <= 1)) throw new Error(`bad preload scale ${scale}`);
  PAGES = pages;
  UNIVERSE = Object.fromEntries(Object.entries(FULL_UNIVERSE).map(([k, n]) => [k, Math.round(n * scale)]));
  SNAPSHOT_WIDGETS = Math.max(48, Math.round(FULL_SNAPSHOT_WIDGETS * scale));
  PRELOAD_TOTAL = total();
}

const UPSERT_WEIGHTS = [
  ["Dashboard", 0.05],
  ["Widget", 0.2],
  ["MetricDefinition", 0.05],
  ["Query", 0.3],
  ["Projection", 0.05],
  ["DqAlertOpen", 0.35],
];
const PRELOAD_EPOCH = Date.UTC(2026, 0, 1);
const PAGES_EPOCH = Date.UTC(2026, 5, 1);

/** mulberry32: small, fast, good enough for a workload. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n, w = 6) => String(n).padStart(w, "0");
const iso = (ms) => new Date(ms).toISOString();

export function keyOf(kind, i) {
  switch (kind) {
    case "Dashboard":
      return `dsh_${pad(i)}`;
    case "Widget":
      return `wid_${pad(i)}`;
    case "MetricDefinition":
      return `metric.${pad(i)}`;
    case "Query":
      return `qry_${pad(i)}`;
    case "Projection":
      return `proj.${pad(i)}`;
    default:
      return `dqc_${pad(i)}`;
  }
}

/** The row of versioned `kind` number `i` at `version` (key field included). */
export function versionedRow(kind, i, version) {
  const id = keyOf(kind, i);
  // Formatted only for the kinds that carry it: toISOString dominates building the preload.
  const at = () => iso(PRELOAD_EPOCH + version * 60_000);
  switch (kind) {
    case "Dashboard":
      return {
        id,
        name_i18n: { default: `Revenue overview ${i} v${version}`, fr: `Vue revenus ${i}` },
        scope: "tenant",
        sharedWith: [
          { kind: "user", id: `usr_${pad(i % 97, 3)}` },
          { kind: "role", id: "role_gm" },
        ],
        tables: [keyOf("Projection", i % 1000), keyOf("Projection", (i + 1) % 1000)],
        updatedAt: at(),
      };
    case "Widget":
      return {
        id,
        dashboardId: keyOf("Dashboard", i % UNIVERSE.Dashboard),
        type: ["kpi", "timeseries", "breakdown", "funnel", "heatmap"][i % 5],
        title_i18n: { default: `Occupancy ${i}`, fr: `Occupation ${i}` },
        metricKey: keyOf("MetricDefinition", i % UNIVERSE.MetricDefinition),
        params: { range: "30d", propertyId: `prp_${i % 40}`, compare: "yoy" },
        paramsHash: `ph_${pad(i)}_${version % 3}`,
        freshness: { targetMinutes: 60, alertAtMinutes: 180 },
        layout: { x: i % 4, y: Math.floor(i / 4) % 12, w: 1, h: 1 },
      };
    case "MetricDefinition":
      return {
        key: id,
        version,
        name_i18n: { default: `Metric ${i}` },
        unit: i % 2 ? "EUR" : "%",
        format: "0.00",
      };
    case "Query":
      return {
        id,
        ownerId: i % 5 === 0 ? "usr_other" : USER_ID,
        name_i18n: { default: `Weekly bookings ${i} v${version}` },
        sql_template: `SELECT day, sum(amount) FROM bookings WHERE property_id = :p${i} GROUP BY day`,
      };
    case "Projection":
      return { key: id, lastSuccessAt: at(), lagMinutes: version % 90 };
    default:
      return {
        id,
        checkKey: `dq.bookings.null_rate.${i % 50}`,
        severity: ["info", "warning", "critical"][i % 3],
        observedAt: at(),
        jobId: `job_${i}`,
        observedValue: 0.125,
      };
  }
}

export const widgetOfSnapshot = (w) => keyOf("Widget", w);

/** The 24 days a snapshot covers, formatted once. */
const DAYS = Array.from({ length: 24 }, (_, d) => iso(PRELOAD_EPOCH + d * 86_400_000).slice(0, 10));

/** Snapshot rows for content number `content` (a pure function of it). */
export function snapshotRows(content) {
  const r = prng(content * 7919 + 17);
  const rows = [];
  for (let d = 0; d < 24; d += 1) {
    rows.push({ day: DAYS[d], value: Math.round(r() * 1e6) / 100, nights: Math.floor(r() * 500) });
  }
  return rows;
}

export function snapshotRow(w, generatedAtMs, content) {
  return {
    widgetId: widgetOfSnapshot(w),
    paramsHash: `ph_${pad(w)}_${content % 2}`,
    rows: snapshotRows(content),
    provenance: {
      computedAt: iso(generatedAtMs - 30_000),
      bytesScanned: 1_048_576 + content,
      slotMs: 420,
      warehouseJobId: `bq_${content}`,
      computedBy: "scheduler",
    },
    generatedAt: iso(generatedAtMs),
    freshnessLagSeconds: 30,
  };
}

/** The j-th preloaded snapshot of widget w (content numbers below 10^7 are preload ones). */
export function preloadSnapshot(w, j) {
  return snapshotRow(w, PRELOAD_EPOCH + (w * SNAPSHOTS_PER_WIDGET + j) * 1000, w * 100 + j);
}

/**
 * Every preloaded item: `{kind, key, version, row}` for versioned kinds, `{kind, row}` for snapshots.
 * @returns {Generator<{kind: string, key?: string, version?: number, row: any}>}
 */
export function* preloadItems() {
  for (const [kind, n] of Object.entries(UNIVERSE)) {
    for (let i = 0; i < n; i += 1) yield { kind, key: keyOf(kind, i), version: 1, row: versionedRow(kind, i, 1) };
  }
  for (let w = 0; w < SNAPSHOT_WIDGETS; w += 1) {
    for (let j = 0; j < SNAPSHOTS_PER_WIDGET; j += 1) yield { kind: "WidgetSnapshot", row: preloadSnapshot(w, j) };
  }
}

function pickKind(r) {
  let x = r();
  for (const [kind, w] of UPSERT_WEIGHTS) {
    if (x < w) return kind;
    x -= w;
  }
  return "DqAlertOpen";
}

/**
 * The PAGES pull pages of `scenario` ("cold" | "warm") as wire objects. Keys are drawn from
 * 1.3 × the preloaded universe, so in "warm" most upserts replace a held row and some add one.
 */
export function scenarioPages(scenario, seed = 7) {
  const r = prng(seed * 1000 + (scenario === "warm" ? 2 : 1));
  // Newest snapshot content per widget, as the client will hold it.
  const newest = new Map();
  if (scenario === "warm") {
    for (let w = 0; w < SNAPSHOT_WIDGETS; w += 1) newest.set(w, w * 100 + SNAPSHOTS_PER_WIDGET - 1);
  }
  let seq = 0;
  let content = 10_000_000;
  const pages = [];
  for (let p = 0; p < PAGES; p += 1) {
    const items = [];
    for (let n = 0; n < PAGE_SIZE; n += 1) {
      seq += 1;
      const x = r();
      if (x < 0.85) {
        const kind = pickKind(r);
        const i = Math.floor(r() * UNIVERSE[kind] * 1.3);
        const version = r() < 0.03 ? 1 : 1 + seq;
        items.push({ kind, op: "upsert", row: versionedRow(kind, i, version), version });
      } else if (x < 0.9) {
        const kind = pickKind(r);
        items.push({ kind, op: "tombstone", id: keyOf(kind, Math.floor(r() * UNIVERSE[kind])) });
      } else {
        const w = Math.floor(r() * SNAPSHOT_WIDGETS);
        const duplicate = r() < 0.1 && newest.has(w);
        const c = duplicate ? newest.get(w) : (content += 1);
        newest.set(w, c);
        items.push({ kind: "WidgetSnapshot", op: "append", row: snapshotRow(w, PAGES_EPOCH + seq * 1000, c) });
      }
    }
    pages.push({ items, nextCursor: `${scenario}.${p + 1}`, drained: p === PAGES - 1 });
  }
  return pages;
}
