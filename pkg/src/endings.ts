/**
 * The ways a client closes itself (never by the app's `close()`), and what the app is told
 * for each, in order, before every later call rejects with `closed` carrying the reason:
 * - `logout`: another context logged out this user — the data is gone (`changed` wipe);
 * - `trap`: the wasm module trapped (a bug, see `traps.ts`) — reload the page or worker;
 * - `upgrade` / `delete`: another context opened the database at a newer version or deleted
 *   it (`versionchange`, see `core-handle.ts`) — reload;
 * - `lost`: IndexedDB could not be reopened after the browser closed the connection.
 */
import { SyncError } from "./errors.js";
import type { SyncEvent } from "./events.js";
import { ALL_KINDS } from "./types.js";

export type Ending =
  | { type: "logout" }
  | { type: "trap"; error: SyncError }
  | { type: "upgrade"; reason: string }
  | { type: "delete"; reason: string }
  | { type: "lost"; error: SyncError };

const RELOAD = "reload the page or worker";

/** The events to emit and the reason later `closed` errors quote. */
export function ending(e: Ending): { events: SyncEvent[]; reason: string } {
  const wipe: SyncEvent = { type: "changed", kinds: [...ALL_KINDS], cause: "wipe", remote: true };
  switch (e.type) {
    case "logout":
      return { events: [wipe, { type: "closed", reason: "logout" }], reason: "logout" };
    case "trap":
      return {
        events: [
          { type: "error", error: e.error },
          { type: "closed", reason: "internal" },
        ],
        reason: `internal: ${RELOAD}`,
      };
    case "upgrade":
      return {
        events: [
          { type: "error", error: new SyncError("closed", `${e.reason}; ${RELOAD} to continue`, false) },
          { type: "closed", reason: "versionchange" },
        ],
        reason: `versionchange: ${e.reason}; ${RELOAD}`,
      };
    case "delete":
      return {
        events: [wipe, { type: "closed", reason: "versionchange" }],
        reason: `versionchange: ${e.reason}; ${RELOAD}`,
      };
    case "lost":
      return {
        events: [
          { type: "error", error: e.error },
          { type: "closed", reason: "storage_unavailable" },
        ],
        reason: `storage_unavailable: ${e.error.message}`,
      };
  }
}
