/**
 * Runs the leader's sync calls one at a time and keeps the bookkeeping of each: bytes
 * against the budgets, `lastSyncedAt`, the last error, pauses (a full disk or revoked access
 * stop automatic attempts until an explicit call succeeds), and the events the app and the
 * other contexts need (`changed` kinds, new conflicts, progress, errors).
 */
import { errorDetails, SyncError, syncErrorCode, toSyncError } from "./errors.js";
import { heldByRetryAfter, noteFailure, notePushDone, resumePushing } from "./pauses.js";
import type { RpcMethod } from "./channel.js";
import type { SyncState } from "./status.js";
import type { Kind, PullProgress, PullReport, PushReport, SyncReport } from "./types.js";
import type { WasmCore } from "./wasm.js";

export interface RunnerHooks {
  /** Runs `work` on the live core (reopening a dead connection once). */
  exec<T>(work: (core: WasmCore) => Promise<T>): Promise<T>;
  changed(kinds: Kind[], cause: "pull" | "push" | "sync"): void;
  conflicts(ids: string[]): void;
  progress(progress: PullProgress): void;
  error(error: SyncError): void;
  stateChanged(): void;
  /** Bytes were recorded: persist the budget (best effort). */
  budgetChanged(): void;
  /** A pull drained: persist `lastSyncedAt` (best effort). */
  syncedAtChanged(at: string): void;
}

export type RunResult = PullReport | PushReport | SyncReport;

function isPullProgress(value: unknown): value is PullProgress {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PullProgress).pages === "number" &&
    typeof (value as PullProgress).itemsApplied === "number"
  );
}

export class SyncRunner {
  #queue: Promise<unknown> = Promise.resolve();
  readonly #state: SyncState;
  readonly #hooks: RunnerHooks;

  constructor(state: SyncState, hooks: RunnerHooks) {
    this.#state = state;
    this.#hooks = hooks;
  }

  /** Makes later calls wait until `ready` settles (a new leader loading its state). */
  after(ready: Promise<void>): void {
    this.#queue = this.#queue.then(() => ready).catch(() => undefined);
  }

  /**
   * Queues one call behind any running one (one sync at a time per leader). `automatic`:
   * started by a trigger, not by the app (only an explicit `sync`/`push` resumes a push
   * paused by `push_rejected`).
   */
  run(
    method: RpcMethod,
    options: { fresh?: boolean } | undefined,
    onProgress?: (progress: PullProgress) => void,
    automatic = false,
  ): Promise<RunResult> {
    const next = this.#queue.then(() => this.#runNow(method, options, onProgress, automatic));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #runNow(
    method: RpcMethod,
    options: { fresh?: boolean } | undefined,
    onProgress?: (progress: PullProgress) => void,
    automatic = false,
  ): Promise<RunResult> {
    const state = this.#state;
    // PROTOCOL §9.5: nothing leaves before Retry-After, whoever asks.
    const held = heldByRetryAfter(state);
    if (held) throw held;
    if (!automatic && method !== "pull") resumePushing(state);
    state.syncing = true;
    this.#hooks.stateChanged();
    const progress = (p: unknown): void => {
      if (!isPullProgress(p)) return;
      this.#hooks.progress(p);
      try {
        onProgress?.(p);
      } catch {
        // A throwing progress callback must not stop the pull.
      }
    };
    try {
      if (method === "sync" && state.budget.coldStartActive) {
        // The wasm `sync` reports no per-page progress; a cold start pulls page by page
        // first so the app can show a progress bar, then syncs the (short) rest.
        const first = (await this.#hooks.exec((core) => call(core, "pull", undefined, progress))) as PullReport;
        this.#record("pull", first);
      }
      const result = await this.#hooks.exec((core) => call(core, method, options, progress));
      this.#record(method, result);
      const pushError = method === "sync" ? (result as SyncReport).pushError : null;
      state.lastError = pushError
        ? { code: pushError.code, message: pushError.message, retryable: pushError.retryable, at: new Date().toISOString() }
        : null;
      if (pushError) {
        noteFailure(state, pushError);
        this.#hooks.error(new SyncError(syncErrorCode(pushError.code), pushError.message, pushError.retryable, errorDetails(pushError)));
      }
      state.paused = null;
      return result;
    } catch (error) {
      const e = toSyncError(error);
      state.lastError = {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        at: new Date().toISOString(),
      };
      noteFailure(state, e);
      if (e.code === "forbidden") {
        state.accessRevoked = true;
        state.paused = "forbidden";
        // PROTOCOL §9.2: a 403 on push triggers a pull, which applies whatever the server
        // says there (wipes, or access back). Queued behind this call; a pull's own 403 does
        // not trigger another.
        if (method === "push") void this.run("pull", undefined, undefined, true).catch(() => undefined);
      } else if (e.code === "quota_exceeded") {
        state.paused = "quota_exceeded";
      }
      this.#hooks.error(e);
      throw e;
    } finally {
      state.syncing = false;
      this.#hooks.stateChanged();
    }
  }

  /** A local write hit the quota: note it and pause automatic sync like a failed pull. */
  storageFull(error: SyncError): void {
    this.#state.lastError = {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      at: new Date().toISOString(),
    };
    this.#state.paused = "quota_exceeded";
    this.#hooks.stateChanged();
  }

  #record(method: RpcMethod, result: RunResult): void {
    const pull = method === "pull" ? (result as PullReport) : method === "sync" ? (result as SyncReport).pull : undefined;
    const push = method === "push" ? (result as PushReport) : method === "sync" ? (result as SyncReport).push : undefined;
    const kinds = new Set<Kind>();
    if (pull) {
      this.#state.budget.record(pull.bytesPulled, pull.drained);
      this.#hooks.budgetChanged();
      this.#state.accessRevoked = false;
      if (pull.drained) {
        this.#state.lastSyncedAt = new Date().toISOString();
        this.#hooks.syncedAtChanged(this.#state.lastSyncedAt);
      }
      for (const kind of pull.changedKinds) kinds.add(kind);
    }
    if (push) {
      notePushDone(this.#state);
      for (const kind of push.changedKinds) kinds.add(kind);
      if (push.newConflicts.length > 0) this.#hooks.conflicts(push.newConflicts);
    }
    if (kinds.size > 0) this.#hooks.changed([...kinds], method);
  }
}

/** One wasm call; a build without push bindings pulls for `sync` and says push is null.
 * (The wasm `sync` reports no per-page progress; `pull` does.) */
async function call(
  core: WasmCore,
  method: RpcMethod,
  options: { fresh?: boolean } | undefined,
  progress: (p: unknown) => void,
): Promise<RunResult> {
  switch (method) {
    case "pull":
      return (await core.pull(options ?? {}, progress)) as PullReport;
    case "push":
      if (!core.push) throw new SyncError("not_supported", "this build of sync-core cannot push");
      return (await core.push()) as PushReport;
    case "sync":
      if (core.sync) return (await core.sync()) as SyncReport;
      return { push: null, pushError: null, pull: (await core.pull(options ?? {}, progress)) as PullReport };
  }
}
