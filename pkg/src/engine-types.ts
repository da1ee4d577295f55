// Generated from the engine's Rust types by tests/engine/typescript.rs (UPDATE_GENERATED=1
// cargo test -p sync-core --test engine typescript): do not edit. A test fails when this file
// and the Rust types differ.

/** Localized text: `default` plus any locale keys (what a rename accepts, PROTOCOL §4). */
export type I18n = { default: string } & Record<string, string>;

/** A replicated kind (PROTOCOL §2). The serialized name is the wire name. */
export type Kind =
  | "Dashboard"
  | "Widget"
  | "MetricDefinition"
  | "WidgetSnapshot"
  | "Query"
  | "Projection"
  | "DqAlertOpen";

export type JsonValue =
  | number
  | string
  | boolean
  | Array<JsonValue>
  | { [key in string]: JsonValue }
  | null;

/** A reference from a held row to a row that is not held. */
export type IntegrityFinding = {
  sourceKind: Kind;
  /** The widget id (for snapshots: the widget id they carry). */
  sourceId: string;
  /** The referencing field: `dashboardId`, `metricKey` or `widgetId`. */
  field: string;
  targetKind: Kind;
  targetId: string;
};

/** The outcome of one successful `pull` call. */
export type PullReport = {
  /** Pages committed by this call. */
  pages: number;
  /** Items that changed local state, per kind (resets are in `resets`). */
  applied: { [key in Kind]?: number };
  /**
   * Upserts not newer than the local version, and snapshots already held or identical
   * to the newest held one: all skipped without a write.
   */
  duplicatesSkipped: number;
  /** Snapshots dropped by retention. */
  snapshotsTrimmed: number;
  /**
   * Widgets whose snapshots were dropped for exceeding the size budget
   * (`snapshot_too_large`).
   */
  snapshotsTooLarge: Array<string>;
  /** Bytes of response bodies received, including refused and retried ones. */
  bytesPulled: number;
  /** Kinds reset by the server, in the order the resets arrived. */
  resets: Array<Kind>;
  /** Requests repeated after a failure (5xx, network, bad body, 429, one 401). */
  retries: number;
  /** Cold restarts after the server refused the cursor (410). */
  coldRestarts: number;
  /**
   * Rows removed because a full replacement (a pull begun without a cursor, PROTOCOL
   * §9.1) did not send them again.
   */
  rowsSwept: number;
  /**
   * Snapshots removed because their widget is no longer held (after a replacement or a
   * Widget reset).
   */
  snapshotsSwept: number;
  /** Orphaned references found after the pull drained. */
  integrity: Array<IntegrityFinding>;
  durationMs: number;
  /** Kinds whose local rows changed, for `changed` events. */
  changedKinds: Array<Kind>;
  /** False when the call stopped at `maxPages` before the server said `drained`. */
  drained: boolean;
};

/** Reported after every committed page, e.g. for a cold-start progress bar. */
export type PullProgress = {
  pages: number;
  itemsApplied: number;
  bytesPulled: number;
};

/** The outcome of one successful `push` call. */
export type PushReport = {
  /** Batches answered and settled (the re-sent in-flight one included). */
  batches: number;
  /** Ops the server applied; their new versions are stored on the local rows. */
  opsApplied: number;
  /** Ops (409) and commands (412) that became conflicts. */
  conflicts: number;
  /** Ids of the conflicts this call created, for `conflict` events. */
  newConflicts: Array<string>;
  /** Ops and commands refused for good, now in the dead letters. */
  deadLetters: number;
  /**
   * Ops the server's answer did not settle (no result, or a transient per-op status);
   * they wait for the next call.
   */
  opsUnanswered: number;
  /** Deferred commands the server accepted. */
  commandsDone: number;
  /** Requests repeated after a failure (5xx, 408, network, bad body, 429, one 401). */
  retries: number;
  /**
   * True when a batch stored in flight by an earlier call (or a page that died) was
   * re-sent first, byte-identical.
   */
  resentInFlight: boolean;
  durationMs: number;
  /**
   * Kinds whose local reads changed: `Query` whenever an op left the queue (its pending
   * name no longer overlays the row, or a new version and name were stored).
   */
  changedKinds: Array<Kind>;
};

/** What a thrown `SyncError` carries, and a sync report's `pushError`. */
export type ErrorInfo = {
  /** One of the engine's error codes (`ENGINE_ERROR_CODES`). */
  code: string;
  retryable: boolean;
  message: string;
  /** The HTTP status behind the failure (a 5xx, or the 4xx that refused the request). */
  status?: number;
  /** How long the server asked to wait (429 `Retry-After`). */
  retryAfterMs?: number;
};

/** What a `sync` call did: push, then pull. */
export type SyncReport = {
  /**
   * Null when the push did not complete: paused by revoked access for the whole call, or
   * failed retryably (then `pushError` says why and the pull still ran).
   */
  push: PushReport | null;
  /** Why the push did not complete, when it failed retryably. */
  pushError: ErrorInfo | null;
  pull: PullReport;
};

/** HTTP method of a request (of a deferred command: `POST` or `PUT`). */
export type Method = "GET" | "POST" | "PUT";

/** A queued rename of a saved query (the only edit a device may make). */
export type OutboxOp = {
  /** Queue order, assigned by the store, strictly increasing. */
  seq: number;
  opId: string;
  kind: Kind;
  /** The query's id. */
  entityId: string;
  /** The server version this edit was made on. */
  expectedVersion: number;
  /** Same field name as on rows and in push patches (not camelCased). */
  name_i18n: I18n;
  createdAtMs: number;
  updatedAtMs: number;
  /**
   * True while the op belongs to the stored in-flight batch; such an op is never
   * coalesced into and never rebuilt into another batch.
   */
  inFlight: boolean;
  /**
   * True once the op has been in a request (set with `in_flight` and never cleared):
   * its op id and patch never change again, a later rename is a new op (PROTOCOL §9.4).
   */
  sent: boolean;
};

/** A queued online-only authoring request (PROTOCOL §5), replayed in order. */
export type DeferredCommand = {
  /** Queue order, assigned by the store. */
  seq: number;
  /** Also sent as `Idempotency-Key`, so a replay after a lost response is not applied twice. */
  commandId: string;
  method: Method;
  path: string;
  body: JsonValue | null;
  /** `If-Match` value: the version the user edited. */
  ifMatch: string | null;
  createdAtMs: number;
};

/** One queued local write, tagged for JS (`{"type":"op",…}` / `{"type":"command",…}`). */
export type PendingItem = { "type": "op" } & OutboxOp | { "type": "command" } & DeferredCommand;

/** The counters `status()` shows. */
export type OutboxCounts = {
  /** Queued ops plus queued commands. */
  pending: number;
  conflicts: number;
  deadLetters: number;
};

/** How the user settled a conflict. */
export type Resolution = "keepLocal" | "acceptServer";

/** Where a conflict came from. */
export type ConflictSource =
  | { "type": "op", opId: string }
  | { "type": "command", command: DeferredCommand };

/**
 * A local edit the server refused because the entity changed meanwhile. Immutable once
 * resolved (kept for audit, no longer listed as open).
 */
export type Conflict = {
  id: string;
  kind: Kind;
  entityId: string;
  /** The local edit (`{"name_i18n":…}` or the command body). */
  local: JsonValue;
  /** The server's current state (`{"version":…, …}`). */
  server: JsonValue;
  source: ConflictSource;
  createdAtMs: number;
  resolution: Resolution | null;
  resolvedAtMs: number | null;
};

/** An op or command that failed for good, with the reason. */
export type DeadLetter = {
  id: string;
  /** `"op"` or `"command"`. */
  source: "op" | "command";
  kind: Kind;
  entityId: string;
  /** HTTP status of the refusal (0 when refused locally). */
  status: number;
  /** The server's `error` string, or a local reason. */
  reason: string;
  /** The op or command as it was queued. */
  payload: JsonValue;
  failedAtMs: number;
};

/** "Data as of" and staleness of one dashboard (PROTOCOL §8). */
export type Freshness = {
  /** The oldest `lastSuccessAt` of the dashboard's projections; null when one is not held. */
  asOf: string | null;
  /** The largest `lagMinutes` of those projections. */
  lagMinutes: number | null;
  /** Some widget is stale. */
  stale: boolean;
  /**
   * Stale widgets: no snapshot, a newest one older than their `freshness.alertAtMinutes`,
   * or projections lagging more than that.
   */
  staleWidgetIds: Array<string>;
};

/** Every kind, in the order of PROTOCOL §2 (e.g. for a `changed` event after a wipe). */
export const ALL_KINDS: readonly Kind[] = [
  "Dashboard",
  "Widget",
  "MetricDefinition",
  "WidgetSnapshot",
  "Query",
  "Projection",
  "DqAlertOpen",
];
