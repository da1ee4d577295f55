/**
 * The one error type every promise of the package rejects with. The wasm side already throws
 * `Error`s named `SyncError` carrying `code`/`retryable`; this module turns those, and
 * anything else that can escape (a wasm trap after a Rust panic, a DOM exception, a bare
 * string), into an instance of the exported class so `instanceof SyncError` always holds.
 */

import { ENGINE_ERROR_CODES, type EngineErrorCode } from "./error-codes.js";

/** The codes this wrapper adds to the engine's. */
const WRAPPER_ERROR_CODES = [
  "snapshot_too_large",
  "unsynced_changes",
  "closed",
  "leader_unavailable",
  "not_supported",
  "wasm_unavailable",
  "internal",
] as const;

/**
 * Stable codes (API.md): the engine's, generated from Rust (`error-codes.ts`), plus the ones
 * this wrapper adds. No catch-all: a code thrown anywhere in the package must be listed.
 */
export type SyncErrorCode = EngineErrorCode | (typeof WRAPPER_ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set<string>([...ENGINE_ERROR_CODES, ...WRAPPER_ERROR_CODES]);

/**
 * A code that arrived as a string (thrown by the wasm, sent by another tab), checked against
 * the table: one that is not listed is a bug behind that boundary and becomes `internal`.
 */
export function syncErrorCode(code: string): SyncErrorCode {
  return KNOWN_CODES.has(code) ? (code as SyncErrorCode) : "internal";
}

/** Extra facts some failures carry. */
export interface SyncErrorDetails {
  /** The HTTP status behind the failure (e.g. of a `push_rejected` or `server_error`). */
  status?: number;
  /** `rate_limited`: how long the server asked to wait before any request, in ms. */
  retryAfterMs?: number;
}

/** What a `SyncError` looks like as plain data (events, BroadcastChannel). */
export interface SyncErrorJson extends SyncErrorDetails {
  code: string;
  message: string;
  retryable: boolean;
}

export class SyncError extends Error {
  override readonly name = "SyncError";
  readonly code: SyncErrorCode;
  /** Whether the same call may succeed later without anyone changing anything. */
  readonly retryable: boolean;
  /** The HTTP status behind the failure, when there is one. */
  readonly status?: number;
  /** `rate_limited`: the server's `Retry-After`, in ms from the failure. */
  readonly retryAfterMs?: number;

  constructor(code: SyncErrorCode, message: string, retryable = false, details: SyncErrorDetails = {}) {
    super(message);
    this.code = code;
    this.retryable = retryable;
    if (typeof details.status === "number") this.status = details.status;
    if (typeof details.retryAfterMs === "number") this.retryAfterMs = details.retryAfterMs;
  }

  /** A plain object that survives `postMessage` / BroadcastChannel. */
  toJSON(): SyncErrorJson {
    const json: SyncErrorJson = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.status !== undefined) json.status = this.status;
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    return json;
  }
}

/** The details of plain error data, keeping only numbers. */
export function errorDetails(e: { status?: unknown; retryAfterMs?: unknown }): SyncErrorDetails {
  const details: SyncErrorDetails = {};
  if (typeof e.status === "number") details.status = e.status;
  if (typeof e.retryAfterMs === "number") details.retryAfterMs = e.retryAfterMs;
  return details;
}

let internalErrors = 0;

/** How many wasm traps (Rust panics) this page has seen: each one is a bug. */
export function internalErrorCount(): number {
  return internalErrors;
}

/** Whether `error` is a wasm trap (a Rust panic): the instance must not be used again. */
export function isWasmTrap(error: unknown): boolean {
  return (
    typeof WebAssembly !== "undefined" &&
    typeof WebAssembly.RuntimeError === "function" &&
    error instanceof WebAssembly.RuntimeError
  );
}

/** Converts anything thrown or rejected into a `SyncError`. */
export function toSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  if (isWasmTrap(error)) {
    internalErrors += 1;
    // The trap's own text ("unreachable") means nothing to the app; keep it as the cause.
    const e = new SyncError(
      "internal",
      "sync-core internal error (a bug): its WebAssembly module stopped; reload the page or worker to use sync-core again",
      false,
    );
    Object.defineProperty(e, "cause", { value: error, enumerable: false });
    return e;
  }
  if (error !== null && typeof error === "object") {
    const e = error as {
      name?: unknown;
      code?: unknown;
      retryable?: unknown;
      message?: unknown;
      status?: unknown;
      retryAfterMs?: unknown;
    };
    const message = typeof e.message === "string" ? e.message : String(error);
    if (typeof e.code === "string" && (e.name === "SyncError" || e.name === undefined)) {
      return new SyncError(syncErrorCode(e.code), message, e.retryable === true, errorDetails(e));
    }
    if (e.name === "QuotaExceededError") return new SyncError("quota_exceeded", message, false);
    if (e.name === "InvalidStateError") return new SyncError("storage_unavailable", message, true);
    if (e.name === "TypeError" && /fetch|network/i.test(message)) {
      return new SyncError("offline", message, true);
    }
    return new SyncError("internal", `${String(e.name ?? "Error")}: ${message}`, false);
  }
  return new SyncError("internal", String(error), false);
}
