/**
 * Options of `SyncClient.open` and `pull`, and the small argument checks the client does
 * before anything reaches the wasm side (which validates again).
 */
import type { LeaderState } from "./channel.js";
import { SyncError } from "./errors.js";
import type { CadenceOptions } from "./triggers.js";
import type { PullProgress } from "./types.js";
import type { WasmCore } from "./wasm.js";

export interface SyncClientOptions {
  baseUrl: string;
  tenantId: string;
  userId: string;
  deviceId: string;
  /** Called before every request; the token is never stored. */
  getToken?: () => string | Promise<string>;
  /** Snapshots kept per widget (default 12). */
  retention?: number;
  /** Items per pull page, 1..2000 (default 500). */
  pageSize?: number;
  /** Pages per pull call before it returns with `drained: false`. */
  maxPages?: number;
  /** Attempts per request before a retryable failure is reported. */
  maxAttempts?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /**
   * How long `getToken` may take before the request fails with a retryable `token_timeout`
   * (default 10 000 ms; PROTOCOL §9.9): a callback that never settles cannot hang `sync()`.
   */
  tokenTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Where the `.wasm` is served, if not beside the package's JS. */
  wasmUrl?: string | URL;
  /**
   * How long a follower's `sync`/`pull`/`push` waits for any sign of life from the leader
   * before it rejects with a retryable `leader_unavailable` (default 10 s). A leader that is
   * merely slow (a long cold start) keeps answering pings and is waited for.
   */
  leaderTimeoutMs?: number;
  /** Sync on open/online/visible/edit/cadence when leader (default true). */
  autoSync?: boolean;
  cadence?: CadenceOptions;
}

export interface PullOptions {
  /** Forget the cursor and pull everything again (explicit only). */
  fresh?: boolean;
  onProgress?: (progress: PullProgress) => void;
}

export const EMPTY_LEADER_STATE: LeaderState = {
  syncing: false,
  lastSyncedAt: null,
  lastError: null,
  accessRevoked: false,
  paused: null,
  bytesSession: 0,
  bytesLastHour: 0,
  bytesColdStart: 0,
  reachable: true,
  retryAt: null,
  pushPaused: null,
};

export function coreOptions(o: SyncClientOptions): Record<string, unknown> {
  const picked: Record<string, unknown> = {
    baseUrl: o.baseUrl,
    tenantId: o.tenantId,
    userId: o.userId,
    deviceId: o.deviceId,
  };
  for (const key of [
    "retention",
    "pageSize",
    "maxPages",
    "maxAttempts",
    "timeoutMs",
    "tokenTimeoutMs",
    "getToken",
    "fetch",
  ] as const) {
    if (o[key] !== undefined) picked[key] = o[key];
  }
  return picked;
}

export const DEFAULT_LEADER_TIMEOUT_MS = 10_000;

/** `leaderTimeoutMs`, checked: a positive finite number of milliseconds. */
export function leaderTimeoutMs(o: SyncClientOptions): number {
  const ms = o.leaderTimeoutMs ?? DEFAULT_LEADER_TIMEOUT_MS;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 100) {
    throw new SyncError("bad_request", "leaderTimeoutMs must be a number of milliseconds >= 100");
  }
  return ms;
}

/** `tokenTimeoutMs`, checked when given: a whole number of milliseconds in 1..2^32-1. */
export function checkTokenTimeout(o: SyncClientOptions): void {
  const ms = o.tokenTimeoutMs;
  if (ms === undefined) return;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > 0xffff_ffff) {
    throw new SyncError("bad_request", "tokenTimeoutMs must be a whole number of milliseconds >= 1");
  }
}

/** The wasm side serializes a missing value as `null`; API.md promises `undefined`. */
export function orUndefined(value: unknown): unknown {
  return value === null ? undefined : value;
}

export function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new SyncError("bad_request", `${what} must be a non-empty string`);
  }
  return value;
}

type OptionalMethod =
  | "renameQuery"
  | "edit"
  | "enqueueCommand"
  | "pending"
  | "conflicts"
  | "resolveConflict"
  | "deadLetters"
  | "requeueDeadLetter"
  | "dropDeadLetter"
  | "outboxCounts";

/** The optional wasm method, or a `not_supported` SyncError for a build without it. */
export function needs<M extends OptionalMethod>(core: WasmCore, method: M): NonNullable<WasmCore[M]> {
  const f = core[method];
  if (typeof f !== "function") {
    throw new SyncError("not_supported", `this build of sync-core has no ${method}`);
  }
  return f as NonNullable<WasmCore[M]>;
}
