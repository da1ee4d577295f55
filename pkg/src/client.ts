/**
 * `SyncClient`: the public API of API.md over the wasm `SyncCore`.
 *
 * Every context (tab, worker) that opens a database reads and writes IndexedDB directly —
 * reads are instant and offline, edits land in the shared outbox in one durable transaction —
 * but only the leader (see `leader.ts`) talks to the server. A follower's `sync`/`pull`/`push`
 * is forwarded to the leader (`forwarding.ts`) and resolves with the leader's report; its edits
 * wake the leader. This file wires the parts together: the core handle (`core-handle.ts`), the
 * runner and its triggers (`runner.ts`, `autosync.ts`), the channel, status and logout.
 */
import { AutoSync } from "./autosync.js";
import { loadBudget, loadLastSyncedAt, saveBudget, saveLastSyncedAt } from "./budget-store.js";
import { ContextChannel, type ChannelMessage, type LeaderState, type RpcMethod } from "./channel.js";
import { CoreHandle } from "./core-handle.js";
import { internalErrorCount, SyncError, toSyncError } from "./errors.js";
import { ending, type Ending } from "./endings.js";
import { EventHub, type ChangeCause, type SyncListener } from "./events.js";
import { LeaderForwarding } from "./forwarding.js";
import { readWidgetsOf } from "./idb-reads.js";
import { Leadership } from "./leader.js";
import { refuseUnsynced, wipeDatabase } from "./logout.js";
import { SyncRunner, type RunResult } from "./runner.js";
import { noteReachability } from "./reachability.js";
import { LatestSnapshotBatcher } from "./snapshot-batch.js";
import { composeStatus, SyncState, type Status } from "./status.js";
import { StorageWatch } from "./storage.js";
import {
  ALL_KINDS,
  type CommandInput,
  type DeferredCommand,
  type Conflict,
  type Dashboard,
  type DeadLetter,
  type DqAlertOpen,
  type Freshness,
  type I18n,
  type Kind,
  type MetricDefinition,
  type OutboxCounts,
  type OutboxOp,
  type PendingItem,
  type Projection,
  type PullProgress,
  type PullReport,
  type PushReport,
  type Query,
  type Resolution,
  type SyncReport,
  type Widget,
  type WidgetSnapshot,
} from "./types.js";
import { onPoison } from "./traps.js";
import { loadWasm, type WasmCore } from "./wasm.js";
import {
  checkTokenTimeout,
  EMPTY_LEADER_STATE,
  leaderTimeoutMs,
  needs,
  orUndefined,
  requireString,
  type PullOptions,
  type SyncClientOptions,
} from "./options.js";

export type { PullOptions, SyncClientOptions } from "./options.js";

export class SyncClient {
  readonly databaseName: string;
  readonly #options: SyncClientOptions;
  readonly #core: CoreHandle;
  readonly #events = new EventHub();
  readonly #state = new SyncState();
  #remote: LeaderState = EMPTY_LEADER_STATE;
  readonly #channel: ContextChannel;
  readonly #leadership: Leadership;
  readonly #auto: AutoSync;
  readonly #runner: SyncRunner;
  readonly #forwarding: LeaderForwarding;
  readonly #storage = new StorageWatch();
  /** `latestSnapshot` calls of one tick are read in one transaction (`snapshot-batch.ts`). */
  readonly #latest = new LatestSnapshotBatcher((work) => this.#exec(work));

  readonly #offPoison: () => void;
  /** The stored "last synced" time is loading (`#loadLastSynced`); `status()` waits for it. */
  #lastSyncedLoaded: Promise<void> = Promise.resolve();

  private constructor(options: SyncClientOptions, core: CoreHandle) {
    this.#options = options;
    this.databaseName = core.databaseName;
    this.#core = core;
    core.attach({
      superseded: (type, reason) => this.#end({ type, reason }),
      reopened: () => this.#reopened(),
      lost: (error) => this.#end({ type: "lost", error }),
      reachability: (reachable, detail) => this.#reachability(reachable, detail),
    });
    this.#offPoison = onPoison((error) => this.#end({ type: "trap", error }));
    this.#channel = new ContextChannel(this.databaseName, (m) => this.#onMessage(m));
    this.#runner = new SyncRunner(this.#state, {
      exec: (work) => this.#exec(work),
      changed: (kinds, cause) => this.#changed(kinds, cause),
      conflicts: (ids) => this.#events.emit({ type: "conflict", conflictIds: ids }),
      progress: (progress) => this.#events.emit({ type: "progress", progress }),
      error: (error) => this.#events.emit({ type: "error", error }),
      stateChanged: () => this.#stateChanged(),
      budgetChanged: () => saveBudget((w) => this.#exec(w), this.#state.budget),
      syncedAtChanged: (at) => saveLastSyncedAt((w) => this.#exec(w), at),
    });
    this.#forwarding = new LeaderForwarding(
      this.#channel,
      this.#runner,
      () => this.#leadership.isLeader,
      leaderTimeoutMs(options),
    );
    this.#auto = new AutoSync(options, this.#state, this.#runner, {
      active: () => !this.#core.closedReason && this.#leadership.isLeader,
      prepare: () => this.#loadBudget(),
      networkChanged: () => this.#stateChanged(),
    });
    this.#leadership = new Leadership(this.databaseName, (leader) => this.#onLeadership(leader));
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
      client.#loadLastSynced();
      client.#storage.requestPersistence();
      return client;
    } catch (error) {
      throw toSyncError(error);
    }
  }

  // ---- sync -------------------------------------------------------------------------------

  /** Push, then pull until drained. */
  sync(): Promise<SyncReport> {
    return this.#request("sync", undefined) as Promise<SyncReport>;
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
    return this.#request("pull", { fresh: wire.fresh === true }, onProgress) as Promise<PullReport>;
  }

  /** Push queued renames and deferred commands. */
  push(): Promise<PushReport> {
    return this.#request("push", undefined) as Promise<PushReport>;
  }

  // ---- reads ------------------------------------------------------------------------------

  dashboards(): Promise<Dashboard[]> {
    return this.#read((c) => c.dashboards()) as Promise<Dashboard[]>;
  }
  widgets(dashboardId: string): Promise<Widget[]> {
    // Read here, not through wasm: the stored objects as they are (`idb-reads.ts`).
    return this.#read((c) => readWidgetsOf(c.idbDatabase(), requireString(dashboardId, "dashboardId")));
  }
  metric(key: string): Promise<MetricDefinition | undefined> {
    return this.#find((c) => c.metric(requireString(key, "key")));
  }
  snapshots(widgetId: string): Promise<WidgetSnapshot[]> {
    return this.#read((c) => c.snapshots(requireString(widgetId, "widgetId"))) as Promise<WidgetSnapshot[]>;
  }
  latestSnapshot(widgetId: string): Promise<WidgetSnapshot | undefined> {
    return this.#latest.load(widgetId);
  }
  queries(): Promise<Query[]> {
    return this.#read((c) => c.queries()) as Promise<Query[]>;
  }
  projections(): Promise<Projection[]> {
    return this.#read((c) => c.projections()) as Promise<Projection[]>;
  }
  openAlerts(): Promise<DqAlertOpen[]> {
    return this.#read((c) => c.openAlerts()) as Promise<DqAlertOpen[]>;
  }
  freshness(dashboardId: string): Promise<Freshness | undefined> {
    return this.#find((c) => c.freshness(requireString(dashboardId, "dashboardId")));
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Renames a saved query; resolves with the queued op once the new name and the op are
   * durably committed together (`invalid_name`, `not_found` otherwise).
   */
  renameQuery(queryId: string, name: Partial<I18n> & { default: string }): Promise<OutboxOp> {
    return this.#write(["Query"], "edit", (c) =>
      needs(c, "renameQuery").call(c, requireString(queryId, "queryId"), name),
    ) as Promise<OutboxOp>;
  }

  /**
   * The general local edit. Only `edit("Query", id, { name_i18n })` is allowed; anything else
   * rejects with `not_editable` and writes nothing.
   */
  edit(kind: Kind, id: string, patch: Record<string, unknown>): Promise<OutboxOp> {
    return this.#write([kind], "edit", (c) =>
      needs(c, "edit").call(c, requireString(kind, "kind"), requireString(id, "id"), patch),
    ) as Promise<OutboxOp>;
  }

  /** Queues an online-only authoring request (PROTOCOL §5) for the next push. */
  enqueueCommand(command: CommandInput): Promise<DeferredCommand> {
    return this.#write([], "edit", (c) => needs(c, "enqueueCommand").call(c, command)) as Promise<DeferredCommand>;
  }

  /** Queued renames and commands, in the order push sends them. */
  pending(): Promise<PendingItem[]> {
    return this.#read((c) => needs(c, "pending").call(c)) as Promise<PendingItem[]>;
  }
  conflicts(): Promise<Conflict[]> {
    return this.#read((c) => needs(c, "conflicts").call(c)) as Promise<Conflict[]>;
  }
  /** Settles an open conflict; `keepLocal` queues the edit again on the server's version. */
  resolveConflict(id: string, resolution: Resolution): Promise<Conflict> {
    return this.#write(["Query"], "resolve", (c) =>
      needs(c, "resolveConflict").call(c, requireString(id, "id"), requireString(resolution, "resolution")),
    ) as Promise<Conflict>;
  }
  deadLetters(): Promise<DeadLetter[]> {
    return this.#read((c) => needs(c, "deadLetters").call(c)) as Promise<DeadLetter[]>;
  }
  /**
   * Sends a dead letter again: it goes to the END of the queue (an op as a new op re-based on
   * the query's version held now, a command under a new id) and leaves the dead letters, in
   * one durable transaction. Like every edit it is written here (any context) and pushed by
   * the leader. Unknown id → `not_found`.
   */
  requeueDeadLetter(id: string): Promise<PendingItem> {
    return this.#write(
      (item: PendingItem) => (item.type === "op" ? ["Query"] : []),
      "edit",
      (c) => needs(c, "requeueDeadLetter").call(c, requireString(id, "id")) as Promise<PendingItem>,
    );
  }
  /** Removes a dead letter for good; resolves with it. Unknown id → `not_found`. */
  dropDeadLetter(id: string): Promise<DeadLetter> {
    return this.#write([], "edit", (c) => needs(c, "dropDeadLetter").call(c, requireString(id, "id")) as Promise<DeadLetter>);
  }

  // ---- status and events ------------------------------------------------------------------

  async status(): Promise<Status> {
    await this.#lastSyncedLoaded;
    const leader = this.#leadership.isLeader;
    let counts: OutboxCounts = { pending: 0, conflicts: 0, deadLetters: 0 };
    if (!this.#core.closedReason && this.#core.has("outboxCounts")) {
      try {
        counts = (await this.#exec((c) => needs(c, "outboxCounts").call(c))) as OutboxCounts;
      } catch {
        // A closed or broken connection: the counters stay 0 and lastError/closed say why.
      }
    }
    return composeStatus({
      leader,
      state: leader
        ? this.#state.toLeaderState()
        : { ...this.#remote, lastSyncedAt: this.#remote.lastSyncedAt ?? this.#state.lastSyncedAt },
      counts,
      online: this.#auto.online && (globalThis.navigator?.onLine ?? true),
      storage: await this.#storage.health(),
      internalErrors: internalErrorCount(),
      closed: this.#core.closedReason !== null,
    });
  }

  /** Listens to `status`, `changed`, `conflict`, `error`, `progress` and `closed` events. */
  subscribe(listener: SyncListener): () => void {
    if (typeof listener !== "function") throw new SyncError("bad_request", "listener must be a function");
    return this.#events.subscribe(listener);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /**
   * Deletes this user's database. Refuses with `unsynced_changes` while renames, commands or
   * conflicts wait, unless `force`; then every other context of this database closes too.
   */
  async logout(options: { force?: boolean } = {}): Promise<void> {
    this.#core.assertOpen();
    if (options?.force !== true) await refuseUnsynced(this.pending(), this.conflicts());
    this.#channel.post({ type: "logout", from: this.#channel.contextId });
    this.#shutdown("logout");
    await wipeDatabase(this.#options);
  }

  /** Releases leadership and the database connection; later calls reject with `closed`. */
  close(): void {
    this.#shutdown("close");
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * "Last synced" survives a reload: the stored time is loaded before anything can report
   * status (`status()` waits for it) and before this context joins the election (a leader
   * broadcasts it and keeps the later of it and its predecessor's), but `open` does not wait:
   * a first render's reads need neither (measured: the awaited read was ≈ 1.5 ms of a 3.4 ms
   * open, on the critical path of every first render).
   */
  #loadLastSynced(): void {
    this.#lastSyncedLoaded = loadLastSyncedAt((w) => this.#exec(w)).then((at) => {
      this.#state.lastSyncedAt = at;
      if (!this.#core.closedReason) this.#leadership.start();
    });
  }

  #exec<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    return this.#core.exec(work);
  }

  /** The client closes itself (see `endings.ts`): the app is told why, once. */
  #end(why: Ending): void {
    if (this.#core.closedReason) return;
    const { events, reason } = ending(why);
    for (const event of events) this.#events.emit(event);
    this.#shutdown(reason);
  }

  /** The browser closed the connection and a fresh one is open: what was held may be gone. */
  #reopened(): void {
    this.#events.emit({ type: "changed", kinds: [...ALL_KINDS], cause: "wipe", remote: false });
    if (this.#leadership.isLeader) this.#auto.restart();
    this.#emitStatus();
  }

  #read<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    return this.#exec(work).catch((error: unknown) => {
      throw toSyncError(error);
    });
  }

  /** A read of one thing: the wasm side's `null` for "none" becomes `undefined` (API.md). */
  #find<T>(work: (core: WasmCore) => Promise<unknown>): Promise<T | undefined> {
    return this.#read(work).then(orUndefined) as Promise<T | undefined>;
  }

  /**
   * A local write (edit, command, resolution). On success the change is announced and the
   * leader woken; a full disk pauses automatic sync (leader) and is reported as an `error`.
   */
  async #write<T>(
    kinds: Kind[] | ((result: T) => Kind[]),
    cause: ChangeCause,
    work: (core: WasmCore) => Promise<T>,
  ): Promise<T> {
    let result: T;
    try {
      result = await this.#read(work);
    } catch (error) {
      const e = toSyncError(error);
      if (e.code === "quota_exceeded") {
        this.#events.emit({ type: "error", error: e });
        if (this.#leadership.isLeader) this.#runner.storageFull(e);
      }
      throw e;
    }
    this.#editDone(typeof kinds === "function" ? kinds(result) : kinds, cause);
    return result;
  }

  #request(method: RpcMethod, options: { fresh?: boolean } | undefined, onProgress?: (p: PullProgress) => void): Promise<RunResult> {
    const closed = this.#core.closedReason;
    if (closed) return Promise.reject(new SyncError("closed", `this client is closed (${closed})`));
    if (this.#leadership.isLeader) return this.#runner.run(method, options, onProgress);
    return this.#forwarding.forward(method, options, onProgress);
  }

  #onLeadership(leader: boolean): void {
    if (this.#core.closedReason) return;
    if (leader) {
      this.#state.takeOver(this.#remote);
      this.#channel.post({ type: "leader-elected", from: this.#channel.contextId });
      this.#auto.becameLeader();
      this.#forwarding.runPendingHere();
    } else {
      this.#auto.stop();
    }
    this.#stateChanged();
  }

  /** A cold start? Counted, not read: a new leader must not contend with first render. */
  async #dashboardsEmpty(): Promise<boolean> {
    try {
      const held = await this.#exec((core) =>
        core.holdsDashboards ? core.holdsDashboards() : core.dashboards().then((d) => (d as unknown[]).length > 0),
      );
      return held !== true;
    } catch {
      return false;
    }
  }

  /** A new leader takes over the byte budget stored by the previous one (or starts one). */
  async #loadBudget(): Promise<void> {
    const [empty, stored] = await Promise.all([this.#dashboardsEmpty(), loadBudget((w) => this.#exec(w))]);
    this.#state.budget.restore(stored, empty);
    this.#stateChanged();
  }

  #onMessage(m: ChannelMessage): void {
    if (this.#core.closedReason) return;
    if (this.#forwarding.handle(m)) return;
    switch (m.type) {
      case "changed":
        this.#events.emit({ type: "changed", kinds: m.kinds, cause: m.cause as ChangeCause, remote: true });
        return;
      case "sync-request":
        if (this.#leadership.isLeader) this.#auto.editMade();
        return;
      case "leader-status":
        if (!this.#leadership.isLeader) {
          this.#remote = m.state;
          this.#emitStatus();
        }
        return;
      case "logout":
        this.#end({ type: "logout" });
        return;
    }
  }

  /** The server stopped (or resumed) answering, reported from inside a wasm call. */
  #reachability(reachable: boolean, detail: string): void {
    // Report after the wasm call returned, never from inside it.
    if (noteReachability(this.#state, reachable, detail)) queueMicrotask(() => this.#stateChanged());
  }

  #changed(kinds: Kind[], cause: ChangeCause): void {
    this.#events.emit({ type: "changed", kinds, cause, remote: false });
    this.#channel.post({ type: "changed", from: this.#channel.contextId, kinds, cause });
  }

  #editDone(kinds: Kind[], cause: ChangeCause): void {
    if (kinds.length > 0) this.#changed(kinds, cause);
    if (this.#leadership.isLeader) this.#auto.editMade();
    else this.#channel.post({ type: "sync-request", from: this.#channel.contextId });
    this.#emitStatus();
  }

  #stateChanged(): void {
    if (this.#leadership.isLeader) {
      this.#channel.post({ type: "leader-status", from: this.#channel.contextId, state: this.#state.toLeaderState() });
    }
    this.#emitStatus();
  }

  #emitStatus(): void {
    if (this.#events.size === 0 || this.#core.closedReason) return;
    void this.status().then((status) => this.#events.emit({ type: "status", status }));
  }

  #shutdown(reason: string): void {
    if (!this.#core.close(reason)) return;
    this.#offPoison();
    this.#auto.stop();
    this.#leadership.stop();
    this.#channel.close();
    this.#forwarding.rejectAll(reason);
  }
}
