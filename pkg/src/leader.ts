/**
 * Which context syncs a database. Exactly one context per database holds an exclusive Web
 * Lock named after the database for as long as it lives; the browser releases it when that
 * tab or worker closes or crashes, and the next waiting context is granted it at once — that
 * is the takeover, with no heartbeat or timeout of our own to tune.
 *
 * Written in TypeScript rather than Rust (`src/web/`): the lock callback must return a promise
 * that stays pending for the context's life and must call back into the client on grant; doing
 * that across the wasm boundary would mean calling JS from Rust while the core may be borrowed
 * (the loro-wasm rule in ARCHITECTURE.md), for no gain — no sync logic lives here.
 */

export type LeadershipListener = (leader: boolean) => void;

interface LockManagerLike {
  request(
    name: string,
    options: { mode: "exclusive"; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/** Whether this browser has Web Locks; without them every context acts as its own leader. */
export function hasWebLocks(): boolean {
  return lockManager() !== undefined;
}

export class Leadership {
  #leader = false;
  #started = false;
  #release: (() => void) | undefined;
  #abort = new AbortController();
  readonly #name: string;
  readonly #onChange: LeadershipListener;

  constructor(databaseName: string, onChange: LeadershipListener) {
    this.#name = `sync-core:leader:${databaseName}`;
    this.#onChange = onChange;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Queues for the lock (once; later calls do nothing); `onChange(true)` runs when it is granted. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const locks = lockManager();
    if (!locks) {
      this.#grant();
      return;
    }
    locks
      .request(this.#name, { mode: "exclusive", signal: this.#abort.signal }, () => {
        if (this.#abort.signal.aborted) return Promise.resolve();
        const held = new Promise<void>((resolve) => {
          this.#release = resolve;
        });
        this.#grant();
        return held;
      })
      .catch(() => {
        // AbortError after stop(): nothing was held.
      });
  }

  #grant(): void {
    this.#leader = true;
    this.#onChange(true);
  }

  /** Gives the lock up (or leaves the queue) so another context takes over. */
  stop(): void {
    this.#abort.abort();
    const wasLeader = this.#leader;
    this.#leader = false;
    this.#release?.();
    this.#release = undefined;
    if (wasLeader) this.#onChange(false);
  }
}
