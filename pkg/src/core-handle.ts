/**
 * The live wasm `SyncCore` of one client and what keeps it usable.
 *
 * Every call on the core goes through `exec`: a connection the browser closed (storage cleared,
 * a newer tab) surfaces as a retryable `storage_unavailable`, so the handle opens a fresh core
 * and repeats the call once — reads and edits are safe to repeat. A wasm trap (a Rust panic)
 * leaves the instance unusable, so it is handed to `onTrap`, which shuts the client down.
 * Once closed, every call rejects with `closed` and nothing touches the old connection again.
 */
import { isWasmTrap, SyncError, toSyncError } from "./errors.js";
import { coreOptions, type SyncClientOptions } from "./options.js";
import { openCore, type WasmCore } from "./wasm.js";

export class CoreHandle {
  #core: WasmCore;
  #closed: string | null = null;
  readonly #options: SyncClientOptions;
  readonly #onTrap: (error: SyncError) => void;

  constructor(options: SyncClientOptions, core: WasmCore, onTrap: (error: SyncError) => void) {
    this.#options = options;
    this.#core = core;
    this.#onTrap = onTrap;
  }

  /** Why this handle was closed (`close`, `logout`, `internal`), or null while open. */
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
    try {
      return await work(this.#core);
    } catch (error) {
      const e = toSyncError(error);
      if (isWasmTrap(error)) {
        this.#onTrap(e);
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
}
