// Contender 1: the sync-core npm package on its real pull path (fetch → wasm engine →
// IndexedDB), opened the way an app opens it. The database is created by `SyncClient.open`
// and, for the warm scenario, filled with the preload in sync-core's own record format
// (src/web/idb/records.rs) by raw IndexedDB before the client is reopened — outside the timing.
import { SyncClient } from "sync-core";
import { bulkWrite, deleteDb, openDb } from "./idb.ts";
import { TENANT_ID, USER_ID, preloadItems } from "./workload.mjs";

export const WASM_URL = "/sync_core_bg.wasm";

export async function openClient(tenantId: string, scenario: string): Promise<SyncClient> {
  const client = await SyncClient.open({
    baseUrl: `${location.origin}/w/${scenario}`,
    tenantId,
    userId: USER_ID,
    deviceId: "dev_bench",
    pageSize: 2000,
    maxPages: 1000,
    autoSync: false,
    wasmUrl: WASM_URL,
    getToken: () => "bench-token",
  });
  // Leadership (Web Locks) is taken asynchronously; only the leader pulls itself.
  for (let i = 0; i < 200 && !(await client.status()).leader; i += 1) await new Promise((r) => setTimeout(r, 5));
  return client;
}

/**
 * Writes the warm preload into a sync-core database (opened once by the client, so at the
 * current schema): every record as src/web/idb/records.rs writes it, and the held index exact
 * at the preload's cursor, which the pull that left these rows would have left.
 */
export async function preloadSyncCore(
  dbName: string,
  digestOf: (w: number, j: number, rows: unknown[]) => Promise<string>,
): Promise<void> {
  const db = await openDb(dbName);
  const records: { store: string; value: unknown; key?: IDBValidKey }[] = [];
  // The held index a sync that left these rows leaves beside them (src/engine/store/held_index.rs).
  const held = new Map<string, unknown[]>();
  const hold = (kind: string, entry: unknown) => {
    if (!held.has(kind)) held.set(kind, []);
    held.get(kind)!.push(entry);
  };
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  let j = 0;
  for (const it of preloadItems()) {
    if (it.kind === "WidgetSnapshot") {
      const r = it.row;
      const digest = await digestOf(Number(r.widgetId.slice(4)), j % 12, r.rows);
      j += 1;
      // Schema 7: out-of-line keys, the same as the key paths of earlier versions.
      records.push({ store: it.kind, value: { widgetId: r.widgetId, generatedAt: r.generatedAt, paramsHash: r.paramsHash, rowsDigest: digest, row: r }, key: [r.widgetId, r.generatedAt] });
      hold(it.kind, [r.widgetId, r.generatedAt, r.paramsHash, digest]);
    } else {
      const value: Record<string, unknown> = { key: it.key, version: 1, row: it.row };
      if (it.kind === "Widget") value.dashboardId = it.row.dashboardId;
      records.push({ store: it.kind, value, key: it.key });
      hold(it.kind, it.kind === "Widget" ? [it.key, 1, str(it.row.dashboardId), str(it.row.metricKey)] : [it.key, 1]);
    }
  }
  for (const kind of ["Dashboard", "Widget", "MetricDefinition", "WidgetSnapshot", "Query", "Projection", "DqAlertOpen"]) {
    records.push({ store: "held_index", value: JSON.stringify(held.get(kind) ?? []), key: kind });
  }
  records.push({ store: "held_index", value: "warm.0", key: "at" });
  // A warm database has synced before: it holds a cursor (the bench server reads "x.N" as log
  // page N, so this one is the start of the scenario's pages). Without it the pull would be a
  // cold start, i.e. a full replacement (PROTOCOL §9.1) that ends by sweeping every preloaded
  // row the scenario's pages do not send.
  records.push({ store: "meta", value: "warm.0", key: "cursor" });
  // And the wrapper's record of that sync (`pkg/src/budget-store.ts`): a client over this
  // database knows it has synced before, as a returning user's does.
  records.push({ store: "meta", value: "2026-12-01T08:00:00.000Z", key: "lastSyncedAt" });
  await bulkWrite(db, records);
  db.close();
}

export class SyncCoreContender {
  readonly name = "sync-core";
  #n = 0;
  #client: SyncClient | null = null;
  #dbName = "";

  async prepare(scenario: string, digestOf: (w: number, j: number, rows: unknown[]) => Promise<string>): Promise<void> {
    this.#n += 1;
    const tenantId = `${TENANT_ID}${this.#n}x${Date.now()}`;
    let client = await openClient(tenantId, scenario);
    this.#dbName = client.databaseName;
    if (scenario === "warm") {
      client.close();
      await preloadSyncCore(this.#dbName, digestOf);
      client = await openClient(tenantId, scenario);
    }
    this.#client = client;
  }

  async run(_scenario: string): Promise<{ items: number; bytes: number; report: unknown }> {
    const report = (await this.#client!.pull()) as unknown as { items?: number; bytes?: number; pages?: number };
    return { items: 0, bytes: 0, report };
  }

  async counts(): Promise<Record<string, number>> {
    const db = await openDb(this.#dbName);
    const out: Record<string, number> = {};
    const stores = ["Dashboard", "Widget", "MetricDefinition", "Query", "Projection", "DqAlertOpen", "WidgetSnapshot"];
    const tx = db.transaction(stores, "readonly");
    await Promise.all(
      stores.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const r = tx.objectStore(s).count();
            r.onsuccess = () => {
              out[s] = r.result;
              resolve();
            };
            r.onerror = () => reject(r.error);
          }),
      ),
    );
    db.close();
    return out;
  }

  async cleanup(): Promise<void> {
    this.#client?.close();
    this.#client = null;
    await deleteDb(this.#dbName);
  }
}
