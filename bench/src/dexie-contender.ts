// Contender 3: the same rules as sync-core, written straightforwardly in TypeScript on Dexie 4
// — what a team would write instead of using the engine. Per page: fetch, JSON.parse, validate
// the envelope and key fields, strip private fields (§7), digest every appended snapshot's rows
// with crypto.subtle (before the transaction: it is not an IndexedDB request), then one Dexie
// readwrite transaction that reads the held versions and snapshot keys the page touches, walks
// the items in log order (reset clears the kind, upserts only if newer, tombstones delete — a
// widget's snapshots go with it — appends skip held keys and content identical to the newest
// held, then retention keeps the newest RETENTION), writes, and stores the cursor.
import Dexie, { type Table } from "dexie";
import { rowsDigest } from "./digest.ts";
import { bulkWrite } from "./idb.ts";
import { RETENTION, USER_ID, keyOf, preloadItems } from "./workload.mjs";

const VERSIONED = ["Dashboard", "Widget", "MetricDefinition", "Query", "Projection", "DqAlertOpen"] as const;
type Versioned = (typeof VERSIONED)[number];
const KEY_FIELD: Record<Versioned, string> = {
  Dashboard: "id",
  Widget: "id",
  MetricDefinition: "key",
  Query: "id",
  Projection: "key",
  DqAlertOpen: "id",
};
type Row = Record<string, unknown>;
interface RowRecord {
  key: string;
  version: number;
  row: Row;
  dashboardId?: string;
}
interface SnapshotRecord {
  widgetId: string;
  generatedAt: string;
  paramsHash: string;
  rowsDigest: string;
  row: Row;
}
interface Item {
  kind: string;
  op: string;
  row?: Row;
  version?: number;
  id?: string;
}

class BenchDexie extends Dexie {
  rows!: Record<Versioned, Table<RowRecord, string>>;
  snapshots!: Table<SnapshotRecord, [string, string]>;
  meta!: Table<unknown, string>;
  constructor(name: string) {
    super(name, { chromeTransactionDurability: "relaxed" });
    this.version(1).stores({
      Dashboard: "key",
      Widget: "key, dashboardId",
      MetricDefinition: "key",
      Query: "key",
      Projection: "key",
      DqAlertOpen: "key",
      WidgetSnapshot: "[widgetId+generatedAt], widgetId",
      meta: "",
    });
    this.rows = Object.fromEntries(VERSIONED.map((k) => [k, this.table(k)])) as Record<Versioned, Table<RowRecord, string>>;
    this.snapshots = this.table("WidgetSnapshot");
    this.meta = this.table("meta");
  }
}

const isVersioned = (k: string): k is Versioned => (VERSIONED as readonly string[]).includes(k);

function validate(page: unknown): { items: Item[]; nextCursor: string; drained: boolean } {
  const p = page as { items?: unknown; nextCursor?: unknown; drained?: unknown };
  if (!Array.isArray(p.items) || typeof p.nextCursor !== "string" || typeof p.drained !== "boolean") {
    throw new Error("malformed page");
  }
  for (const item of p.items as Item[]) {
    if (item.op === "reset") continue;
    if (item.op === "tombstone" && isVersioned(item.kind) && typeof item.id === "string") continue;
    if (item.op === "upsert" && isVersioned(item.kind) && Number.isInteger(item.version)) {
      if (typeof item.row?.[KEY_FIELD[item.kind]] === "string") continue;
    }
    if (item.op === "append" && item.kind === "WidgetSnapshot" && item.row) {
      const r = item.row;
      if (typeof r.widgetId === "string" && typeof r.generatedAt === "string" && typeof r.paramsHash === "string" && Array.isArray(r.rows)) continue;
    }
    throw new Error(`bad item ${JSON.stringify(item).slice(0, 80)}`);
  }
  return p as { items: Item[]; nextCursor: string; drained: boolean };
}

function strip(item: Item): void {
  const row = item.row;
  if (!row) return;
  if (item.kind === "Dashboard" && Array.isArray(row.sharedWith)) {
    row.sharedWith = (row.sharedWith as Row[])
      .filter((e) => e && (e.kind === "user" || e.kind === "role") && typeof e.id === "string")
      .map((e) => ({ kind: e.kind, id: e.id }));
  } else if (item.kind === "Query" && row.ownerId !== USER_ID) {
    delete row.sql_template;
  } else if (item.kind === "DqAlertOpen") {
    for (const k of Object.keys(row)) if (!["id", "checkKey", "severity", "observedAt"].includes(k)) delete row[k];
  }
}

/**
 * A pull begun without a cursor is a full replacement (PROTOCOL §9.1), as in sync-core: the
 * keys it sent are remembered, and the page that drains it removes, in its own transaction,
 * every row not sent and every snapshot whose widget is not held.
 */
type Replacement = { sent: Map<string, Set<string>> };

async function sweep(db: BenchDexie, replacement: Replacement): Promise<void> {
  for (const kind of VERSIONED) {
    const sent = replacement.sent.get(kind) ?? new Set<string>();
    const held = (await db.rows[kind].toCollection().primaryKeys()) as string[];
    const gone = held.filter((k) => !sent.has(k));
    if (gone.length > 0) await db.rows[kind].bulkDelete(gone);
  }
  const widgets = new Set((await db.rows.Widget.toCollection().primaryKeys()) as string[]);
  const snapshots = (await db.snapshots.toCollection().primaryKeys()) as unknown as [string, string][];
  const orphans = snapshots.filter(([w]) => !widgets.has(w));
  if (orphans.length > 0) await db.snapshots.bulkDelete(orphans);
}

async function applyPage(
  db: BenchDexie,
  page: { items: Item[]; nextCursor: string; drained: boolean },
  replacement: Replacement | null,
): Promise<void> {
  for (const item of page.items) strip(item);
  const digests = new Map<Item, string>();
  await Promise.all(
    page.items
      .filter((i) => i.op === "append")
      .map(async (i) => digests.set(i, await rowsDigest(i.row!.rows as unknown[]))),
  );
  const tables = [...VERSIONED.map((k) => db.rows[k]), db.snapshots, db.meta];
  await db.transaction("rw", tables, async () => {
    // Held state the page depends on.
    const versions = new Map<string, Map<string, number>>();
    for (const kind of VERSIONED) {
      const keys = [...new Set(page.items.filter((i) => i.kind === kind).map((i) => (i.op === "tombstone" ? i.id! : (i.row?.[KEY_FIELD[kind]] as string))).filter(Boolean))];
      const held = await db.rows[kind].bulkGet(keys);
      versions.set(kind, new Map(held.flatMap((r) => (r ? [[r.key, r.version] as [string, number]] : []))));
    }
    const widgets = [...new Set(page.items.filter((i) => i.op === "append").map((i) => i.row!.widgetId as string))];
    const snaps = new Map<string, { keys: string[]; newest?: { paramsHash: string; rowsDigest: string } }>();
    await Promise.all(
      widgets.map(async (w) => {
        const range = db.snapshots.where("[widgetId+generatedAt]").between([w, Dexie.minKey], [w, Dexie.maxKey]);
        const keys = (await range.primaryKeys()).map((k) => k[1]);
        const last = await range.last();
        snaps.set(w, { keys, newest: last && { paramsHash: last.paramsHash, rowsDigest: last.rowsDigest } });
      }),
    );
    // Walk the page in log order against that state.
    const puts = new Map<string, Map<string, RowRecord>>(VERSIONED.map((k) => [k, new Map()]));
    const deletes = new Map<string, Set<string>>(VERSIONED.map((k) => [k, new Set()]));
    const snapshotPuts = new Map<string, SnapshotRecord>();
    const snapshotDeletes: [string, string][] = [];
    const widgetsGone: string[] = [];
    for (const item of page.items) {
      if (item.op === "reset") {
        if (isVersioned(item.kind)) {
          await db.rows[item.kind].clear();
          versions.get(item.kind)!.clear();
          puts.get(item.kind)!.clear();
          deletes.get(item.kind)!.clear();
        } else {
          await db.snapshots.clear();
          snaps.clear();
          snapshotPuts.clear();
          snapshotDeletes.length = 0;
        }
      } else if (item.op === "upsert" && isVersioned(item.kind)) {
        const key = item.row![KEY_FIELD[item.kind]] as string;
        const held = versions.get(item.kind)!.get(key);
        if (held !== undefined && item.version! <= held) continue;
        versions.get(item.kind)!.set(key, item.version!);
        deletes.get(item.kind)!.delete(key);
        const record: RowRecord = { key, version: item.version!, row: item.row! };
        if (item.kind === "Widget") record.dashboardId = item.row!.dashboardId as string;
        puts.get(item.kind)!.set(key, record);
      } else if (item.op === "tombstone" && isVersioned(item.kind)) {
        if (item.kind === "Widget") {
          // Its snapshots go with it, held ones and ones appended earlier in the page alike.
          const w = item.id!;
          widgetsGone.push(w);
          snaps.set(w, { keys: [] });
          for (const k of [...snapshotPuts.keys()]) if (k.startsWith(`${w}\u0000`)) snapshotPuts.delete(k);
        }
        if (!versions.get(item.kind)!.delete(item.id!)) continue;
        puts.get(item.kind)!.delete(item.id!);
        deletes.get(item.kind)!.add(item.id!);
      } else if (item.op === "append") {
        const row = item.row!;
        const w = row.widgetId as string;
        const at = row.generatedAt as string;
        const s = snaps.get(w) ?? { keys: [] };
        snaps.set(w, s);
        if (s.keys.includes(at)) continue;
        const digest = digests.get(item)!;
        if (s.newest && s.newest.paramsHash === row.paramsHash && s.newest.rowsDigest === digest && at > s.keys[s.keys.length - 1]!) continue;
        const record = { widgetId: w, generatedAt: at, paramsHash: row.paramsHash as string, rowsDigest: digest, row };
        s.keys.push(at);
        s.keys.sort();
        if (s.keys[s.keys.length - 1] === at) s.newest = { paramsHash: record.paramsHash, rowsDigest: digest };
        snapshotPuts.set(`${w}\u0000${at}`, record);
        while (s.keys.length > RETENTION) {
          const oldest = s.keys.shift()!;
          if (!snapshotPuts.delete(`${w}\u0000${oldest}`)) snapshotDeletes.push([w, oldest]);
        }
      }
    }
    for (const kind of VERSIONED) {
      if (deletes.get(kind)!.size > 0) await db.rows[kind].bulkDelete([...deletes.get(kind)!]);
      if (puts.get(kind)!.size > 0) await db.rows[kind].bulkPut([...puts.get(kind)!.values()]);
    }
    for (const w of widgetsGone) await db.snapshots.where("widgetId").equals(w).delete();
    if (snapshotDeletes.length > 0) await db.snapshots.bulkDelete(snapshotDeletes);
    if (snapshotPuts.size > 0) await db.snapshots.bulkPut([...snapshotPuts.values()]);
    if (replacement) {
      for (const item of page.items) {
        if (item.op !== "upsert" || !isVersioned(item.kind)) continue;
        const sent = replacement.sent.get(item.kind) ?? new Set<string>();
        sent.add(item.row![KEY_FIELD[item.kind]] as string);
        replacement.sent.set(item.kind, sent);
      }
      if (page.drained) await sweep(db, replacement);
    }
    await db.meta.put(page.nextCursor, "cursor");
  });
}

export class DexieContender {
  readonly name = "dexie";
  #n = 0;
  #db: BenchDexie | null = null;

  async prepare(scenario: string, digestOf: (w: number, j: number, rows: unknown[]) => Promise<string>): Promise<void> {
    this.#n += 1;
    this.#db = new BenchDexie(`bench-dexie-${this.#n}-${Date.now()}`);
    await this.#db.open();
    if (scenario !== "warm") return;
    // The preload goes in through the database Dexie opened, with the records Dexie itself
    // would store (plain objects, no hooks defined): the same bulk path as the other contenders.
    const records: { store: string; value: unknown; key?: IDBValidKey }[] = [];
    let j = 0;
    for (const it of preloadItems()) {
      if (it.kind === "WidgetSnapshot") {
        const r = it.row;
        const w = Number(r.widgetId.slice(4));
        const value: SnapshotRecord = { widgetId: r.widgetId, generatedAt: r.generatedAt, paramsHash: r.paramsHash, rowsDigest: await digestOf(w, j % 12, r.rows), row: r };
        j += 1;
        records.push({ store: it.kind, value });
      } else {
        const record: RowRecord = { key: it.key!, version: 1, row: it.row };
        if (it.kind === "Widget") record.dashboardId = it.row.dashboardId;
        records.push({ store: it.kind, value: record });
      }
    }
    // Synced before, like sync-core's warm preload: the pull is incremental.
    records.push({ store: "meta", value: "warm.0", key: "cursor" });
    await bulkWrite(this.#db.backendDB(), records);
  }

  async run(scenario: string): Promise<{ items: number; bytes: number }> {
    const db = this.#db!;
    const base = `${location.origin}/w/${scenario}/internal/sync/pull?pageSize=2000`;
    let cursor: string | undefined = (await db.meta.get("cursor")) as string | undefined;
    const replacement: Replacement | null = cursor === undefined ? { sent: new Map() } : null;
    let items = 0;
    let bytes = 0;
    for (;;) {
      const response = await fetch(cursor === undefined ? base : `${base}&cursor=${encodeURIComponent(cursor)}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`pull: ${response.status}`);
      const text = await response.text();
      bytes += text.length;
      const page = validate(JSON.parse(text));
      await applyPage(db, page, replacement);
      items += page.items.length;
      cursor = page.nextCursor;
      if (page.drained) return { items, bytes };
    }
  }

  /** Rows the database holds, for the sanity check against sync-core's. */
  async counts(): Promise<Record<string, number>> {
    const db = this.#db!;
    const out: Record<string, number> = {};
    for (const kind of VERSIONED) out[kind] = await db.rows[kind].count();
    out.WidgetSnapshot = await db.snapshots.count();
    return out;
  }

  async cleanup(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    if (db) await db.delete();
  }
}

export { keyOf };
