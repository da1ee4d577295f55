/**
 * First render's reads, done here on the connection the wasm core holds (`idbDatabase`, see
 * src/web/idb/store.rs `database_handle`) instead of through wasm: `widgets(dashboardId)` and the
 * newest snapshot of each widget (`snapshot-batch.ts`). Each is one readonly transaction and
 * resolves the stored record's `.row` object itself, as IndexedDB's structured clone built it.
 * Through wasm every record cost a `JSON.stringify`, a copy into wasm, a serde parse, a serde
 * print and a `JSON.parse`, only to pick `.row` (issue 13: ≈ 3 × the raw read).
 *
 * The answers are what the wasm reads give (src/web/idb/reads.rs `read_widgets_of`,
 * `read_latest_snapshots`; record format src/web/idb/records.rs, names src/web/idb/schema.rs): same
 * records, same order, `undefined` where a widget has no snapshot, and a record without the
 * shape sync-core writes fails the read as corrupt (`idb-errors.ts`), as its decoding did.
 * The one difference: a row is not re-serialised, so its keys keep the order they were
 * stored in (sync-core stores them sorted, as serde printed them) and values are the stored
 * ones (sync-core only stores JSON values, so the round trip changed nothing).
 */
import { corruptRecord, idbAbortError, idbReadError } from "./idb-errors.js";
import type { Widget, WidgetSnapshot } from "./types.js";

/** Object stores and index of the schema (src/web/idb/schema.rs; unchanged since 7). */
const WIDGET_STORE = "Widget";
const WIDGETS_BY_DASHBOARD = "by_dashboard";
const SNAPSHOT_STORE = "WidgetSnapshot";

type Row = Record<string, unknown>;

const isObject = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The `.row` of a `{key, version, row, dashboardId?}` record (`RowRecordIn`), with the
 * record's `version` (what the wasm reads hand out too: `StoredRow::into_app_row`).
 */
function widgetRow(record: unknown): Widget {
  if (!isObject(record)) throw corruptRecord("Widget", "not an object");
  if (typeof record.key !== "string") throw corruptRecord("Widget", "missing field `key`");
  const v = record.version;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw corruptRecord("Widget", "bad field `version`");
  if (!isObject(record.row)) throw corruptRecord("Widget", "bad field `row`");
  return { ...record.row, version: v } as unknown as Widget;
}

/** The `.row` of a `{widgetId, generatedAt, paramsHash, rowsDigest, row}` record. */
function snapshotRow(record: unknown): WidgetSnapshot {
  if (!isObject(record)) throw corruptRecord("WidgetSnapshot", "not an object");
  for (const field of ["widgetId", "generatedAt", "paramsHash", "rowsDigest"]) {
    if (typeof record[field] !== "string") throw corruptRecord("WidgetSnapshot", `bad field \`${field}\``);
  }
  if (!isObject(record.row)) throw corruptRecord("WidgetSnapshot", "bad field `row`");
  return record.row as unknown as WidgetSnapshot;
}

/**
 * Runs `issue` in one readonly transaction over `stores`; it issues its requests and calls
 * `answer` once all have answered. A throw (opening the transaction on a closed connection,
 * issuing a request, a corrupt record) or a failed request or transaction rejects, mapped.
 */
function readonly<T>(
  db: IDBDatabase,
  stores: string[],
  issue: (tx: IDBTransaction, answer: (value: T) => void, fail: (error: unknown) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(idbReadError(error));
    };
    try {
      const tx = db.transaction(stores, "readonly");
      tx.onabort = () => fail(idbAbortError(tx.error));
      issue(
        tx,
        (value) => {
          if (settled) return;
          settled = true;
          resolve(value);
        },
        fail,
      );
    } catch (error) {
      fail(error);
    }
  });
}

/** Widgets of one dashboard: the `by_dashboard` index, in its order (then primary key). */
export function readWidgetsOf(db: IDBDatabase, dashboardId: string): Promise<Widget[]> {
  return readonly(db, [WIDGET_STORE], (tx, answer, fail) => {
    const request = tx.objectStore(WIDGET_STORE).index(WIDGETS_BY_DASHBOARD).getAll(dashboardId);
    request.onerror = () => fail(request.error);
    request.onsuccess = () => {
      try {
        answer(request.result.map(widgetRow));
      } catch (error) {
        fail(error);
      }
    };
  });
}

/**
 * The newest snapshot of each of `widgetIds`, in order, `undefined` where none is held: one
 * reverse cursor per widget over the primary key `[widgetId, generatedAt]`, all issued at
 * once, each reading one record.
 */
export function readLatestSnapshots(db: IDBDatabase, widgetIds: readonly string[]): Promise<(WidgetSnapshot | undefined)[]> {
  const out = new Array<WidgetSnapshot | undefined>(widgetIds.length);
  if (widgetIds.length === 0) return Promise.resolve(out);
  return readonly(db, [SNAPSHOT_STORE], (tx, answer, fail) => {
    const store = tx.objectStore(SNAPSHOT_STORE);
    let left = widgetIds.length;
    widgetIds.forEach((id, i) => {
      const request = store.openCursor(IDBKeyRange.bound([id], [id, []]), "prev");
      request.onerror = () => fail(request.error);
      request.onsuccess = () => {
        const cursor = request.result;
        try {
          out[i] = cursor ? snapshotRow(cursor.value) : undefined;
        } catch (error) {
          fail(error);
          return;
        }
        left -= 1;
        if (left === 0) answer(out);
      };
    });
  });
}

/** The `meta` store (src/web/idb/schema.rs `META_STORE`), where the wrapper keeps its records. */
const META_STORE = "meta";

/**
 * The value the wrapper stored under `key` in `meta` (`undefined` when none): one readonly
 * transaction. Read here rather than through wasm (`bindings/wrapper_meta.rs`), whose reads
 * run in a readwrite transaction: at open, while first render reads, a readonly one takes no
 * write lock and commits nothing.
 */
export function readMetaValue(db: IDBDatabase, key: string): Promise<unknown> {
  return readonly(db, [META_STORE], (tx, answer, fail) => {
    const request = tx.objectStore(META_STORE).get(key);
    request.onerror = () => fail(request.error);
    request.onsuccess = () => answer(request.result);
  });
}
