/**
 * The sync state one context keeps in memory, and the `Status` shape `status()` returns.
 * Counters of queued work come from IndexedDB at call time (shared by every context); the
 * sync-run fields come from whichever context is the leader (followers copy its broadcasts).
 */
import { PullBudget } from "./budget.js";
import type { LeaderState } from "./channel.js";

/** Budgets of PROTOCOL §6. */
export const COLD_START_BUDGET_BYTES = 5_000_000;
export const HOURLY_BUDGET_BYTES = 500_000;

/**
 * Response bytes pulled, against the budgets of PROTOCOL §6. Every number here is in bytes
 * (`unit` says so), never KB/MB: `hourlyBudget` 500 000 is the 500 KB of §6.
 */
export interface BytesPulled {
  /** The unit of every number in this object. */
  unit: "bytes";
  /** Response bytes pulled by the current leader since it was elected. */
  session: number;
  /** Bytes pulled in the last 60 minutes by any leader of this database, not counting a
   * cold start (the steady-state delta budget; kept in the database, so reloading does not
   * reset it). */
  lastHour: number;
  /** Bytes of the first drain of a database that held nothing (cold start; so far while it
   * runs, kept in the database), else 0. */
  coldStart: number;
  /** Bytes (5 000 000). */
  coldStartBudget: number;
  /** Bytes per hour (500 000). */
  hourlyBudget: number;
  overColdStartBudget: boolean;
  overHourlyBudget: boolean;
}

/** `navigator.storage.estimate()` of the origin; `usage`/`quota` are in bytes. */
export interface StorageHealth {
  /** The unit of `usage` and `quota`. */
  unit: "bytes";
  usage: number | null;
  quota: number | null;
  /** `navigator.storage.persist()` result; null where it cannot be asked (workers). */
  persisted: boolean | null;
}

export interface LastError {
  code: string;
  message: string;
  retryable: boolean;
  /** RFC 3339 time the error happened. */
  at: string;
}

export interface Status {
  /**
   * False while the browser is offline, and also while the sync server does not answer: from
   * a request that ended in a network error or a timeout (then `lastError` says so, code
   * `offline`) until one that got a response.
   */
  online: boolean;
  syncing: boolean;
  /** Whether this context is the one that syncs the database. */
  leader: boolean;
  lastSyncedAt: string | null;
  /** Queued renames and deferred commands. */
  pending: number;
  /** Open (unresolved) conflicts. */
  conflicts: number;
  deadLetters: number;
  accessRevoked: boolean;
  bytesPulled: BytesPulled;
  lastError: LastError | null;
  /** Why automatic sync is paused: `quota_exceeded`, `forbidden`, `offline`, or null. */
  paused: string | null;
  /**
   * Why pushing is paused: `access_revoked` (a 403; pulls go on and lift it) or
   * `push_rejected` (the server answered a push in a way the contract does not name; the ops
   * stay queued, automatic syncs only pull until the next explicit `sync()`/`push()` or a
   * capped backoff), else null.
   */
  pushPaused: "access_revoked" | "push_rejected" | null;
  /**
   * RFC 3339 time before which no request leaves (the server's `Retry-After` on a 429): no
   * automatic sync starts before it and an explicit call rejects with `rate_limited` (and
   * `retryAfterMs`) without sending anything. Null otherwise.
   */
  retryAt: string | null;
  storage: StorageHealth;
  /** Wasm traps seen in this page (each one a bug); after one the client is unusable. */
  internalErrors: number;
  closed: boolean;
}

/** Sync-run state of this context when it is the leader. */
export class SyncState {
  syncing = false;
  lastSyncedAt: string | null = null;
  lastError: LastError | null = null;
  accessRevoked = false;
  paused: string | null = null;
  /** See `LeaderState.reachable`. */
  reachable = true;
  /** Epoch ms before which no request may leave, or 0. */
  retryAtMs = 0;
  /** A push answered `push_rejected`: automatic syncs only pull until this epoch ms. */
  pushRejectedUntilMs = 0;
  /** Consecutive `push_rejected` answers (for the capped backoff). */
  pushRejections = 0;
  /** Pulled bytes against the budgets (persisted, see `budget.ts`). */
  readonly budget = new PullBudget();

  /** This context becomes the leader: what the previous one knew still holds — its
   * Retry-After binds (PROTOCOL §9.5) and its last sync happened. */
  takeOver(previous: LeaderState): void {
    const retryAt = previous.retryAt ? Date.parse(previous.retryAt) : 0;
    if (retryAt > this.retryAtMs) this.retryAtMs = retryAt;
    if (previous.lastSyncedAt && (this.lastSyncedAt ?? "") < previous.lastSyncedAt) {
      this.lastSyncedAt = previous.lastSyncedAt;
    }
  }

  toLeaderState(): LeaderState {
    return {
      syncing: this.syncing,
      lastSyncedAt: this.lastSyncedAt,
      lastError: this.lastError,
      accessRevoked: this.accessRevoked,
      paused: this.paused,
      bytesSession: this.budget.session,
      bytesLastHour: this.budget.lastHour(),
      bytesColdStart: this.budget.coldStartBytes,
      reachable: this.reachable,
      retryAt: this.retryAtMs > Date.now() ? new Date(this.retryAtMs).toISOString() : null,
      pushPaused: this.accessRevoked ? "access_revoked" : this.pushRejectedUntilMs > 0 ? "push_rejected" : null,
    };
  }
}

export function bytesPulled(state: LeaderState): BytesPulled {
  return {
    unit: "bytes",
    session: state.bytesSession,
    lastHour: state.bytesLastHour,
    coldStart: state.bytesColdStart,
    coldStartBudget: COLD_START_BUDGET_BYTES,
    hourlyBudget: HOURLY_BUDGET_BYTES,
    overColdStartBudget: state.bytesColdStart > COLD_START_BUDGET_BYTES,
    overHourlyBudget: !state.lastSyncedAt ? false : state.bytesLastHour > HOURLY_BUDGET_BYTES,
  };
}

/** What `status()` is assembled from (each part read by the client at call time). */
export interface StatusParts {
  leader: boolean;
  /** This context's state when it leads, else the leader's last broadcast. */
  state: LeaderState;
  counts: { pending: number; conflicts: number; deadLetters: number };
  online: boolean;
  storage: Omit<StorageHealth, "unit">;
  internalErrors: number;
  closed: boolean;
}

export function composeStatus(p: StatusParts): Status {
  const { state } = p;
  return {
    online: p.online && state.reachable !== false,
    syncing: state.syncing,
    leader: p.leader,
    lastSyncedAt: state.lastSyncedAt,
    pending: p.counts.pending,
    conflicts: p.counts.conflicts,
    deadLetters: p.counts.deadLetters,
    accessRevoked: state.accessRevoked,
    bytesPulled: bytesPulled(state),
    lastError: state.lastError,
    paused: state.paused ?? (globalThis.navigator?.onLine === false ? "offline" : null),
    pushPaused: (state.pushPaused ?? (state.accessRevoked ? "access_revoked" : null)) as Status["pushPaused"],
    retryAt: state.retryAt && Date.parse(state.retryAt) > Date.now() ? state.retryAt : null,
    storage: { unit: "bytes", ...p.storage },
    internalErrors: p.internalErrors,
    closed: p.closed,
  };
}
