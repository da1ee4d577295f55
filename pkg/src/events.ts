/**
 * Events the client delivers to `subscribe` listeners. They are emitted after the wasm call
 * that caused them has returned (never from inside Rust), and a listener that throws does not
 * stop the others or the sync: its error is rethrown on a fresh task so it shows in the
 * console as the app's bug.
 */
import type { SyncError } from "./errors.js";
import type { Status } from "./status.js";
import type { Kind, PullProgress } from "./types.js";

/** What made local data change. */
export type ChangeCause = "pull" | "push" | "sync" | "edit" | "resolve" | "wipe";

export type SyncEvent =
  | { type: "status"; status: Status }
  /** `remote` is true when another tab or worker made the change. */
  | { type: "changed"; kinds: Kind[]; cause: ChangeCause; remote: boolean }
  | { type: "conflict"; conflictIds: string[] }
  | { type: "error"; error: SyncError }
  | { type: "progress"; progress: PullProgress }
  /**
   * The client closed itself: another context logged out (`logout`), a wasm trap made the
   * module unusable (`internal`, reload), another context upgraded or deleted the database
   * (`versionchange`, reload), or IndexedDB could not be reopened (`storage_unavailable`).
   */
  | { type: "closed"; reason: ClosedReason };

export type ClosedReason = "logout" | "internal" | "versionchange" | "storage_unavailable";

export type SyncListener = (event: SyncEvent) => void;

export class EventHub {
  readonly #listeners = new Set<SyncListener>();

  subscribe(listener: SyncListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get size(): number {
    return this.#listeners.size;
  }

  emit(event: SyncEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
