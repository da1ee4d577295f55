/**
 * `latestSnapshot` calls made in the same tick, read together.
 *
 * First render asks for the newest snapshot of every widget on screen at once. One call per
 * widget used to cost its own readonly IndexedDB transaction and its own wasm round trip
 * (48 widgets: 48 of each, ≈ 2.3 × an `indexedDB.open` + one `getAll` of the same rows).
 * Here every call made before the current microtask queue drains is queued, and the queue is
 * read with one `readLatestSnapshots` (`idb-reads.ts`: one transaction, every reverse cursor
 * issued at once, the stored objects handed back without a wasm round trip) — DataLoader-style
 * coalescing behind the unchanged public `latestSnapshot(widgetId)`.
 *
 * Each caller still gets exactly what its own call would have given: its snapshot or
 * `undefined`; `bad_request` for an id that is not a non-empty string (that caller only, the
 * others are read); `closed` when the client is closed; and when the batched read itself
 * fails (storage lost, a trap), every caller of that batch gets that error. Reads run in the
 * calling context in followers and leaders alike (every context reads IndexedDB directly).
 */
import { SyncError, toSyncError } from "./errors.js";
import { readLatestSnapshots } from "./idb-reads.js";
import { requireString } from "./options.js";
import type { WidgetSnapshot } from "./types.js";
import type { WasmCore } from "./wasm.js";

/** One queued call. */
interface Waiting {
  readonly widgetId: unknown;
  resolve(snapshot: WidgetSnapshot | undefined): void;
  reject(error: SyncError): void;
}

/** Runs work on the client's core (`CoreHandle.exec`: open check, reopen, trap race). */
export type Exec = <T>(work: (core: WasmCore) => Promise<T>) => Promise<T>;

export class LatestSnapshotBatcher {
  #queue: Waiting[] = [];
  readonly #exec: Exec;

  constructor(exec: Exec) {
    this.#exec = exec;
  }

  /** The newest held snapshot of `widgetId`, read with the other calls of this tick. */
  load(widgetId: unknown): Promise<WidgetSnapshot | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) queueMicrotask(() => this.#flush());
      this.#queue.push({ widgetId, resolve, reject });
    });
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    let read: Waiting[] = [];
    this.#exec((core) => {
      // Ids are judged inside `exec`, after its open check, so a closed client rejects every
      // call with `closed` as a lone call did; `exec` may run this twice (after a reopen).
      read = [];
      const ids: string[] = [];
      for (const waiting of batch) {
        try {
          ids.push(requireString(waiting.widgetId, "widgetId"));
          read.push(waiting);
        } catch (error) {
          waiting.reject(toSyncError(error));
        }
      }
      return ids.length === 0 ? Promise.resolve([]) : readLatestSnapshots(core.idbDatabase(), ids);
    }).then(
      (found: (WidgetSnapshot | undefined)[]) => read.forEach((waiting, i) => waiting.resolve(found[i])),
      (error: unknown) => {
        // Callers already rejected for a bad id stay rejected with that (a promise settles once).
        const e = toSyncError(error);
        for (const waiting of batch) waiting.reject(e);
      },
    );
  }
}
