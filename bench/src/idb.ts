// Small promise helpers over raw IndexedDB, used to set databases up outside the timing
// (preloading 100 000 items, deleting) and by the first-render floor.

export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

/** Opens `name`; `upgrade` runs only when `version` is given and newer than the stored one. */
export function openDb(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
    r.onupgradeneeded = () => upgrade?.(r.result);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error(`open ${name} blocked`));
  });
}

/** Deletes `name`, waiting for connections that are still closing. */
export function deleteDb(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
  });
}

/**
 * Writes `records` (store name, value, optional out-of-line key) into `db` in transactions of
 * `chunk` puts each, relaxed durability: the fastest way we found for IndexedDB to take 100 000
 * rows here. Each transaction is committed as soon as its puts are issued and nobody waits for
 * it before issuing the next, so the page cloning chunk n + 1 overlaps the browser process
 * writing chunk n; IndexedDB still runs them one after the other (same stores, readwrite).
 */
export async function bulkWrite(
  db: IDBDatabase,
  records: Iterable<{ store: string; value: unknown; key?: IDBValidKey }>,
  chunk = 5_000,
): Promise<void> {
  const commits: Promise<void>[] = [];
  let batch: { store: string; value: unknown; key?: IDBValidKey }[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const stores = [...new Set(batch.map((b) => b.store))];
    const tx = db.transaction(stores, "readwrite", { durability: "relaxed" });
    for (const b of batch) {
      const s = tx.objectStore(b.store);
      if (b.key === undefined) s.put(b.value);
      else s.put(b.value, b.key);
    }
    batch = [];
    // Commit now instead of when the page next yields: the browser process writes this chunk
    // while the page clones the next one.
    tx.commit();
    const commit = done(tx);
    // Awaited below; a failure before then must not count as an unhandled rejection.
    commit.catch(() => undefined);
    commits.push(commit);
  };
  for (const r of records) {
    batch.push(r);
    if (batch.length >= chunk) flush();
  }
  flush();
  await Promise.all(commits);
}
