/**
 * The live wasm `SyncCore` of one client and what keeps it usable.
 *
 * The bindings tell the handle at once when the IndexedDB connection is lost
 * (`onConnectionLost`, see `src/web/idb/connection.rs`; the Rust side has already closed it and
 * refuses every later call on it, so nothing is ever written to a dead handle):
 * - `upgrade` / `delete`: another context opened the database at a newer version (newer code:
 *   this one cannot open it any more) or deleted it. The client closes for good and tells the
 *   app (`superseded`): reopening would either fail or silently create an empty database.
 * - `close`: the browser dropped the connection (the site's storage was cleared, or the backing
 *   store failed). The handle reopens with bounded retries; calls made meanwhile wait for it.
 *   If every attempt fails the client closes (`lost`).
 *
 * Every call on the core goes through `exec`. A retryable `storage_unavailable` that still
 * slips through (the connection died between the event and the call) reopens once and
 * repeats the call — reads and edits are safe to repeat. A wasm trap (a Rust panic) poisons
 * the whole module, see `traps.ts`: the handle reports it and the client closes.
 */
import { SyncError, toSyncError } from "./errors.js";
import { coreOptions, type SyncClientOptions } from "./options.js";
import { raceTrap } from "./traps.js";
import { openCore, type WasmCore } from "./wasm.js";

export type LostKind = "upgrade" | "delete" | "close";

export interface CoreHandleHooks {
  /** The database was upgraded or deleted by another context: the client must close. */
  superseded(kind: "upgrade" | "delete", reason: string): void;
  /** The browser closed the connection and a fresh one is open (the data may be gone). */
  reopened(): void;
  /** Reopening failed for good: the client must close. */
  lost(error: SyncError): void;
  /** A request got a response (`true`) or none (network error, timeout: `false`). Called
   * from inside a wasm call: only note it, do not call back into the module synchronously. */
  reachability(reachable: boolean, detail: string): void;
}

/** Attempts to reopen after `close`, and the pause before each retry (doubling). */
export const REOPEN_ATTEMPTS = 5;
const REOPEN_FIRST_DELAY_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CoreHandle {
  #core!: WasmCore;
  #closed: string | null = null;
  #reopening: Promise<void> | undefined;
  #hooks: CoreHandleHooks | undefined;
  readonly #options: SyncClientOptions;

  private constructor(options: SyncClientOptions) {
    this.#options = options;
  }

  /** Opens the first core of a client. */
  static async open(options: SyncClientOptions): Promise<CoreHandle> {
    const handle = new CoreHandle(options);
    handle.#core = await handle.#openCore();
    return handle;
  }

  /** Where connection events go (set once the client exists). */
  attach(hooks: CoreHandleHooks): void {
    this.#hooks = hooks;
  }

  get databaseName(): string {
    return this.#core.databaseName;
  }

  /** Why this handle was closed (`close`, `logout`, `internal`, …), or null while open. */
  get closedReason(): string | null {
    return this.#closed;
  }

  /** Whether the loaded bindings export `method` (older builds lack the outbox ones). */
  has(method: keyof WasmCore): boolean {
    return typeof this.#core[method] === "function";
  }

  assertOpen(): void {
    if (this.#closed) {
      throw new SyncError("closed", `this client is closed (${this.#closed})`);
    }
  }

  /** Runs `work` on the core; a dead connection is reopened once and the call repeated. */
  async exec<T>(work: (core: WasmCore) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.#reopening) await this.#reopening;
    try {
      return await raceTrap(() => work(this.#core));
    } catch (error) {
      const e = toSyncError(error);
      if (e.code !== "storage_unavailable" || this.#closed) throw e;
      await this.#reopen(1);
      return await raceTrap(() => work(this.#core));
    }
  }

  /** Closes the connection for good; false when it already was. */
  close(reason: string): boolean {
    if (this.#closed) return false;
    this.#closed = reason;
    try {
      this.#core.close();
    } catch {
      // A core poisoned by a trap cannot even close; the page must reload anyway.
    }
    return true;
  }

  /** A new core; raced against a trap like every call (an engine panic while the database
   * opens or upgrades would otherwise leave `open`, or every call waiting on a reopen, pending). */
  #openCore(): Promise<WasmCore> {
    return raceTrap(() =>
      openCore({
        ...coreOptions(this.#options),
        onConnectionLost: (kind: LostKind, reason: string) => this.#lost(kind, reason),
        onReachability: (reachable: boolean, detail: string) => this.#hooks?.reachability(reachable, detail),
      }),
    );
  }

  #lost(kind: LostKind, reason: string): void {
    if (this.#closed) return;
    if (kind === "close") {
      this.#reopen(REOPEN_ATTEMPTS).then(
        () => this.#hooks?.reopened(),
        (error: unknown) => {
          if (!this.#closed) this.#hooks?.lost(toSyncError(error));
        },
      );
    } else {
      this.#hooks?.superseded(kind, reason);
    }
  }

  /** Replaces the core with a fresh one, trying up to `attempts` times; shared by callers. */
  #reopen(attempts: number): Promise<void> {
    this.#reopening ??= this.#reopenNow(attempts).finally(() => {
      this.#reopening = undefined;
    });
    return this.#reopening;
  }

  async #reopenNow(attempts: number): Promise<void> {
    let last: SyncError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) await sleep(REOPEN_FIRST_DELAY_MS * 2 ** (attempt - 2));
      this.assertOpen();
      try {
        const fresh = await this.#openCore();
        if (this.#closed) {
          fresh.close();
          this.assertOpen();
        }
        const old = this.#core;
        this.#core = fresh;
        old.close();
        return;
      } catch (error) {
        last = toSyncError(error);
        if (last.code === "closed" || last.code === "internal") throw last;
      }
    }
    throw new SyncError(
      "storage_unavailable",
      `IndexedDB could not be reopened after ${attempts} attempt(s): ${last?.message ?? "unknown error"}`,
      true,
    );
  }
}
