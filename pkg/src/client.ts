/**
 * `SyncClient`: the public API of API.md over the wasm `SyncCore`.
 *
 * Every context (tab, worker) that opens a database reads and writes IndexedDB directly —
 * reads are instant and offline, edits land in the shared outbox in one durable transaction —
 * but only the leader (see `leader.ts`) talks to the server. A follower's `sync`/`pull`/`push`
 * is forwarded to the leader and resolves with the leader's report; its edits wake the leader.
 */
import { ContextChannel, randomId, type ChannelMessage, type LeaderState, type RpcMethod } from "./channel.js";
import { internalErrorCount, isWasmTrap, SyncError, toSyncError } from "./errors.js";
import { EventHub, type ChangeCause, type SyncListener } from "./events.js";
import { Leadership } from "./leader.js";
import { SyncRunner, type RunResult } from "./runner.js";
import {
  bytesPulled,
  requestPersistence,
  storageEstimate,
  SyncState,
  type Status,
} from "./status.js";
import { SyncTriggers, type TriggerReason } from "./triggers.js";
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
import { deleteCoreDatabase, loadWasm, openCore, type WasmCore } from "./wasm.js";
import {
  coreOptions,
  EMPTY_LEADER_STATE,
  needs,
  orUndefined,
  requireString,
  type PullOptions,
  type SyncClientOptions,
} from "./options.js";

export type { PullOptions, SyncClientOptions } from "./options.js";

interface PendingRpc {
  method: RpcMethod;
  options: { fresh?: boolean } | undefined;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  resolve(value: RunResult): void;
  reject(error: SyncError): void;
}


export class SyncClient {
  readonly databaseName: string;
  readonly #options: SyncClientOptions;
  #core: WasmCore;
  #closed: string | null = null;
  readonly #events = new EventHub();
  readonly #state = new SyncState();
  #remote: LeaderState = EMPTY_LEADER_STATE;
  readonly #channel: ContextChannel;
  readonly #leadership: Leadership;
  readonly #triggers: SyncTriggers;
  readonly #runner: SyncRunner;
  readonly #rpcs = new Map<string, PendingRpc>();
  readonly #servedRpcs = new Set<string>();
  #persisted: boolean | null = null;

  private constructor(options: SyncClientOptions, core: WasmCore) {
    this.#options = options;
    this.#core = core;
    this.databaseName = core.databaseName;
    this.#channel = new ContextChannel(this.databaseName, (m) => this.#onMessage(m));
    this.#runner = new SyncRunner(this.#state, {
      exec: (work) => this.#exec(work),
      changed: (kinds, cause) => this.#changed(kinds, cause),
      conflicts: (ids) => this.#events.emit({ type: "conflict", conflictIds: ids }),
      progress: (progress) => this.#events.emit({ type: "progress", progress }),
      error: (error) => this.#events.emit({ type: "error", error }),
      stateChanged: () => this.#stateChanged(),
    });
    this.#triggers = new SyncTriggers(
      options.cadence ?? {},
      (reason) => this.#autoSync(reason),
      () => this.#stateChanged(),
    );
    this.#leadership = new Leadership(this.databaseName, (leader) => this.#onLeadership(leader));
  }

  /** Loads the wasm (once per page or worker), opens this user's database, joins the election. */
  static async open(options: SyncClientOptions): Promise<SyncClient> {
    try {
      if (options === null || typeof options !== "object") {
        throw new SyncError("bad_request", "options must be an object");
      }
      await loadWasm(options.wasmUrl);
      const core = await openCore(coreOptions(options));
      const client = new SyncClient(options, core);
      client.#leadership.start();
      void requestPersistence().then((p) => {
        client.#persisted = p;
      });
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
    return this.#read((c) => c.widgets(requireString(dashboardId, "dashboardId"))) as Promise<Widget[]>;
  }
  metric(key: string): Promise<MetricDefinition | undefined> {
    return this.#read((c) => c.metric(requireString(key, "key"))).then(orUndefined) as Promise<
      MetricDefinition | undefined
    >;
  }
  snapshots(widgetId: string): Promise<WidgetSnapshot[]> {
    return this.#read((c) => c.snapshots(requireString(widgetId, "widgetId"))) as Promise<WidgetSnapshot[]>;
  }
  latestSnapshot(widgetId: string): Promise<WidgetSnapshot | undefined> {
    return this.#read((c) => c.latestSnapshot(requireString(widgetId, "widgetId"))).then(orUndefined) as Promise<
      WidgetSnapshot | undefined
    >;
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
    return this.#read((c) => c.freshness(requireString(dashboardId, "dashboardId"))).then(orUndefined) as Promise<
      Freshness | undefined
    >;
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Renames a saved query; resolves with the queued op once the new name and the op are
   * durably committed together (`invalid_name`, `not_found` otherwise).
   */
  async renameQuery(queryId: string, name: Partial<I18n> & { default: string }): Promise<OutboxOp> {
    const op = await this.#read((c) => needs(c, "renameQuery").call(c, requireString(queryId, "queryId"), name));
    this.#editDone(["Query"], "edit");
    return op as OutboxOp;
  }

  /**
   * The general local edit. Only `edit("Query", id, { name_i18n })` is allowed; anything else
   * rejects with `not_editable` and writes nothing.
   */
  async edit(kind: Kind, id: string, patch: Record<string, unknown>): Promise<OutboxOp> {
    const op = await this.#read((c) =>
      needs(c, "edit").call(c, requireString(kind, "kind"), requireString(id, "id"), patch),
    );
    this.#editDone([kind], "edit");
    return op as OutboxOp;
  }

  /** Queues an online-only authoring request (PROTOCOL §5) for the next push. */
  async enqueueCommand(command: CommandInput): Promise<DeferredCommand> {
    const queued = await this.#read((c) => needs(c, "enqueueCommand").call(c, command));
    this.#editDone([], "edit");
    return queued as DeferredCommand;
  }

  /** Queued renames and commands, in the order push sends them. */
  pending(): Promise<PendingItem[]> {
    return this.#read((c) => needs(c, "pending").call(c)) as Promise<PendingItem[]>;
  }
  conflicts(): Promise<Conflict[]> {
    return this.#read((c) => needs(c, "conflicts").call(c)) as Promise<Conflict[]>;
  }
  /** Settles an open conflict; `keepLocal` queues the edit again on the server's version. */
  async resolveConflict(id: string, resolution: Resolution): Promise<Conflict> {
    const settled = await this.#read((c) =>
      needs(c, "resolveConflict").call(c, requireString(id, "id"), requireString(resolution, "resolution")),
    );
    this.#editDone(["Query"], "resolve");
    return settled as Conflict;
  }
  deadLetters(): Promise<DeadLetter[]> {
    return this.#read((c) => needs(c, "deadLetters").call(c)) as Promise<DeadLetter[]>;
  }

  // ---- status and events ------------------------------------------------------------------

  async status(): Promise<Status> {
    const leader = this.#leadership.isLeader;
    const state = leader ? this.#state.toLeaderState() : this.#remote;
    let pending = 0;
    let conflicts = 0;
    let deadLetters = 0;
    if (!this.#closed && typeof this.#core.outboxCounts === "function") {
      try {
        const counts = (await this.#exec((c) => needs(c, "outboxCounts").call(c))) as OutboxCounts;
        ({ pending, conflicts, deadLetters } = counts);
      } catch {
        // A closed or broken connection: the counters stay 0 and lastError/closed say why.
      }
    }
    const estimate = await storageEstimate();
    return {
      online: this.#triggers.online && (globalThis.navigator?.onLine ?? true),
      syncing: state.syncing,
      leader,
      lastSyncedAt: state.lastSyncedAt,
      pending,
      conflicts,
      deadLetters,
      accessRevoked: state.accessRevoked,
      bytesPulled: bytesPulled(state),
      lastError: state.lastError,
      paused: state.paused ?? (globalThis.navigator?.onLine === false ? "offline" : null),
      storage: { ...estimate, persisted: this.#persisted },
      internalErrors: internalErrorCount(),
      closed: this.#closed !== null,
    };
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
    this.#assertOpen();
    if (options?.force !== true) {
      const [pending, conflicts] = await Promise.all([this.pending(), this.conflicts()]);
      const waiting = pending.length + conflicts.length;
      if (waiting > 0) {
        throw new SyncError(
          "unsynced_changes",
          `${waiting} unsynced change(s) (queued edits or open conflicts); sync or logout({force:true})`,
        );
      }
    }
    this.#channel.post({ type: "logout", from: this.#channel.contextId });
    this.#shutdown("logout");
    const { tenantId, userId, deviceId } = this.#options;
    try {
      await deleteCoreDatabase(tenantId, userId, deviceId);
    } catch (error) {
      throw toSyncError(error);
    }
  }

  /** Releases leadership and the database connection; later calls reject with `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#shutdown("close");
  }

  // ---- internals --------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) {
      throw new SyncError("closed", `this client is closed (${this.#closed})`);
    }
  }

  /** Runs `work` on the core; a dead connection (closed by the browser or a newer tab) is
   * reopened once and the call repeated — reads and edits are safe to repeat. */
  async #exec<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    this.#assertOpen();
    try {
      return await work(this.#core);
    } catch (error) {
      const e = toSyncError(error);
      if (isWasmTrap(error)) {
        this.#events.emit({ type: "error", error: e });
        this.#events.emit({ type: "closed", reason: "internal" });
        this.#shutdown("internal");
        throw e;
      }
      if (e.code !== "storage_unavailable" || this.#closed) throw e;
      await this.#reopen();
      return await work(this.#core);
    }
  }

  async #reopen(): Promise<void> {
    const fresh = await openCore(coreOptions(this.#options));
    if (this.#closed) {
      fresh.close();
      throw new SyncError("closed", `this client is closed (${this.#closed})`);
    }
    const old = this.#core;
    this.#core = fresh;
    old.close();
  }

  #read<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    return this.#exec(work).catch((error: unknown) => {
      throw toSyncError(error);
    });
  }

  #request(method: RpcMethod, options: { fresh?: boolean } | undefined, onProgress?: (p: PullProgress) => void): Promise<RunResult> {
    if (this.#closed) return Promise.reject(new SyncError("closed", `this client is closed (${this.#closed})`));
    if (this.#leadership.isLeader) return this.#runner.run(method, options, onProgress);
    return new Promise<RunResult>((resolve, reject) => {
      const id = randomId();
      this.#rpcs.set(id, { method, options, onProgress, resolve, reject });
      this.#channel.post({ type: "rpc", from: this.#channel.contextId, id, method, options });
    });
  }

  #autoSync(reason: TriggerReason): void {
    if (this.#closed || !this.#leadership.isLeader || this.#options.autoSync === false) return;
    if (this.#state.paused && reason !== "cadence" && reason !== "online") return;
    this.#runner.run("sync", undefined).then(
      () => this.#triggers.settled(true, false),
      (e: SyncError) => this.#triggers.settled(false, e.retryable),
    );
  }

  #onLeadership(leader: boolean): void {
    if (this.#closed) return;
    if (leader) {
      this.#channel.post({ type: "leader-elected", from: this.#channel.contextId });
      // Requests this context sent to the old leader now run here.
      for (const [id, rpc] of this.#rpcs) {
        this.#rpcs.delete(id);
        this.#runner.run(rpc.method, rpc.options, rpc.onProgress).then(rpc.resolve, rpc.reject);
      }
      void this.#dashboardsEmpty().then((empty) => {
        this.#state.coldStart = empty;
        if (this.#options.autoSync !== false) this.#triggers.start();
      });
    } else {
      this.#triggers.stop();
    }
    this.#stateChanged();
  }

  async #dashboardsEmpty(): Promise<boolean> {
    try {
      return (await this.dashboards()).length === 0;
    } catch {
      return false;
    }
  }

  #onMessage(m: ChannelMessage): void {
    if (this.#closed) return;
    const me = this.#channel.contextId;
    switch (m.type) {
      case "changed":
        this.#events.emit({ type: "changed", kinds: m.kinds, cause: m.cause as ChangeCause, remote: true });
        return;
      case "sync-request":
        if (this.#leadership.isLeader) this.#triggers.editMade();
        return;
      case "rpc":
        if (!this.#leadership.isLeader || this.#servedRpcs.has(m.id)) return;
        this.#servedRpcs.add(m.id);
        this.#runner
          .run(m.method, m.options as { fresh?: boolean } | undefined, (progress) =>
            this.#channel.post({ type: "rpc-progress", to: m.from, id: m.id, progress }),
          )
          .then(
            (value) => this.#channel.post({ type: "rpc-result", to: m.from, id: m.id, ok: true, value }),
            (error: SyncError) =>
              this.#channel.post({ type: "rpc-result", to: m.from, id: m.id, ok: false, error: error.toJSON() }),
          );
        return;
      case "rpc-progress":
        if (m.to === me) this.#rpcs.get(m.id)?.onProgress?.(m.progress);
        return;
      case "rpc-result": {
        const rpc = m.to === me ? this.#rpcs.get(m.id) : undefined;
        if (!rpc) return;
        this.#rpcs.delete(m.id);
        if (m.ok) rpc.resolve(m.value as RunResult);
        else rpc.reject(new SyncError(m.error?.code ?? "internal", m.error?.message ?? "leader failed", m.error?.retryable ?? false));
        return;
      }
      case "leader-elected":
        // The old leader may have died with our requests: ask the new one.
        for (const [id, rpc] of this.#rpcs) {
          this.#channel.post({ type: "rpc", from: me, id, method: rpc.method, options: rpc.options });
        }
        return;
      case "leader-status":
        if (!this.#leadership.isLeader) {
          this.#remote = m.state;
          this.#emitStatus();
        }
        return;
      case "logout":
        this.#events.emit({ type: "changed", kinds: [...ALL_KINDS], cause: "wipe", remote: true });
        this.#events.emit({ type: "closed", reason: "logout" });
        this.#shutdown("logout");
        return;
    }
  }

  #changed(kinds: Kind[], cause: ChangeCause): void {
    this.#events.emit({ type: "changed", kinds, cause, remote: false });
    this.#channel.post({ type: "changed", from: this.#channel.contextId, kinds, cause });
  }

  #editDone(kinds: Kind[], cause: ChangeCause): void {
    if (kinds.length > 0) this.#changed(kinds, cause);
    if (this.#leadership.isLeader) this.#triggers.editMade();
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
    if (this.#events.size === 0 || this.#closed) return;
    void this.status().then((status) => this.#events.emit({ type: "status", status }));
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#triggers.stop();
    this.#leadership.stop();
    this.#channel.close();
    for (const rpc of this.#rpcs.values()) {
      rpc.reject(new SyncError("closed", `this client is closed (${reason})`));
    }
    this.#rpcs.clear();
    try {
      this.#core.close();
    } catch {
      // A core poisoned by a trap cannot even close; the page must reload anyway.
    }
  }
}
