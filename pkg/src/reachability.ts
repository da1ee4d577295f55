/**
 * Whether the sync server answers, as the fetch transport reports it from inside a run
 * (`onReachability` of the bindings): the engine retries a network error or a timeout quietly
 * for minutes with the defaults, and until now `status()` said `online: true, syncing: true`
 * all that time. The first request without a response makes status say `online: false` with a
 * `lastError` (code `offline`); the first response clears it (PROTOCOL rule 11: status never
 * lies).
 */
import type { SyncState } from "./status.js";

/** Notes one report; true when what status shows changed. */
export function noteReachability(state: SyncState, reachable: boolean, detail: string): boolean {
  if (reachable) {
    if (state.reachable) return false;
    state.reachable = true;
    return true;
  }
  state.reachable = false;
  state.lastError = {
    code: "offline",
    message: `the sync server did not answer (${detail}); retrying`,
    retryable: true,
    at: new Date().toISOString(),
  };
  return true;
}
