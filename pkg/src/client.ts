/**
 * `SyncClient`: the public API of API.md over the wasm `SyncCore`. Reads and local writes go
 * to this context's database; `sync`/`pull`/`push` run here when this context leads and are
 * forwarded to the leader otherwise. How the client is tied to its database and to the other
 * contexts (election, forwarding, autosync, events, status) is `coordination.ts`.
 */

import { Coordination } from "./coordination.js";
import { CoreHandle } from "./core-handle.js";
import { SyncError, toSyncError } from "./errors.js";
import type { SyncListener } from "./events.js";
import { readWidgetsOf } from "./idb-reads.js";
import { refuseUnsynced, wipeDatabase } from "./logout.js";
import type { Status } from "./status.js";
import type {
  CommandInput,
  DeferredCommand,
  Conflict,
  Dashboard,
  DeadLetter,
  DqAlertOpen,
  Freshness,
  I18n,
  Kind,
  MetricDefinition,
  OutboxOp,
  PendingItem,
  Projection,
  PullReport,
  PushReport,
  Query,
  Resolution,
  SyncReport,
  Widget,
  WidgetSnapshot,
} from "./types.js";
import { loadWasm } from "./wasm.js";
import {
  checkTokenTimeout,
  leaderTimeoutMs,
  needs,
  requireString,
  type PullOptions,
  type SyncClientOptions,
} from "./options.js";

export type { PullOptions, SyncClientOptions } from "./options.js";

export class SyncClient {
  readonly databaseName: string;
  readonly #options: SyncClientOptions;
  readonly #c: Coordination;

  private constructor(options: SyncClientOptions, core: CoreHandle) {
    this.#options = options;
    this.databaseName = core.databaseName;
    this.#c = new Coordination(options, core);
  }

  /** Loads the wasm (once per page or worker), opens this user's database, joins the election. */
  static async open(options: SyncClientOptions): Promise<SyncClient> {
    try {
      if (options === null || typeof options !== "object") {
        throw new SyncError("bad_request", "options must be an object");
      }
      leaderTimeoutMs(options);
      checkTokenTimeout(options);
      await loadWasm(options.wasmUrl);
      const core = await CoreHandle.open(options);
      const client = new SyncClient(options, core);
      client.#c.loadLastSynced();
      client.#c.storage.requestPersistence();
      return client;
    } catch (error) {
      throw toSyncError(error);
    }
  }

  // ---- sync -------------------------------------------------------------------------------

  /** Push, then pull until drained. */
  sync(): Promise<SyncReport> {
    return this.#c.request("sync", undefined) as Promise<SyncReport>;
  }

  /** Pull until drained (`fresh: true` starts over from an empty cursor). */
  pull(options: PullOptions = {}): Promise<PullReport> {
    if (options === null || typeof options !== "object") {
      return Promise.reject(new SyncError("bad_request", "pull options must be an object"));
    }
    const { onProgress, ...wire } = options;
    if (onProgress !== undefined && typeof onProgress !== "function") {
      return Promise.reject(new SyncError("bad_request", "onProgress must be a function"));
    }
    return this.#c.request("pull", { fresh: wire.fresh === true }, onProgress) as Promise<PullReport>;
  }

  /** Push queued renames and deferred commands. */
  push(): Promise<PushReport> {
    return this.#c.request("push", undefined) as Promise<PushReport>;
  }

  // ---- reads ------------------------------------------------------------------------------

  dashboards(): Promise<Dashboard[]> {
    return this.#c.read((c) => c.dashboards()) as Promise<Dashboard[]>;
  }
  widgets(dashboardId: string): Promise<Widget[]> {
    // Read here, not through wasm: the stored objects as they are (`idb-reads.ts`).
    return this.#c.read((c) => readWidgetsOf(c.idbDatabase(), requireString(dashboardId, "dashboardId")));
  }
  metric(key: string): Promise<MetricDefinition | undefined> {
    return this.#c.find((c) => c.metric(requireString(key, "key")));
  }
  snapshots(widgetId: string): Promise<WidgetSnapshot[]> {
    return this.#c.read((c) => c.snapshots(requireString(widgetId, "widgetId"))) as Promise<WidgetSnapshot[]>;
  }
  latestSnapshot(widgetId: string): Promise<WidgetSnapshot | undefined> {
    return this.#c.latest.load(widgetId);
  }
  queries(): Promise<Query[]> {
    return this.#c.read((c) => c.queries()) as Promise<Query[]>;
  }
  projections(): Promise<Projection[]> {
    return this.#c.read((c) => c.projections()) as Promise<Projection[]>;
  }
  openAlerts(): Promise<DqAlertOpen[]> {
    return this.#c.read((c) => c.openAlerts()) as Promise<DqAlertOpen[]>;
  }
  freshness(dashboardId: string): Promise<Freshness | undefined> {
    return this.#c.find((c) => c.freshness(requireString(dashboardId, "dashboardId")));
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Renames a saved query; resolves with the queued op once the new name and the op are
   * durably committed together (`invalid_name`, `not_found` otherwise).
   */
  renameQuery(queryId: string, name: Partial<I18n> & { default: string }): Promise<OutboxOp> {
    return this.#c.write(["Query"], "edit", (c) =>
      needs(c, "renameQuery").call(c, requireString(queryId, "queryId"), name),
    ) as Promise<OutboxOp>;
  }

  /**
   * The general local edit. Only `edit("Query", id, { name_i18n })` is allowed; anything else
   * rejects with `not_editable` and writes nothing.
   */
  edit(kind: Kind, id: string, patch: Record<string, unknown>): Promise<OutboxOp> {
    return this.#c.write([kind], "edit", (c) =>
      needs(c, "edit").call(c, requireString(kind, "kind"), requireString(id, "id"), patch),
    ) as Promise<OutboxOp>;
  }

  /** Queues an online-only authoring request (PROTOCOL §5) for the next push. */
  enqueueCommand(command: CommandInput): Promise<DeferredCommand> {
    return this.#c.write([], "edit", (c) => needs(c, "enqueueCommand").call(c, command)) as Promise<DeferredCommand>;
  }

  /** Queued renames and commands, in the order push sends them. */
  pending(): Promise<PendingItem[]> {
    return this.#c.read((c) => needs(c, "pending").call(c)) as Promise<PendingItem[]>;
  }
  conflicts(): Promise<Conflict[]> {
    return this.#c.read((c) => needs(c, "conflicts").call(c)) as Promise<Conflict[]>;
  }
  /** Settles an open conflict; `keepLocal` queues the edit again on the server's version. */
  resolveConflict(id: string, resolution: Resolution): Promise<Conflict> {
    return this.#c.write(["Query"], "resolve", (c) =>
      needs(c, "resolveConflict").call(c, requireString(id, "id"), requireString(resolution, "resolution")),
    ) as Promise<Conflict>;
  }
  deadLetters(): Promise<DeadLetter[]> {
    return this.#c.read((c) => needs(c, "deadLetters").call(c)) as Promise<DeadLetter[]>;
  }
  /**
   * Sends a dead letter again: it goes to the END of the queue (an op as a new op re-based on
   * the query's version held now, a command under a new id) and leaves the dead letters, in
   * one durable transaction. Like every edit it is written here (any context) and pushed by
   * the leader. Unknown id → `not_found`.
   */
  requeueDeadLetter(id: string): Promise<PendingItem> {
    return this.#c.write(
      (item: PendingItem) => (item.type === "op" ? ["Query"] : []),
      "edit",
      (c) => needs(c, "requeueDeadLetter").call(c, requireString(id, "id")) as Promise<PendingItem>,
    );
  }
  /** Removes a dead letter for good; resolves with it. Unknown id → `not_found`. */
  dropDeadLetter(id: string): Promise<DeadLetter> {
    return this.#c.write([], "edit", (c) => needs(c, "dropDeadLetter").call(c, requireString(id, "id")) as Promise<DeadLetter>);
  }

  // ---- status and events ------------------------------------------------------------------

  status(): Promise<Status> {
    return this.#c.status();
  }

  /** Listens to `status`, `changed`, `conflict`, `error`, `progress` and `closed` events. */
  subscribe(listener: SyncListener): () => void {
    if (typeof listener !== "function") throw new SyncError("bad_request", "listener must be a function");
    return this.#c.events.subscribe(listener);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /**
   * Deletes this user's database. Refuses with `unsynced_changes` while renames, commands or
   * conflicts wait, unless `force`; then every other context of this database closes too.
   */
  async logout(options: { force?: boolean } = {}): Promise<void> {
    this.#c.core.assertOpen();
    if (options?.force !== true) await refuseUnsynced(this.pending(), this.conflicts());
    this.#c.announceLogout();
    this.#c.shutdown("logout");
    await wipeDatabase(this.#options);
  }

  /** Releases leadership and the database connection; later calls reject with `closed`. */
  close(): void {
    this.#c.shutdown("close");
  }
}
