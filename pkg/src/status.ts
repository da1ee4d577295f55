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

export interface BytesPulled {
  /** Response bytes pulled by the current leader since it was elected. */
  session: number;
  /** Bytes pulled in the last 60 minutes by any leader of this database (steady-state
   * budget; kept in the database, so reloading does not reset it). */
  lastHour: number;
  /** Bytes of the first drain of a database that held nothing (cold start; so far while it
   * runs, kept in the database), else 0. */
  coldStart: number;
  coldStartBudget: number;
  hourlyBudget: number;
  overColdStartBudget: boolean;
  overHourlyBudget: boolean;
}

export interface StorageHealth {
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
  /** Pulled bytes against the budgets (persisted, see `budget.ts`). */
  readonly budget = new PullBudget();

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
    };
  }
}

export function bytesPulled(state: LeaderState): BytesPulled {
  return {
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
  storage: StorageHealth;
  internalErrors: number;
  closed: boolean;
}

export function composeStatus(p: StatusParts): Status {
  const { state } = p;
  return {
    online: p.online,
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
    storage: p.storage,
    internalErrors: p.internalErrors,
    closed: p.closed,
  };
}
