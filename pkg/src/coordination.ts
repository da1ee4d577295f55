/**
 * What ties one `SyncClient` to its database and to the other contexts of it: the core handle
 * (`core-handle.ts`), the leader election (`leader.ts`) and forwarding to the leader
 * (`forwarding.ts`), the runner and its triggers (`runner.ts`, `autosync.ts`), the channel,
 * events and status. `client.ts` is the public API (API.md) on top of it.
 *
 * Every context (tab, worker) that opens a database reads and writes IndexedDB directly —
 * reads are instant and offline, edits land in the shared outbox in one durable transaction —
 * but only the leader talks to the server. A follower's `sync`/`pull`/`push` is forwarded to
 * the leader and resolves with the leader's report; its edits wake the leader.
 */

import { AutoSync } from "./autosync.js";
import { loadBudget, loadLastSyncedAt, saveBudget, saveLastSyncedAt } from "./budget-store.js";
import { ContextChannel, isLeaderState, type ChannelMessage, type LeaderState, type RpcMethod } from "./channel.js";
import { CoreHandle } from "./core-handle.js";
import { internalErrorCount, SyncError, toSyncError } from "./errors.js";
import { ending, type Ending } from "./endings.js";
import { EventHub, type ChangeCause } from "./events.js";
import { LeaderForwarding } from "./forwarding.js";
import { Leadership } from "./leader.js";
import { SyncRunner, type RunResult } from "./runner.js";
import { noteReachability } from "./reachability.js";
import { LatestSnapshotBatcher } from "./snapshot-batch.js";
import { composeStatus, SyncState, type Status } from "./status.js";
import { StorageWatch } from "./storage.js";
import { ALL_KINDS, type Kind, type OutboxCounts, type PullProgress } from "./types.js";
import { onPoison } from "./traps.js";
import { type WasmCore } from "./wasm.js";
import { EMPTY_LEADER_STATE, leaderTimeoutMs, needs, orUndefined, type SyncClientOptions } from "./options.js";

/**
 * How long a client that has synced before waits after open before it joins the leader
 * election, unless it is asked to sync or edits first. First render reads the cache right
 * after open; the election's lock request, the new leader's set-up reads (`#loadBudget`) and its
 * status broadcast would run between those reads and slow them: first render ÷ raw floor, six
 * render-only runs of each package interleaved (`bench/run.sh --quick --trials 1 --warmup 0
 * --render-trials 60`), 1.22–1.31 (median 1.26) with the election at open, 1.17–1.24 (median
 * 1.21) with this grace. The data on screen came from a sync already, so the background sync
 * that follows the election can start a moment later; a client that never synced has nothing
 * to render and joins at once.
 */
const FIRST_RENDER_GRACE_MS = 250;

export class Coordination {
  readonly core: CoreHandle;
  readonly events = new EventHub();
  readonly #state = new SyncState();
  #remote: LeaderState = EMPTY_LEADER_STATE;
  readonly #channel: ContextChannel;
  readonly #leadership: Leadership;
  readonly #auto: AutoSync;
  readonly #runner: SyncRunner;
  readonly #forwarding: LeaderForwarding;
  readonly storage = new StorageWatch();
  /** `latestSnapshot` calls of one tick are read in one transaction (`snapshot-batch.ts`). */
  readonly latest = new LatestSnapshotBatcher((work) => this.#exec(work));

  readonly #offPoison: () => void;
  /** The stored "last synced" time is loading (`loadLastSynced`); `status()` waits for it. */
  #lastSyncedLoaded: Promise<void> = Promise.resolve();
  /** Joining the election waits for first render (`FIRST_RENDER_GRACE_MS`) until this fires. */
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** A sync, pull, push or edit was asked for: join the election without waiting. */
  #hurried = false;

  constructor(options: SyncClientOptions, core: CoreHandle) {
    this.core = core;
    core.attach({
      superseded: (type, reason) => this.#end({ type, reason }),
      reopened: () => this.#reopened(),
      lost: (error) => this.#end({ type: "lost", error }),
      reachability: (reachable, detail) => this.#reachability(reachable, detail),
    });
    this.#offPoison = onPoison((error) => this.#end({ type: "trap", error }));
    this.#channel = new ContextChannel(core.databaseName, (m) => this.#onMessage(m));
    this.#runner = new SyncRunner(this.#state, {
      exec: (work) => this.#exec(work),
      changed: (kinds, cause) => this.#changed(kinds, cause),
      conflicts: (ids) => this.events.emit({ type: "conflict", conflictIds: ids }),
      progress: (progress) => this.events.emit({ type: "progress", progress }),
      error: (error) => this.events.emit({ type: "error", error }),
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
      active: () => !this.core.closedReason && this.#leadership.isLeader,
      prepare: () => this.#loadBudget(),
      networkChanged: () => this.#stateChanged(),
    });
    this.#leadership = new Leadership(core.databaseName, (leader) => this.#onLeadership(leader));
  }

  async status(): Promise<Status> {
    await this.#lastSyncedLoaded;
    const leader = this.#leadership.isLeader;
    let counts: OutboxCounts = { pending: 0, conflicts: 0, deadLetters: 0 };
    if (!this.core.closedReason && this.core.has("outboxCounts")) {
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
      storage: await this.storage.health(),
      internalErrors: internalErrorCount(),
      closed: this.core.closedReason !== null,
    });
  }

  /** Tells the other contexts of this database to close: this user logged out. */
  announceLogout(): void {
    this.#channel.post({ type: "logout", from: this.#channel.contextId });
  }

  /**
   * "Last synced" survives a reload: the stored time is loaded before anything can report
   * status (`status()` waits for it) and before this context joins the election (a leader
   * broadcasts it and keeps the later of it and its predecessor's), but `open` does not wait:
   * a first render's reads need neither (measured: the awaited read was ≈ 1.5 ms of a 3.4 ms
   * open, on the critical path of every first render). A client that has synced before joins
   * the election only `FIRST_RENDER_GRACE_MS` later, unless hurried (`#hurry`).
   */
  loadLastSynced(): void {
    this.#lastSyncedLoaded = loadLastSyncedAt((w) => this.#exec(w)).then((at) => {
      this.#state.lastSyncedAt = at;
      if (at === null || this.#hurried) this.#joinElection();
      else this.#graceTimer = setTimeout(() => this.#joinElection(), FIRST_RENDER_GRACE_MS);
    });
  }

  /** Joins the election now (once the stored "last synced" time is loaded). */
  #hurry(): void {
    this.#hurried = true;
    if (this.#graceTimer !== undefined) this.#joinElection();
  }

  #joinElection(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (!this.core.closedReason) this.#leadership.start();
  }

  #exec<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    return this.core.exec(work);
  }

  /** The client closes itself (see `endings.ts`): the app is told why, once. */
  #end(why: Ending): void {
    if (this.core.closedReason) return;
    const { events, reason } = ending(why);
    for (const event of events) this.events.emit(event);
    this.shutdown(reason);
  }

  /** The browser closed the connection and a fresh one is open: what was held may be gone. */
  #reopened(): void {
    this.events.emit({ type: "changed", kinds: [...ALL_KINDS], cause: "wipe", remote: false });
    if (this.#leadership.isLeader) this.#auto.restart();
    this.#emitStatus();
  }

  read<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    return this.#exec(work).catch((error: unknown) => {
      throw toSyncError(error);
    });
  }

  /** A read of one thing: the wasm side's `null` for "none" becomes `undefined` (API.md). */
  find<T>(work: (core: WasmCore) => Promise<unknown>): Promise<T | undefined> {
    return this.read(work).then(orUndefined) as Promise<T | undefined>;
  }

  /**
   * A local write (edit, command, resolution). On success the change is announced and the
   * leader woken; a full disk pauses automatic sync (leader) and is reported as an `error`.
   */
  async write<T>(
    kinds: Kind[] | ((result: T) => Kind[]),
    cause: ChangeCause,
    work: (core: WasmCore) => Promise<T>,
  ): Promise<T> {
    let result: T;
    try {
      result = await this.read(work);
    } catch (error) {
      const e = toSyncError(error);
      if (e.code === "quota_exceeded") {
        this.events.emit({ type: "error", error: e });
        if (this.#leadership.isLeader) this.#runner.storageFull(e);
      }
      throw e;
    }
    this.#editDone(typeof kinds === "function" ? kinds(result) : kinds, cause);
    return result;
  }

  request(method: RpcMethod, options: { fresh?: boolean } | undefined, onProgress?: (p: PullProgress) => void): Promise<RunResult> {
    const closed = this.core.closedReason;
    if (closed) return Promise.reject(new SyncError("closed", `this client is closed (${closed})`));
    this.#hurry();
    if (this.#leadership.isLeader) return this.#runner.run(method, options, onProgress);
    return this.#forwarding.forward(method, options, onProgress);
  }

  #onLeadership(leader: boolean): void {
    if (this.core.closedReason) return;
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
    if (this.core.closedReason) return;
    if (this.#forwarding.handle(m)) return;
    switch (m.type) {
      case "changed":
        this.events.emit({ type: "changed", kinds: m.kinds, cause: m.cause as ChangeCause, remote: true });
        return;
      case "sync-request":
        if (this.#leadership.isLeader) this.#auto.editMade();
        return;
      case "leader-status":
        if (!this.#leadership.isLeader && isLeaderState(m.state)) {
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
    this.events.emit({ type: "changed", kinds, cause, remote: false });
    this.#channel.post({ type: "changed", from: this.#channel.contextId, kinds, cause });
  }

  #editDone(kinds: Kind[], cause: ChangeCause): void {
    this.#hurry();
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
    if (this.events.size === 0 || this.core.closedReason) return;
    // A status that cannot be computed now (the client closing) is simply not emitted: no
    // listener should see an unhandled rejection for it.
    void this.status().then(
      (status) => this.events.emit({ type: "status", status }),
      () => {},
    );
  }

  shutdown(reason: string): void {
    if (!this.core.close(reason)) return;
    clearTimeout(this.#graceTimer);
    this.#offPoison();
    this.#auto.stop();
    this.#leadership.stop();
    this.#channel.close();
    this.#forwarding.rejectAll(reason);
  }
}
