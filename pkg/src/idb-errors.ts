/**
 * The `SyncError` a failed IndexedDB read of the wrapper (`idb-reads.ts`) rejects with: the
 * same code, `retryable` and message the wasm read of the same thing gave, so moving a read
 * out of wasm changes nothing an app sees. It mirrors, for what a readonly transaction can
 * meet, the Rust chain `IdbError::from_name` (src/web/idb/error.rs) → `StoreError` →
 * `PullError::Storage` (src/engine/pull/error.rs): a full disk is `quota_exceeded`, a record this
 * code never wrote is `storage_unavailable` (not retryable), everything else
 * `storage_unavailable` (retryable; `CoreHandle.exec` reopens once and repeats).
 */
import { SyncError } from "./errors.js";

/** `StoreError` variants (their Display prefixes) the DOM exception names fall into. */
const UNAVAILABLE: Record<string, (message: string) => string> = {
  InvalidStateError: (m) => `InvalidStateError: ${m}`,
  NotFoundError: (m) => `NotFoundError: ${m}`,
  VersionError: (m) => `VersionError: ${m}`,
  UnknownError: (m) => `IndexedDB unavailable: UnknownError: ${m}`,
};

/** A DOM exception (or anything else thrown or rejected by IndexedDB) of a read. */
export function idbReadError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const e = (error ?? {}) as { name?: unknown; message?: unknown };
  const name = typeof e.name === "string" ? e.name : "unknown";
  const message = typeof e.message === "string" ? e.message : String(error);
  if (name === "QuotaExceededError") return new SyncError("quota_exceeded", "storage: storage quota exceeded", false);
  const unavailable = UNAVAILABLE[name];
  if (unavailable) return new SyncError("storage_unavailable", `storage: storage unavailable: ${unavailable(message)}`, true);
  // TransactionInactiveError, AbortError, ConstraintError, DataError, anything else.
  return new SyncError("storage_unavailable", `storage: transaction aborted: ${name}: ${message}`, true);
}

/** A transaction that aborted: its `error`, or none for an `abort()`. */
export function idbAbortError(error: DOMException | null): SyncError {
  return idbReadError(error ?? { name: "AbortError", message: "the transaction was aborted" });
}

/** A stored record without the shape sync-core writes (src/web/idb/records.rs). */
export function corruptRecord(what: string, detail: string): SyncError {
  return new SyncError(
    "storage_unavailable",
    `storage: stored data is corrupt: could not decode a stored record: ${what} record: ${detail}`,
    false,
  );
}
