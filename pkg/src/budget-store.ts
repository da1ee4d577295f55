/**
 * Reading and writing the wrapper's records kept in the database's `meta` store: the
 * byte-budget record (`budget.ts`, key `pullBudget`) and the time of the last drained pull
 * (`lastSyncedAt`), so both survive a reload and a change of leader. Written through wasm
 * (`src/bindings/wrapper_meta.rs`, the store's readwrite handle), read here in one readonly
 * transaction each (`idb-reads.ts`: the last-synced read runs at open, while first render
 * reads). All best effort: a failing read starts fresh; a failed write is redone by the next
 * pull.
 */
import type { PullBudget } from "./budget.js";
import { readMetaValue } from "./idb-reads.js";
import type { WasmCore } from "./wasm.js";

type Exec = <T>(work: (core: WasmCore) => Promise<T>) => Promise<T>;

/** The stored record, or null. Never rejects. */
export function loadBudget(exec: Exec): Promise<unknown> {
  return exec((c) => readMetaValue(c.idbDatabase(), "pullBudget"))
    .then((value) => value ?? null)
    .catch(() => null);
}

/** Stores `budget` in the background. */
export function saveBudget(exec: Exec, budget: PullBudget): void {
  const record = budget.toRecord();
  exec((c) => (c.setPullBudget ? c.setPullBudget(record) : Promise.resolve())).catch(() => {
    // Best effort: the next pull writes it again; a closed client has nothing to keep.
  });
}

/** The stored time of the last drained pull (RFC 3339), or null. Never rejects. */
export function loadLastSyncedAt(exec: Exec): Promise<string | null> {
  return exec((c) => readMetaValue(c.idbDatabase(), "lastSyncedAt")).then(
    (value) => (typeof value === "string" && !Number.isNaN(Date.parse(value)) ? value : null),
    () => null,
  );
}

/** Stores the time of the last drained pull in the background. */
export function saveLastSyncedAt(exec: Exec, at: string): void {
  exec((c) => (c.setLastSyncedAt ? c.setLastSyncedAt(at) : Promise.resolve())).catch(() => {
    // Best effort, like the budget.
  });
}
