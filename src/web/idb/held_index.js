// The held index's IndexedDB side (src/engine/store/held_index.rs says what it is). Whole
// stores cross the boundary as one value each, never record by record.

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
 * metricKey]`, references as strings or null), the snapshot metadata store's keys as they are
 * (`[widgetId, generatedAt, paramsHash, rowsDigest]`), the stored cursor and settle epoch.
 * @returns {Promise<{at: unknown, epoch: unknown, parts: [string, string][]}>} parts as [kind, JSON text]
 */
export function scanHeld(tx, rowStores, widgetStore, snapshotKind, snapshotMetaStore, metaStore, cursorKey, epochKey) {
  const str = (v) => (typeof v === "string" ? v : null);
  return new Promise((resolve, reject) => {
    const parts = [];
    let left = rowStores.length + 3;
    let at;
    let epoch;
    const done = () => {
      left -= 1;
      if (left === 0) resolve({ at, epoch, parts });
    };
    for (const name of rowStores) {
      const request = tx.objectStore(name).getAll();
      request.onsuccess = () => {
        const entries =
          name === widgetStore
            ? request.result.map((r) => [r.key, r.version, str(r.row?.dashboardId), str(r.row?.metricKey)])
            : request.result.map((r) => [r.key, r.version]);
        parts.push([name, JSON.stringify(entries)]);
        done();
      };
      request.onerror = () => reject(request.error);
    }
    const metas = tx.objectStore(snapshotMetaStore).getAllKeys();
    metas.onsuccess = () => {
      parts.push([snapshotKind, JSON.stringify(metas.result)]);
      done();
    };
    metas.onerror = () => reject(metas.error);
    const cursor = tx.objectStore(metaStore).get(cursorKey);
    cursor.onsuccess = () => {
      at = cursor.result;
      done();
    };
    cursor.onerror = () => reject(cursor.error);
    const settled = tx.objectStore(metaStore).get(epochKey);
    settled.onsuccess = () => {
      epoch = settled.result;
      done();
    };
    settled.onerror = () => reject(settled.error);
  });
}
