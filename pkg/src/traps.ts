/**
 * Wasm traps. A Rust panic in the release build aborts, which is a WebAssembly trap: a
 * `WebAssembly.RuntimeError` ("unreachable"). After one, the module's memory may be half
 * updated (a borrow never released, the async task queue stuck), so nothing in this JS realm
 * (page or worker) may use it again — and a fresh instance cannot be made without reloading:
 * the generated glue keeps one module per realm.
 *
 * A trap reaches us two ways: thrown by a call that panicked synchronously, or — far more
 * likely, since nearly every method is async — thrown from the microtask that polled the Rust
 * future, where it is an uncaught exception and the call's promise never settles. So this
 * module listens for uncaught traps on the global scope, and every call on the core races
 * against "the module trapped": the app always gets a `SyncError` with code `internal`,
 * never a bare `RuntimeError: unreachable` and never a promise that hangs. Every client of
 * the realm then closes itself (`closed` event, reason `internal`); `SyncClient.open` in the
 * same realm rejects with `internal` until the page or worker is reloaded. Other tabs and
 * workers are unaffected (one of them takes over leadership).
 */
import { isWasmTrap, SyncError, toSyncError } from "./errors.js";

let poisoned: SyncError | null = null;
const listeners = new Set<(error: SyncError) => void>();
let watching = false;

/** The error of the trap that poisoned this realm's module, or null. */
export function poisonError(): SyncError | null {
  return poisoned;
}

/** Calls `listener` once when the module traps; returns the unsubscribe function. */
export function onPoison(listener: (error: SyncError) => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Records a trap (the first one poisons the realm and tells every listener). */
export function noteTrap(trap: unknown): SyncError {
  const error = toSyncError(trap);
  if (poisoned) return error;
  poisoned = error;
  for (const listener of [...listeners]) {
    try {
      listener(error);
    } catch {
      // A client that fails to close itself is closed anyway: its calls see `poisoned`.
    }
  }
  listeners.clear();
  return error;
}

/** Catches traps that escape as uncaught exceptions (async Rust) on this realm's global. */
export function watchUncaughtTraps(): void {
  if (watching) return;
  const scope = globalThis as { addEventListener?: typeof addEventListener };
  if (typeof scope.addEventListener !== "function") return;
  watching = true;
  scope.addEventListener("error", (event: Event) => {
    const error = (event as ErrorEvent).error;
    if (!isWasmTrap(error)) return;
    // Reported to the app as a SyncError instead (an `error` event of every client).
    event.preventDefault();
    noteTrap(error);
  });
  scope.addEventListener("unhandledrejection", (event: Event) => {
    const reason = (event as PromiseRejectionEvent).reason;
    if (!isWasmTrap(reason)) return;
    event.preventDefault();
    noteTrap(reason);
  });
}

/** Runs `work`, rejecting with the `internal` SyncError if the module traps meanwhile. */
export function raceTrap<T>(work: () => Promise<T>): Promise<T> {
  if (poisoned) return Promise.reject(poisoned);
  let result: Promise<T>;
  try {
    result = work();
  } catch (error) {
    return Promise.reject(isWasmTrap(error) ? noteTrap(error) : error);
  }
  return new Promise<T>((resolve, reject) => {
    const off = onPoison(reject);
    result.then(
      (value) => {
        off();
        resolve(value);
      },
      (error: unknown) => {
        off();
        reject(isWasmTrap(error) ? noteTrap(error) : error);
      },
    );
  });
}
