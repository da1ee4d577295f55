/**
 * Reading and writing the byte-budget record (`budget.ts`) through the bindings'
 * `pullBudget`/`setPullBudget` (the `meta` key `pullBudget`). Both are best effort: a build
 * without them, or a failing read, starts a fresh budget; a failed write is redone by the
 * next pull.
 */
import type { PullBudget } from "./budget.js";
import type { WasmCore } from "./wasm.js";

type Exec = <T>(work: (core: WasmCore) => Promise<T>) => Promise<T>;

/** The stored record, or null. Never rejects. */
export function loadBudget(exec: Exec): Promise<unknown> {
  return exec((c) => (c.pullBudget ? c.pullBudget() : Promise.resolve(null))).catch(() => null);
}

/** Stores `budget` in the background. */
export function saveBudget(exec: Exec, budget: PullBudget): void {
  const record = budget.toRecord();
  exec((c) => (c.setPullBudget ? c.setPullBudget(record) : Promise.resolve())).catch(() => {
    // Best effort: the next pull writes it again; a closed client has nothing to keep.
  });
}
