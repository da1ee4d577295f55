/**
 * The leader's automatic syncs: connects the triggers (`triggers.ts`: open, online, visible,
 * debounced edit, cadence, retry) to the runner (`runner.ts`) while this context leads, and
 * feeds each outcome back to the triggers to pick the next attempt. A pause (full disk,
 * revoked access) lets only the cadence and `online` try again, so a paused client never spins.
 */
import type { SyncError } from "./errors.js";
import { pushHeld } from "./pauses.js";
import type { SyncRunner } from "./runner.js";
import type { SyncState } from "./status.js";
import { SyncTriggers, type CadenceOptions, type TriggerReason } from "./triggers.js";

export interface AutoSyncHooks {
  /** Whether this context may sync now (open and the leader). */
  active(): boolean;
  /** Loads what a new leader needs before syncing: the stored byte budget and whether the
   * database is empty (then the first drain is a cold start). Never rejects. */
  prepare(): Promise<void>;
  /** Online/offline flipped: the status changed. */
  networkChanged(): void;
}

export class AutoSync {
  readonly #enabled: boolean;
  readonly #state: SyncState;
  readonly #runner: SyncRunner;
  readonly #hooks: AutoSyncHooks;
  readonly #triggers: SyncTriggers;

  constructor(
    options: { autoSync?: boolean; cadence?: CadenceOptions },
    state: SyncState,
    runner: SyncRunner,
    hooks: AutoSyncHooks,
  ) {
    this.#enabled = options.autoSync !== false;
    this.#state = state;
    this.#runner = runner;
    this.#hooks = hooks;
    this.#triggers = new SyncTriggers(
      options.cadence ?? {},
      (reason) => this.#fire(reason),
      () => hooks.networkChanged(),
    );
  }

  /** Whether the triggers last saw the network up. */
  get online(): boolean {
    return this.#triggers.online;
  }

  /** This context became the leader: note a cold start, then sync on open and listen. */
  becameLeader(): void {
    const ready = this.#hooks.prepare();
    // Syncs (explicit ones too) wait for it: a pull recorded before the stored budget is
    // loaded would be overwritten by it.
    this.#runner.after(ready);
    void ready.then(() => {
      if (this.#enabled) this.#triggers.start();
    });
  }

  /** The database was emptied under us (storage cleared): note a new cold start, sync now. */
  restart(): void {
    const ready = this.#hooks.prepare();
    // Syncs (explicit ones too) wait for it: a pull recorded before the stored budget is
    // loaded would be overwritten by it.
    this.#runner.after(ready);
    void ready.then(() => {
      if (this.#enabled) this.#triggers.fire("open");
    });
  }

  /** Leadership was lost or the client closes: no more automatic attempts here. */
  stop(): void {
    this.#triggers.stop();
  }

  /** A local edit here or in a follower: push it soon (debounced). */
  editMade(): void {
    this.#triggers.editMade();
  }

  #fire(reason: TriggerReason): void {
    if (!this.#hooks.active() || !this.#enabled) return;
    if (this.#state.paused && reason !== "cadence" && reason !== "online") {
      // Not now, but keep the cadence: it is what tries again once the cause is gone.
      this.#triggers.settled(false, false);
      return;
    }
    // Retry-After holds every trigger (PROTOCOL §9.5); a push paused by `push_rejected`
    // leaves automatic syncs pulling only until its backoff ends (`pauses.ts`).
    this.#triggers.holdUntil(this.#state.retryAtMs);
    if (this.#state.retryAtMs > Date.now()) {
      // Held (e.g. after an explicit call met a 429): try again at Retry-After, not before.
      this.#triggers.settled(false, true);
      return;
    }
    const method = pushHeld(this.#state) ? "pull" : "sync";
    this.#runner.run(method, undefined, undefined, true).then(
      () => {
        this.#triggers.holdUntil(this.#state.retryAtMs);
        this.#triggers.settled(true, false);
      },
      (e: SyncError) => {
        this.#triggers.holdUntil(this.#state.retryAtMs);
        this.#triggers.settled(false, e.retryable);
      },
    );
  }
}
