// The benchmark page: `window.bench` exposes one call per measurement; bench/run.mjs drives it
// through playwright-core and does the statistics. Timings are taken here with
// performance.now() around exactly the measured work; database creation, preloading and
// deletion happen outside them.
import { SyncClient } from "sync-core";
import { DexieContender } from "./dexie-contender.ts";
import { rowsDigest } from "./digest.ts";
import { FloorContender } from "./floor.js";
import { done, openDb, deleteDb } from "./idb.ts";
import { SyncCoreContender, openClient, preloadSyncCore } from "./sync-core-contender.ts";
import { TENANT_ID, configureWorkload, keyOf, preloadSnapshot, widgetOfSnapshot } from "./workload.mjs";

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
const RENDER_RAW_DB = "bench-render-raw";

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
   * First render set-up: a sync-core database holding the warm preload (100 000 items, 12
   * snapshots for each of the 48 widgets rendered), and a raw database whose one store holds
   * exactly the 48 newest snapshot records those reads return.
   */
  async renderSetup(): Promise<void> {
    renderTenant = `${TENANT_ID}render${Date.now()}`;
    const client = await openClient(renderTenant, "warm");
    const name = client.databaseName;
    client.close();
    await preloadSyncCore(name, digestOf);
    await deleteDb(RENDER_RAW_DB);
    const raw = await openDb(RENDER_RAW_DB, 1, (db) => db.createObjectStore("latest", { keyPath: ["widgetId", "generatedAt"] }));
    const tx = raw.transaction("latest", "readwrite");
    for (let w = 0; w < RENDER_WIDGETS; w += 1) {
      const row = preloadSnapshot(w, 11);
      tx.objectStore("latest").put({ widgetId: row.widgetId, generatedAt: row.generatedAt, paramsHash: row.paramsHash, rowsDigest: await digestOf(w, 11, row.rows), row });
    }
    await done(tx);
    raw.close();
  },

  /** sync-core: open the client and read the newest snapshot of each of 48 widgets. */
  async renderSyncCore(): Promise<{ ms: number; found: number }> {
    const t0 = performance.now();
    const client = await SyncClient.open({
      baseUrl: `${location.origin}/w/warm`,
      tenantId: renderTenant,
      userId: "usr_bench",
      deviceId: "dev_bench",
      autoSync: false,
      wasmUrl: "/sync_core_bg.wasm",
    });
    const rows = await Promise.all(Array.from({ length: RENDER_WIDGETS }, (_, w) => client.latestSnapshot(widgetOfSnapshot(w))));
    const ms = performance.now() - t0;
    client.close();
    return { ms, found: rows.filter((r) => r !== undefined).length };
  },

  /** The floor: indexedDB.open + one getAll of the same 48 rows. */
  async renderRaw(): Promise<{ ms: number; found: number }> {
    const t0 = performance.now();
    const db = await openDb(RENDER_RAW_DB);
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const r = db.transaction("latest", "readonly").objectStore("latest").getAll();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const ms = performance.now() - t0;
    db.close();
    return { ms, found: rows.length };
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

  async renderCleanup(): Promise<void> {
    await deleteDb(`sync-core:${renderTenant}:usr_bench`);
    await deleteDb(RENDER_RAW_DB);
  },
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}
window.bench = bench;
document.title = "sync-core bench ready";
