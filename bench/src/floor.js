// Contender 2, the raw IndexedDB floor, in plain JS: fetch each page, JSON.parse it, put every
// item (and the cursor) in one transaction per page. No version check, no retention, no dedupe,
// no privacy stripping: the physical limit of moving these pages into IndexedDB.
import { bulkWrite, deleteDb, done, openDb } from "./idb.ts";
import { preloadItems } from "./workload.mjs";

function itemKey(item) {
  if (item.op === "append") return `${item.kind}:${item.row.widgetId}:${item.row.generatedAt}`;
  if (item.op === "tombstone") return `${item.kind}:${item.id}`;
  if (item.op === "reset") return `${item.kind}:`;
  return `${item.kind}:${item.row.id ?? item.row.key}`;
}

function upgrade(db) {
  db.createObjectStore("items");
  db.createObjectStore("meta");
}

export class FloorContender {
  name = "floor";
  #n = 0;
  #db = null;
  #dbName = "";

  async prepare(scenario) {
    this.#n += 1;
    this.#dbName = `bench-floor-${this.#n}-${Date.now()}`;
    this.#db = await openDb(this.#dbName, 1, upgrade);
    if (scenario === "warm") {
      const records = (function* () {
        for (const it of preloadItems()) {
          const item = it.kind === "WidgetSnapshot" ? { kind: it.kind, op: "append", row: it.row } : { kind: it.kind, op: "upsert", row: it.row, version: 1 };
          yield { store: "items", value: item, key: itemKey(item) };
        }
      })();
      await bulkWrite(this.#db, records);
    }
  }

  async run(scenario) {
    const base = `${location.origin}/w/${scenario}/internal/sync/pull?pageSize=2000`;
    let cursor = null;
    let items = 0;
    let bytes = 0;
    for (;;) {
      const response = await fetch(cursor === null ? base : `${base}&cursor=${encodeURIComponent(cursor)}`, { cache: "no-store" });
      const text = await response.text();
      bytes += text.length;
      const page = JSON.parse(text);
      const tx = this.#db.transaction(["items", "meta"], "readwrite", { durability: "relaxed" });
      const store = tx.objectStore("items");
      for (const item of page.items) store.put(item, itemKey(item));
      tx.objectStore("meta").put(page.nextCursor, "cursor");
      await done(tx);
      items += page.items.length;
      cursor = page.nextCursor;
      if (page.drained) return { items, bytes };
    }
  }

  async cleanup() {
    this.#db?.close();
    this.#db = null;
    await deleteDb(this.#dbName);
  }
}
