// Batched IndexedDB requests for `IdbStore` (src/web/idb/batch.rs binds these).
//
// Why JS: every request issued through the `idb` crate allocates two wasm closures
// (onsuccess/onerror) and crosses the wasm boundary several times; a pulled page issues
// thousands of them (the CPU profile of a 20 000-item cold start showed ≈ 2 s of such glue).
// Here one boundary call issues all the requests of a batch and one promise returns a compact
// result. The semantics stay in Rust: these functions only read and write what they are told.
//
// Requests are issued in the order given, inside the caller's transaction, without awaiting
// anything else (the transaction stays alive). A failed read request rejects the promise with
// the request's DOMException.

/**
 * `body` as a request's success handler that rejects with what it throws. A throw escaping a
 * success handler aborts the transaction without settling the promise the read awaits: a value
 * another writer stored (`null` where a record belongs, a BigInt `JSON.stringify` refuses)
 * would make the read, and the pull behind it, wait forever instead of failing. The rejection
 * is a `StoredValueError`, which Rust reads as corrupt data (`IdbError::from_name`): a retry
 * would read the same value.
 */
export const guarded = (reject, body) => () => {
  try {
    body();
  } catch (error) {
    const e = new Error(`a stored value could not be read: ${error instanceof Error ? error.message : String(error)}`);
    e.name = "StoredValueError";
    reject(e);
  }
};

/**
 * `[generatedAt, paramsHash, rowsDigest]` of a snapshot record, or `null` for one sync-core did
 * not write (a field missing or not a string: another writer's). The metadata reads skip such
 * records, as they did before schema 8, when only sync-core's own snapshots had a metadata
 * twin: one foreign record must not stop planning and the held index for its widget.
 */
export function snapshotMetaOf(record) {
  const g = record?.generatedAt;
  const p = record?.paramsHash;
  const d = record?.rowsDigest;
  return typeof g === "string" && typeof p === "string" && typeof d === "string" ? [g, p, d] : null;
}

/**
 * The stored `version` of each `[storeName, key]` of `requests` (JSON text), in order:
 * -1 where no record is held, NaN where the record has no numeric `version`.
 * @returns {Promise<Float64Array>}
 */
export function readVersions(tx, requestsJson) {
  const requests = JSON.parse(requestsJson);
  const out = new Float64Array(requests.length);
  if (requests.length === 0) return Promise.resolve(out);
  const stores = new Map();
  return new Promise((resolve, reject) => {
    let left = requests.length;
    for (let i = 0; i < requests.length; i += 1) {
      const [name, key] = requests[i];
      let store = stores.get(name);
      if (store === undefined) {
        store = tx.objectStore(name);
        stores.set(name, store);
      }
      const request = store.get(key);
      request.onsuccess = () => {
        const record = request.result;
        // `?.` here and in the other readers: a stored value that is not an object (another
        // writer's) reaches Rust as data its decoding refuses with a typed error.
        out[i] = record === undefined ? -1 : typeof record?.version === "number" ? record.version : NaN;
        left -= 1;
        if (left === 0) resolve(out);
      };
      request.onerror = () => reject(request.error);
    }
  });
}

/**
 * Which keys of `keysJson` (a JSON array) `storeName` holds, in order: 1 held, 0 not
 * (`getKey`, no value read).
 * @returns {Promise<Uint8Array>}
 */
export function readKeysHeld(tx, storeName, keysJson) {
  const keys = JSON.parse(keysJson);
  const out = new Uint8Array(keys.length);
  if (keys.length === 0) return Promise.resolve(out);
  const store = tx.objectStore(storeName);
  return new Promise((resolve, reject) => {
    let left = keys.length;
    for (let i = 0; i < keys.length; i += 1) {
      const request = store.getKey(keys[i]);
      request.onsuccess = () => {
        out[i] = request.result === undefined ? 0 : 1;
        left -= 1;
        if (left === 0) resolve(out);
      };
      request.onerror = () => reject(request.error);
    }
  });
}

/**
 * The snapshot metadata held for each widget of `widgetsJson` (a JSON array of ids), read from
 * the records of `snapshotStore` (one `getAll` of the widget's key range each; records not of
 * sync-core's shape skipped, `snapshotMetaOf`). Schema 8 keeps no copy of it, so this clones the
 * snapshots' rows too: only the planner's fallback (no held index) and tests read it. Resolves
 * JSON text: one array per widget, in request order, of `[generatedAt, paramsHash, rowsDigest]`,
 * oldest first.
 * @returns {Promise<string>}
 */
export function readSnapshotMetas(tx, snapshotStore, widgetsJson) {
  const widgets = JSON.parse(widgetsJson);
  if (widgets.length === 0) return Promise.resolve("[]");
  const store = tx.objectStore(snapshotStore);
  const out = new Array(widgets.length);
  return new Promise((resolve, reject) => {
    let left = widgets.length;
    for (let i = 0; i < widgets.length; i += 1) {
      const request = store.getAll(IDBKeyRange.bound([widgets[i]], [widgets[i], []]));
      request.onsuccess = guarded(reject, () => {
        out[i] = request.result.map(snapshotMetaOf).filter((m) => m !== null);
        left -= 1;
        if (left === 0) resolve(JSON.stringify(out));
      });
      request.onerror = () => reject(request.error);
    }
  });
}

/**
 * Schema 4's backfill, run inside the upgrade transaction: puts the metadata record of every
 * held snapshot of `snapshotStore` into `metaStore`. Not awaited: the upgrade transaction
 * stays open until the cursor is done, and a failure aborts it (the open then fails and the
 * database keeps its old version).
 */
export function backfillSnapshotMeta(snapshotStore, metaStore) {
  const request = snapshotStore.openCursor();
  request.onsuccess = () => {
    const cursor = request.result;
    if (!cursor) return;
    const { widgetId, generatedAt, paramsHash, rowsDigest } = cursor.value;
    metaStore.put({ widgetId, generatedAt, paramsHash, rowsDigest });
    cursor.continue();
  };
}

/** Whether a stored value is a count of `meta` (the settle epoch, the page serial). */
const isCount = (value) => Number.isSafeInteger(value) && value >= 0;

/** The count after `value` (absent, or not a count: after 0). */
const nextCount = (value) => (isCount(value) ? value : 0) + 1;

/**
 * Schema 7, run inside the upgrade transaction `tx` of `db`: every store of `rowStores` and
 * `snapshotStore` becomes a store with out-of-line keys holding the same records under the
 * same keys (copied by one cursor each into a new store, which then takes the old one's name;
 * `widgetStore` gets its index `indexName` on `indexField` back), and `metaStore` is dropped and,
 * with `rebuildMeta` (an upgrade that stops at 7), rebuilt out of line with a record per copied
 * snapshot. Not awaited: the upgrade transaction stays
 * open until every cursor is done, and a failure aborts it (the open fails, the database keeps
 * its old version and every record).
 */
export function rekeyStores(db, tx, rowStores, snapshotStore, metaStore, widgetStore, indexName, indexField, rebuildMeta) {
  if (db.objectStoreNames.contains(metaStore)) db.deleteObjectStore(metaStore);
  const metas = rebuildMeta ? db.createObjectStore(metaStore) : null;
  const copy = (name, each) => {
    const from = tx.objectStore(name);
    const to = db.createObjectStore(`${name}~7`);
    const request = from.openCursor();
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor) {
        to.put(cursor.value, cursor.primaryKey);
        if (each) each(cursor.value);
        cursor.continue();
        return;
      }
      db.deleteObjectStore(name);
      to.name = name;
      if (name === widgetStore) to.createIndex(indexName, indexField);
    };
  };
  for (const name of rowStores) copy(name);
  copy(snapshotStore, metas && (({ widgetId, generatedAt, paramsHash, rowsDigest }) => {
    metas.put({ widgetId, generatedAt, paramsHash, rowsDigest }, [widgetId, generatedAt, paramsHash, rowsDigest]);
  }));
}

/**
 * Schema 7 when the copy of `rekeyStores` does not fit in the origin's quota: every store of
 * `replicated` is dropped and created again empty, out-of-line (`widgetStore` with its index
 * `indexName` on `indexField`), `heldIndexStore` is cleared, and `metaStore` keeps only the
 * values of `keepKeys` and the count `serialKey`, plus one (no cursor: the next pull is a cold
 * start that fills the stores again). Nothing of the outbox side is touched. Not awaited, like
 * `rekeyStores`.
 */
export function recreateReplicatedStores(db, tx, replicated, widgetStore, indexName, indexField, heldIndexStore, metaStore, keepKeys, serialKey) {
  for (const name of replicated) {
    if (db.objectStoreNames.contains(name)) db.deleteObjectStore(name);
    const store = db.createObjectStore(name);
    if (name === widgetStore) store.createIndex(indexName, indexField);
  }
  if (db.objectStoreNames.contains(heldIndexStore)) tx.objectStore(heldIndexStore).clear();
  const meta = tx.objectStore(metaStore);
  const keys = [...keepKeys, serialKey];
  const kept = new Array(keys.length);
  let left = keys.length;
  keys.forEach((key, i) => {
    const request = meta.get(key);
    request.onsuccess = () => {
      kept[i] = request.result;
      left -= 1;
      if (left > 0) return;
      meta.clear();
      keepKeys.forEach((k, j) => {
        if (kept[j] !== undefined) meta.put(kept[j], k);
      });
      meta.put(nextCount(kept[keys.length - 1]), serialKey);
    };
  });
}

/**
 * For each key prefix of `prefixesJson` (a JSON array of arrays), the record of `storeName`
 * with the greatest primary key starting with that prefix, as JSON text, or `undefined` when
 * none is held: one reverse cursor per prefix, all issued before any answers, each reading
 * one record. Resolves an array in request order.
 * @returns {Promise<Array<string | undefined>>}
 */
export function readLastOfEach(tx, storeName, prefixesJson) {
  const prefixes = JSON.parse(prefixesJson);
  const out = new Array(prefixes.length);
  if (prefixes.length === 0) return Promise.resolve(out);
  const store = tx.objectStore(storeName);
  return new Promise((resolve, reject) => {
    let left = prefixes.length;
    for (let i = 0; i < prefixes.length; i += 1) {
      const prefix = prefixes[i];
      const request = store.openCursor(IDBKeyRange.bound(prefix, [...prefix, []]), "prev");
      request.onsuccess = guarded(reject, () => {
        const cursor = request.result;
        out[i] = cursor ? JSON.stringify(cursor.value) : undefined;
        left -= 1;
        if (left === 0) resolve(out);
      });
      request.onerror = () => reject(request.error);
    }
  });
}

/**
 * What the sweep that ends a full replacement needs, read inside the page's transaction after
 * its writes were issued: the keys of every store of `rowStoresJson` (a JSON array of names),
 * the keys of `snapshotStore`, and the values of `metaStore` in `[markLower, markUpper)`.
 * @returns {Promise<string>} JSON `{"rows":[[store,[key…]]…],"snapshots":[[w,g]…],"marks":[…]}`
 */
export function readHeldKeys(tx, rowStoresJson, snapshotStore, metaStore, markLower, markUpper) {
  const rowStores = JSON.parse(rowStoresJson);
  const out = { rows: [], snapshots: [], marks: [] };
  return new Promise((resolve, reject) => {
    let left = rowStores.length + 2;
    const done = () => {
      left -= 1;
      if (left === 0) resolve(JSON.stringify(out));
    };
    const watch = (request, take) => {
      request.onsuccess = guarded(reject, () => {
        take(request.result);
        done();
      });
      request.onerror = () => reject(request.error);
    };
    for (const name of rowStores) {
      watch(tx.objectStore(name).getAllKeys(), (keys) => out.rows.push([name, keys]));
    }
    watch(tx.objectStore(snapshotStore).getAllKeys(), (keys) => {
      out.snapshots = keys;
    });
    const marks = IDBKeyRange.bound(markLower, markUpper, false, true);
    watch(tx.objectStore(metaStore).getAll(marks), (values) => {
      out.marks = values;
    });
  });
}

/**
 * The key of `record` in the replicated store `name`: schema 7 keeps these stores' keys out of
 * line (`idb/schema.rs`), but the same as the key paths of earlier versions named.
 */
export function recordKey(name, record) {
  if (name === "WidgetSnapshot") return [record.widgetId, record.generatedAt];
  return record.key;
}

/**
 * Issues (without awaiting) the writes of `writes` in order — an array of `["putHeld",
 * storeName, record, i]` (the record with `row` set to `rows[i]`), `["putHeldWidget",
 * storeName, record, i]` (the same, and the row's string `dashboardId` copied onto the record
 * for the `by_dashboard` index), `["delete", storeName, key]` and `["deleteRange", storeName,
 * [lower, upper]]` — stopping after `limit`
 * writes. Puts go to the replicated stores, each under its `recordKey`. Returns how many were
 * issued. A write that fails later aborts the transaction, which its commit reports.
 * @returns {number}
 */
export function issueWrites(tx, writes, rows, limit) {
  const end = Math.min(writes.length, limit);
  const stores = new Map();
  let name = null;
  let store = null;
  // A database opened at an earlier schema (tests seed those) still has inline keys.
  let inline = false;
  const put = (record, key) => (inline ? store.put(record) : store.put(record, key));
  for (let i = 0; i < end; i += 1) {
    const write = writes[i];
    const op = write[0];
    const arg = write[2];
    // Runs of writes mostly go to one store: look it up only when it changes.
    if (write[1] !== name) {
      name = write[1];
      store = stores.get(name);
      if (store === undefined) {
        store = tx.objectStore(name);
        stores.set(name, store);
      }
      inline = store.keyPath !== null;
    }
    if (op === "putHeld") {
      arg.row = rows[write[3]];
      put(arg, recordKey(name, arg));
    } else if (op === "putHeldWidget") {
      const row = rows[write[3]];
      arg.row = row;
      if (typeof row.dashboardId === "string") arg.dashboardId = row.dashboardId;
      put(arg, arg.key);
    } else if (op === "delete") store.delete(arg);
    else if (op === "deleteRange") store.delete(IDBKeyRange.bound(arg[0], arg[1], false, true));
    else throw new TypeError(`unknown write ${op}`);
  }
  return end;
}

/**
 * A page commit's cursor compare-and-set, issued as the first requests of `tx` so that the
 * page's writes can be issued right behind it without awaiting anything: reads
 * `metaStore[cursorKey]` and, from that read's success handler — before any request issued
 * after it has run — aborts `tx` unless the stored cursor is `expected` (`undefined`: none is
 * stored). Each of `counts`, `[key, expected, bump]`, reads `metaStore[key]` (absent: 0) and
 * likewise aborts unless it is `expected` (`undefined`: any count); with `bump` it writes the
 * count plus one. Also reads the `flagKeys` of `metaStore`. Resolves `{matched: true, flags}`
 * (the flags' stored values, in order), or `{matched: false, corrupt}` as soon as it aborted
 * (`corrupt`: the stored cursor is not a string, or a count not a count).
 * @returns {Promise<{matched: boolean, corrupt?: boolean, flags?: unknown[]}>}
 */
export function checkCursor(tx, metaStore, cursorKey, expected, flagKeys, counts) {
  const store = tx.objectStore(metaStore);
  return new Promise((resolve, reject) => {
    const flags = new Array(flagKeys.length);
    let left = flagKeys.length + counts.length + 1;
    let refused = false;
    const done = () => {
      left -= 1;
      if (left === 0) resolve({ matched: true, flags });
    };
    const refuse = (corrupt) => {
      if (refused) return;
      refused = true;
      tx.abort();
      resolve({ matched: false, corrupt });
    };
    // After a refusal the abort fails the other reads; the promise has settled already.
    const failed = (request) => () => {
      if (!refused) reject(request.error);
    };
    const check = store.get(cursorKey);
    check.onsuccess = () => {
      const stored = check.result;
      if (stored !== expected) {
        refuse(stored !== undefined && typeof stored !== "string");
        return;
      }
      done();
    };
    check.onerror = failed(check);
    for (const [key, expectedCount, bump] of counts) {
      const request = store.get(key);
      request.onsuccess = () => {
        const count = request.result ?? 0;
        if (!isCount(count)) refuse(true);
        else if (expectedCount !== undefined && count !== expectedCount) refuse(false);
        else {
          if (bump) store.put(count + 1, key);
          done();
        }
      };
      request.onerror = failed(request);
    }
    flagKeys.forEach((key, i) => {
      const request = store.get(key);
      request.onsuccess = () => {
        flags[i] = request.result;
        done();
      };
      request.onerror = failed(request);
    });
  });
}

/**
 * Adds one to the count `metaStore[key]` (absent: 0) in `tx`. Resolves once the write is
 * issued: `tx` must not be committed before (no request can be issued after `commit()`).
 * @returns {Promise<void>}
 */
export function bumpCount(tx, metaStore, key) {
  const store = tx.objectStore(metaStore);
  return new Promise((resolve, reject) => {
    const request = store.get(key);
    request.onsuccess = () => {
      store.put(nextCount(request.result), key);
      resolve();
    };
    request.onerror = () => reject(request.error);
  });
}

/**
 * Every record of `storeName` (Widget records `{key, version, row}`) as
 * `[key, dashboardId, metricKey]`, the references as strings or null: what the integrity
 * gate scans, without handing whole rows to wasm.
 * @returns {Promise<string>} JSON text of the triples, in key order
 */
export function readWidgetRefs(tx, storeName) {
  const str = (v) => (typeof v === "string" ? v : null);
  return new Promise((resolve, reject) => {
    const request = tx.objectStore(storeName).getAll();
    request.onsuccess = guarded(reject, () => {
      const refs = request.result.map((r) => [r?.key, str(r?.row?.dashboardId), str(r?.row?.metricKey)]);
      resolve(JSON.stringify(refs));
    });
    request.onerror = () => reject(request.error);
  });
}
