/**
 * Loads the wasm module once per JS realm and describes the `SyncCore` class it exports.
 *
 * The default URL is resolved against this file (`new URL(…, import.meta.url)`), which works
 * in a window, a module worker and in bundlers (Vite, webpack 5, Rollup copy the asset), so the
 * app never calls an `init()` itself. An app that serves the `.wasm` elsewhere passes `wasmUrl`.
 */
import init, { SyncCore } from "../wasm/sync_core.js";
import { SyncError, toSyncError } from "./errors.js";
import { poisonError, watchUncaughtTraps } from "./traps.js";

let loading: Promise<void> | undefined;

/** Where the wasm file sits beside the published JS. */
function defaultWasmUrl(): URL {
  return new URL("../wasm/sync_core_bg.wasm", import.meta.url);
}

/** Instantiates the module (once); a failed load may be retried by the next call. */
export async function loadWasm(wasmUrl?: string | URL): Promise<void> {
  const poisoned = poisonError();
  if (poisoned) throw poisoned;
  watchUncaughtTraps();
  if (!loading) {
    loading = init({ module_or_path: wasmUrl ?? defaultWasmUrl() }).then(
      () => undefined,
      (error: unknown) => {
        loading = undefined;
        const cause = toSyncError(error);
        throw new SyncError("wasm_unavailable", `loading sync-core wasm: ${cause.message}`, true);
      },
    );
  }
  return loading;
}

/**
 * The instance methods of the wasm `SyncCore`. Methods that a given build of the bindings
 * may not export yet are optional, and the client refuses such calls with a `SyncError`
 * instead of a `TypeError`.
 */
export interface WasmCore {
  readonly databaseName: string;
  pull(options: unknown, progress?: (p: unknown) => void): Promise<unknown>;
  push?(progress?: (p: unknown) => void): Promise<unknown>;
  sync?(): Promise<unknown>;
  dashboards(): Promise<unknown>;
  /** Internal, not API: whether any dashboard is held (a `count()`, no record read). */
  holdsDashboards?(): Promise<unknown>;
  widgets(dashboardId: string): Promise<unknown>;
  metric(key: string): Promise<unknown>;
  snapshots(widgetId: string): Promise<unknown>;
  latestSnapshot(widgetId: string): Promise<unknown>;
  /** Internal, not API: the `IDBDatabase` the core holds, for the wrapper's own reads
   * (`idb-reads.ts`); throws `storage_unavailable` once the connection is closed or lost. */
  idbDatabase(): IDBDatabase;
  queries(): Promise<unknown>;
  projections(): Promise<unknown>;
  openAlerts(): Promise<unknown>;
  freshness(dashboardId: string): Promise<unknown>;
  renameQuery?(queryId: string, name: unknown): Promise<unknown>;
  edit?(kind: string, id: string, patch: unknown): Promise<unknown>;
  enqueueCommand?(command: unknown): Promise<unknown>;
  pending?(): Promise<unknown>;
  conflicts?(): Promise<unknown>;
  resolveConflict?(id: string, resolution: string): Promise<unknown>;
  deadLetters?(): Promise<unknown>;
  requeueDeadLetter?(id: string): Promise<unknown>;
  dropDeadLetter?(id: string): Promise<unknown>;
  outboxCounts?(): Promise<unknown>;
  setPullBudget?(record: unknown): Promise<unknown>;
  setLastSyncedAt?(at: string): Promise<unknown>;
  close(): void;
  free(): void;
}

/** Opens the wasm core for `options` (which carries functions `getToken`/`fetch` as is). */
export async function openCore(options: object): Promise<WasmCore> {
  return (await SyncCore.open(options)) as unknown as WasmCore;
}

/** Deletes one user's database; every connection to it must be closed first. */
export async function deleteCoreDatabase(
  tenantId: string,
  userId: string,
  deviceId: string,
): Promise<void> {
  await SyncCore.deleteDatabase(tenantId, userId, deviceId);
}
