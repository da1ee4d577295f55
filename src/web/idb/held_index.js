// The held index's IndexedDB side (src/engine/store/held_index.rs says what it is). Whole
// stores cross the boundary as one value each, never record by record.

import { guarded, snapshotMetaOf } from "./batch.js";

/**
 * Every record of the held index store: `[keys, values]`, in key order (kind parts are JSON
 * text, `at` the cursor, raised query versions numbers).
 * @returns {Promise<[IDBValidKey[], unknown[]]>}
 */
export function readHeldIndex(tx, storeName) {
  const store = tx.objectStore(storeName);
  return new Promise((resolve, reject) => {
    const keys = store.getAllKeys();
    const values = store.getAll();
    values.onsuccess = () => resolve([keys.result, values.result]);
    keys.onerror = () => reject(keys.error);
    values.onerror = () => reject(values.error);
  });
}

/**
 * Rebuilds the index from the rows, in one readonly transaction: each versioned store's
 * records `{key, version, row}` as `[[key, version], …]` (Widget: `[key, version, dashboardId,
 * metricKey]`, references as strings or null), the metadata of every snapshot of
 * `snapshotStore` as `[widgetId, generatedAt, paramsHash, rowsDigest]` (read from the records,
 * schema 8 keeps no copy of it; records not of sync-core's shape skipped, `snapshotMetaOf`),
 * and the stored values of `metaKeys` (the cursor, the settle epoch, the page serial).
 * @returns {Promise<{meta: unknown[], parts: [string, string][]}>} parts as [kind, JSON text]
 */
export function scanHeld(tx, rowStores, widgetStore, snapshotKind, snapshotStore, metaStore, metaKeys) {
  const str = (v) => (typeof v === "string" ? v : null);
  return new Promise((resolve, reject) => {
    const parts = [];
    let left = rowStores.length + 1 + metaKeys.length;
    const meta = new Array(metaKeys.length);
    const done = () => {
      left -= 1;
      if (left === 0) resolve({ meta, parts });
    };
    for (const name of rowStores) {
      const request = tx.objectStore(name).getAll();
      request.onsuccess = guarded(reject, () => {
        const entries =
          name === widgetStore
            ? request.result.map((r) => [r?.key, r?.version, str(r?.row?.dashboardId), str(r?.row?.metricKey)])
            : request.result.map((r) => [r?.key, r?.version]);
        parts.push([name, JSON.stringify(entries)]);
        done();
      });
      request.onerror = () => reject(request.error);
    }
    const snapshots = tx.objectStore(snapshotStore).getAll();
    snapshots.onsuccess = guarded(reject, () => {
      const metas = [];
      for (const s of snapshots.result) {
        const meta = snapshotMetaOf(s);
        if (meta !== null && typeof s.widgetId === "string") metas.push([s.widgetId, ...meta]);
      }
      parts.push([snapshotKind, JSON.stringify(metas)]);
      done();
    });
    snapshots.onerror = () => reject(snapshots.error);
    metaKeys.forEach((key, i) => {
      const request = tx.objectStore(metaStore).get(key);
      request.onsuccess = () => {
        meta[i] = request.result;
        done();
      };
      request.onerror = () => reject(request.error);
    });
  });
}
