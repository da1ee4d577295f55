/**
 * `sync-core`: offline-first sync of dashboards, widgets and KPI snapshots into IndexedDB.
 * See README.md for the quick start; API.md of the project is the binding surface.
 */
export { SyncClient, type SyncClientOptions, type PullOptions } from "./client.js";
export { SyncError, type SyncErrorCode } from "./errors.js";
export type { SyncEvent, SyncListener, ChangeCause, ClosedReason } from "./events.js";
export type { Status, BytesPulled, StorageHealth, LastError } from "./status.js";
export { COLD_START_BUDGET_BYTES, HOURLY_BUDGET_BYTES } from "./status.js";
export type { CadenceOptions } from "./triggers.js";
export * from "./types.js";
