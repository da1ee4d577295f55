/**
 * The sync state one context keeps in memory, and the `Status` shape `status()` returns.
 * Counters of queued work come from IndexedDB at call time (shared by every context); the
 * sync-run fields come from whichever context is the leader (followers copy its broadcasts).
 */
import type { LeaderState } from "./channel.js";

/** Budgets of PROTOCOL §6. */
export const COLD_START_BUDGET_BYTES = 5_000_000;
export const HOURLY_BUDGET_BYTES = 500_000;
const HOUR_MS = 3_600_000;

export interface BytesPulled {
  /** Response bytes pulled by the leader since it opened. */
  session: number;
  /** Bytes pulled in the last 60 minutes (steady-state budget). */
  lastHour: number;
  /** Bytes of the first drain of a database that held nothing (cold start), else 0. */
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
  bytesSession = 0;
  bytesColdStart = 0;
  /** True until the first drained pull when the database held nothing at open. */
  coldStart = false;
  readonly #window: { at: number; bytes: number }[] = [];

  recordBytes(bytes: number, drained: boolean, now = Date.now()): void {
    this.bytesSession += bytes;
    this.#window.push({ at: now, bytes });
    if (this.coldStart) {
      this.bytesColdStart += bytes;
      if (drained) this.coldStart = false;
    }
  }

  bytesLastHour(now = Date.now()): number {
    while (this.#window.length > 0 && (this.#window[0]?.at ?? now) < now - HOUR_MS) {
      this.#window.shift();
    }
    return this.#window.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  toLeaderState(): LeaderState {
    return {
      syncing: this.syncing,
      lastSyncedAt: this.lastSyncedAt,
      lastError: this.lastError,
      accessRevoked: this.accessRevoked,
      paused: this.paused,
      bytesSession: this.bytesSession,
      bytesLastHour: this.bytesLastHour(),
      bytesColdStart: this.bytesColdStart,
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
