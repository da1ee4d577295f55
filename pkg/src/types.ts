/**
 * Shapes of what the package hands to the app. Rows mirror the wire contract (PROTOCOL §2):
 * fields beyond the listed ones are kept, so every row type allows extra keys.
 */

/** Localized text: `default` plus any locale keys. */
export type I18n = { default: string } & Record<string, string>;

/** The seven kinds of the contract; `changed` events name them. */
export type Kind =
  | "Dashboard"
  | "Widget"
  | "MetricDefinition"
  | "WidgetSnapshot"
  | "Query"
  | "Projection"
  | "DqAlertOpen";

/** Every kind, e.g. for a `changed` event after a wipe. */
export const ALL_KINDS: readonly Kind[] = [
  "Dashboard",
  "Widget",
  "MetricDefinition",
  "WidgetSnapshot",
  "Query",
  "Projection",
  "DqAlertOpen",
];

export interface Dashboard {
  id: string;
  version: number;
  name_i18n: I18n;
  scope: "own" | "role" | "tenant" | "property";
  propertyId?: string;
  sharedWith: { kind: "user" | "role"; id: string }[];
  tables: string[];
  updatedAt: string;
  [extra: string]: unknown;
}

export interface Widget {
  id: string;
  version: number;
  dashboardId: string;
  type: "kpi" | "timeseries" | "breakdown" | "funnel" | "heatmap";
  title_i18n: I18n;
  metricKey: string;
  queryId?: string;
  params: Record<string, unknown>;
  paramsHash: string;
  freshness: { targetMinutes: number; alertAtMinutes: number };
  layout: { x: number; y: number; w: number; h: number };
  [extra: string]: unknown;
}

export interface MetricDefinition {
  key: string;
  version: number;
  name_i18n: I18n;
  unit: string;
  format: string;
  [extra: string]: unknown;
}

export interface WidgetSnapshot {
  widgetId: string;
  paramsHash: string;
  rows: unknown[];
  provenance: {
    computedAt: string;
    bytesScanned: number;
    slotMs: number;
    warehouseJobId: string;
    computedBy: string;
  };
  generatedAt: string;
  freshnessLagSeconds: number;
  [extra: string]: unknown;
}

/** A saved query; `name_i18n` already shows a rename that is still queued. */
export interface Query {
  id: string;
  version: number;
  ownerId: string;
  name_i18n: I18n;
  sql_template?: string;
  [extra: string]: unknown;
}

export interface Projection {
  key: string;
  version: number;
  lastSuccessAt: string;
  lagMinutes: number;
  [extra: string]: unknown;
}

export interface DqAlertOpen {
  id: string;
  version: number;
  checkKey: string;
  severity: "info" | "warning" | "critical";
  observedAt: string;
  [extra: string]: unknown;
}

/** "Data as of" of one dashboard (PROTOCOL §8). */
export interface Freshness {
  asOf: string | null;
  lagMinutes: number | null;
  stale: boolean;
  staleWidgetIds: string[];
}

export interface IntegrityFinding {
  [field: string]: unknown;
}

/** What one `pull` did. */
export interface PullReport {
  pages: number;
  applied: Partial<Record<Kind, number>>;
  duplicatesSkipped: number;
  snapshotsTrimmed: number;
  snapshotsTooLarge: string[];
  bytesPulled: number;
  resets: Kind[];
  retries: number;
  coldRestarts: number;
  /** Rows removed because a full replacement (a pull begun without a cursor) did not send them again. */
  rowsSwept: number;
  /** Snapshots removed because their widget is no longer held (after a replacement or a Widget reset). */
  snapshotsSwept: number;
  integrity: IntegrityFinding[];
  durationMs: number;
  changedKinds: Kind[];
  /** False when the call stopped at `maxPages` before the server said `drained`. */
  drained: boolean;
}

/** What one `push` did. */
export interface PushReport {
  batches: number;
  opsApplied: number;
  conflicts: number;
  newConflicts: string[];
  deadLetters: number;
  opsUnanswered: number;
  commandsDone: number;
  retries: number;
  resentInFlight: boolean;
  durationMs: number;
  changedKinds: Kind[];
}

/**
 * What one `sync` did. `push` is null when the push did not complete: paused by a revocation,
 * or failed retryably (offline, 5xx, 429) — then `pushError` says why and the pull still ran.
 */
export interface SyncReport {
  push: PushReport | null;
  pushError?: { code: string; retryable: boolean; message: string; status?: number; retryAfterMs?: number } | null;
  pull: PullReport;
}

/** Reported after every committed page of a pull (cold-start progress bar). */
export interface PullProgress {
  pages: number;
  itemsApplied: number;
  bytesPulled: number;
}

/** A queued rename of a saved query. */
export interface OutboxOp {
  seq: number;
  opId: string;
  kind: Kind;
  entityId: string;
  expectedVersion: number;
  name_i18n: I18n;
  createdAtMs: number;
  updatedAtMs: number;
  inFlight: boolean;
  /** True once the op has been in a request: its id and patch never change again. */
  sent: boolean;
}

/** A queued online-only authoring request (PROTOCOL §5). */
export interface DeferredCommand {
  seq: number;
  commandId: string;
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  ifMatch?: string | null;
  createdAtMs: number;
}

/** What `enqueueCommand` takes. */
export interface CommandInput {
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  ifMatch?: string;
}

/** One queued item, in the order push sends them (renames, then deferred commands). */
export type PendingItem = ({ type: "op" } & OutboxOp) | ({ type: "command" } & DeferredCommand);

/** Counts of the outbox, for status displays. */
export interface OutboxCounts {
  pending: number;
  conflicts: number;
  deadLetters: number;
}

export type Resolution = "keepLocal" | "acceptServer";

export interface Conflict {
  id: string;
  kind: Kind;
  entityId: string;
  /** The local edit (`{name_i18n}` or the command body). */
  local: unknown;
  /** The server's current state (`{version, …}`). */
  server: unknown;
  source: { type: "op"; opId: string } | { type: "command"; command: DeferredCommand };
  createdAtMs: number;
  resolution: Resolution | null;
  resolvedAtMs: number | null;
}

export interface DeadLetter {
  id: string;
  source: "op" | "command";
  kind: Kind;
  entityId: string;
  /** HTTP status of the refusal (0 when refused locally). */
  status: number;
  reason: string;
  payload: unknown;
  failedAtMs: number;
}
