// The benchmark page: `window.bench` exposes one call per measurement; bench/run.mjs drives it
// through playwright-core and does the statistics. Timings are taken here with
// performance.now() around exactly the measured work; database creation, preloading and
// deletion happen outside them.
import { SyncClient } from "sync-core";
import { DexieContender } from "./dexie-contender.ts";
import { rowsDigest } from "./digest.ts";
import { FloorContender } from "./floor.js";
import { bulkWrite, deleteDb, openDb } from "./idb.ts";
import { SyncCoreContender, openClient, preloadSyncCore } from "./sync-core-contender.ts";
import { SNAPSHOTS_PER_WIDGET, TENANT_ID, UNIVERSE, configureWorkload, keyOf, preloadSnapshot, versionedRow } from "./workload.mjs";

// The workload's size comes from the page's URL (run.mjs configures its server the same way):
// the figures by default, smaller ones for `make bench-quick`.
const params = new URLSearchParams(location.search);
configureWorkload({ pages: Number(params.get("pages") ?? 10), scale: Number(params.get("scale") ?? 1) });

// The wasm-bindgen glue instantiates with WebAssembly.instantiateStreaming; wrapping it is the
// only way to reach the module's Memory without changing the package.
const wasmMemories: WebAssembly.Memory[] = [];
const streaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
WebAssembly.instantiateStreaming = async (source, imports) => {
  const result = await streaming(source, imports);
  const memory = result.instance.exports.memory;
  if (memory instanceof WebAssembly.Memory) wasmMemories.push(memory);
  return result;
};

const digests = new Map<string, Promise<string>>();
function digestOf(w: number, j: number, rows: unknown[]): Promise<string> {
  const k = `${w}:${j}`;
  let d = digests.get(k);
  if (!d) {
    d = rowsDigest(rows);
    digests.set(k, d);
  }
  return d;
}

interface Contender {
  name: string;
  prepare(scenario: string, digestOf: (w: number, j: number, rows: unknown[]) => Promise<string>): Promise<void>;
  run(scenario: string): Promise<unknown>;
  counts?(): Promise<Record<string, number>>;
  cleanup(): Promise<void>;
}

const contenders: Record<string, Contender> = {
  "sync-core": new SyncCoreContender(),
  floor: new FloorContender() as unknown as Contender,
  dexie: new DexieContender(),
};

/**
 * Database deletions still running: cleanup() returns at once so the next preparation overlaps
 * the deletion, and run() waits for all of them before it starts its timer.
 */
const deleting = new Set<Promise<void>>();
function settle(): Promise<void[]> {
  return Promise.all(deleting);
}

const RENDER_WIDGETS = 48;
let renderTenant = "";
let renderDbName = "";
/** The dashboard first render shows: its own id, beyond the preload's dashboards. */
const renderDashboard = () => keyOf("Dashboard", UNIVERSE.Dashboard);

/** What one first render read: widgets of the dashboard and snapshots held for them. */
interface Rendered {
  widgets: { id?: unknown }[];
  snapshots: ({ widgetId?: unknown; generatedAt?: unknown } | undefined)[];
}

/**
 * Checked outside the timing: exactly the 48 widgets of the render dashboard, and for each the
 * newest preloaded snapshot (the run fails on anything else, so neither side can skip work).
 */
function checkRendered(which: string, r: Rendered): { widgets: number; found: number } {
  const ids = new Set(r.widgets.map((w) => w.id));
  let found = 0;
  r.snapshots.forEach((s, i) => {
    if (s === undefined) return;
    const w = Number(String(r.widgets[i]?.id).slice(4));
    const expected = preloadSnapshot(w, SNAPSHOTS_PER_WIDGET - 1);
    if (s.widgetId !== expected.widgetId || s.generatedAt !== expected.generatedAt) {
      throw new Error(`${which} first render: widget ${String(r.widgets[i]?.id)} got snapshot ${String(s.widgetId)} ${String(s.generatedAt)}`);
    }
    found += 1;
  });
  if (ids.size !== r.widgets.length) throw new Error(`${which} first render: repeated widgets`);
  return { widgets: r.widgets.length, found };
}

const bench = {
  wasmMemoryBytes: () => wasmMemories.reduce((a, m) => a + m.buffer.byteLength, 0),

  /** Prepares `contender` for `scenario` (outside the timing). */
  async prepare(contender: string, scenario: string): Promise<void> {
    await contenders[contender]!.prepare(scenario, digestOf);
  },

  /** The timed part: pull the scenario's pages (after pending deletions have finished). */
  async run(contender: string, scenario: string): Promise<{ ms: number; waitedMs: number; result: unknown }> {
    const w0 = performance.now();
    await settle();
    const t0 = performance.now();
    const result = await contenders[contender]!.run(scenario);
    return { ms: performance.now() - t0, waitedMs: t0 - w0, result };
  },

  async counts(contender: string): Promise<Record<string, number> | null> {
    return (await contenders[contender]!.counts?.()) ?? null;
  },

  /** Closes and starts deleting the contender's database; settle() or the next run() waits. */
  cleanup(contender: string): void {
    const deletion = contenders[contender]!.cleanup();
    deleting.add(deletion);
    // A failed deletion stays in the set, so the next settle() rejects with its error.
    deletion.then(() => deleting.delete(deletion), () => undefined);
  },

  /** Waits for every deletion cleanup() started. */
  async settle(): Promise<void> {
    await settle();
  },

  /**
   * First render set-up: one sync-core database holding the warm preload (100 000 items in the
   * full run, 12 snapshots for each of ≥ 48 widgets), in which widgets 0–47 (the ones with
   * snapshots) are moved to a dashboard of their own, so that dashboard has exactly 48 widgets,
   * each with snapshots. Both sides of the measurement read this same database.
   */
  async renderSetup(): Promise<void> {
    renderTenant = `${TENANT_ID}render${Date.now()}`;
    const client = await openClient(renderTenant, "warm");
    renderDbName = client.databaseName;
    client.close();
    await preloadSyncCore(renderDbName, digestOf);
    const dashboard = renderDashboard();
    // Schema 7: the replicated stores take their keys out of line.
    const records: { store: string; value: unknown; key: string }[] = [
      { store: "Dashboard", value: { key: dashboard, version: 1, row: { ...versionedRow("Dashboard", 0, 1), id: dashboard } }, key: dashboard },
    ];
    for (let w = 0; w < RENDER_WIDGETS; w += 1) {
      const row = { ...versionedRow("Widget", w, 2), dashboardId: dashboard };
      records.push({ store: "Widget", value: { key: row.id, version: 2, row, dashboardId: dashboard }, key: row.id as string });
    }
    const db = await openDb(renderDbName);
    await bulkWrite(db, records);
    db.close();
  },

  /**
   * sync-core's first render of the dashboard, from a closed page: open the client, list the
   * dashboard's widgets, read the newest snapshot of each.
   */
  async renderSyncCore(): Promise<{ ms: number; widgets: number; found: number }> {
    const t0 = performance.now();
    const client = await SyncClient.open({
      baseUrl: `${location.origin}/w/warm`,
      tenantId: renderTenant,
      userId: "usr_bench",
      deviceId: "dev_bench",
      autoSync: false,
      wasmUrl: "/sync_core_bg.wasm",
    });
    const widgets = await client.widgets(renderDashboard());
    const snapshots = await Promise.all(widgets.map((w) => client.latestSnapshot(w.id)));
    const ms = performance.now() - t0;
    client.close();
    return { ms, ...checkRendered("sync-core", { widgets, snapshots }) };
  },

  /**
   * The floor, raw IndexedDB on the same database: `indexedDB.open`, then one readonly
   * transaction with the `Widget` dashboard-index `getAll` and one reverse cursor per widget
   * on `WidgetSnapshot` (the least any reader of this schema must do), keeping `.row`.
   */
  async renderRaw(): Promise<{ ms: number; widgets: number; found: number }> {
    const t0 = performance.now();
    const db = await openDb(renderDbName);
    const rendered = await new Promise<Rendered>((resolve, reject) => {
      const tx = db.transaction(["Widget", "WidgetSnapshot"], "readonly");
      tx.onabort = () => reject(tx.error);
      const list = tx.objectStore("Widget").index("by_dashboard").getAll(renderDashboard());
      list.onerror = () => reject(list.error);
      list.onsuccess = () => {
        const widgets = (list.result as { row: { id: string } }[]).map((r) => r.row);
        const snapshots: Rendered["snapshots"] = new Array(widgets.length);
        let left = widgets.length;
        if (left === 0) resolve({ widgets, snapshots });
        const store = tx.objectStore("WidgetSnapshot");
        widgets.forEach((w, i) => {
          const c = store.openCursor(IDBKeyRange.bound([w.id], [w.id, []]), "prev");
          c.onerror = () => reject(c.error);
          c.onsuccess = () => {
            snapshots[i] = c.result ? (c.result.value as { row: Rendered["snapshots"][number] }).row : undefined;
            left -= 1;
            if (left === 0) resolve({ widgets, snapshots });
          };
        });
      };
    });
    const ms = performance.now() - t0;
    db.close();
    return { ms, ...checkRendered("raw", rendered) };
  },

  /** `renameQuery` → durable commit (the promise resolves after the strict transaction). */
  async renames(n: number): Promise<number[]> {
    const client = await openClient(renderTenant, "warm");
    const out: number[] = [];
    let q = 1;
    for (let i = 0; i < n; i += 1) {
      if (q % 5 === 0) q += 1; // every fifth query belongs to another user
      const id = keyOf("Query", q);
      q += 1;
      const t0 = performance.now();
      await client.renameQuery(id, { default: `Renamed ${i}` });
      out.push(performance.now() - t0);
    }
    client.close();
    return out;
  },

  /**
   * A pull on an open client that has pulled before, against the same client's first pull
   * (a new client loads the held index; the next pull of the same client starts from what
   * the first one kept). The render database is first synced to the end of the warm pages, so
   * every timed pull fetches one empty page and commits it. `n` pairs, each on its own client.
   */
  async repeatPulls(n: number): Promise<{ first: number[]; next: number[] }> {
    const synced = await openClient(renderTenant, "warm");
    await synced.pull();
    synced.close();
    const first: number[] = [];
    const next: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const client = await openClient(renderTenant, "warm");
      let t0 = performance.now();
      await client.pull();
      first.push(performance.now() - t0);
      t0 = performance.now();
      await client.pull();
      next.push(performance.now() - t0);
      client.close();
    }
    return { first, next };
  },

  async renderCleanup(): Promise<void> {
    await deleteDb(renderDbName);
  },
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}
window.bench = bench;
document.title = "sync-core bench ready";
