/**
 * The two waits the server can impose on the leader, kept in `SyncState`:
 *
 * - **Retry-After** (PROTOCOL §9.5) is binding on every path: after a `rate_limited` failure
 *   carrying `retryAfterMs`, no request leaves before that time — automatic syncs are held
 *   (`triggers.ts`) and an explicit call rejects at once with `rate_limited` without sending
 *   anything. There is no cap below the server's figure.
 * - **push_rejected** (§9.3): the server answered a push in a way the contract does not name;
 *   the ops stay queued and pushing pauses. Automatic syncs only pull until a capped backoff
 *   elapses (30 s doubling, at most 30 min) or the app calls `sync()`/`push()` explicitly.
 */
import { SyncError } from "./errors.js";
import type { SyncState } from "./status.js";

const PUSH_REJECTED_FIRST_MS = 30_000;
const PUSH_REJECTED_CAP_MS = 30 * 60_000;

/** A failure as the runner sees it (a thrown `SyncError` or a report's `pushError`). */
export interface Failure {
  code: string;
  retryAfterMs?: number | undefined;
}

/** The `rate_limited` rejection of a call made before `retryAt`, or null when it may run. */
export function heldByRetryAfter(state: SyncState, now = Date.now()): SyncError | null {
  const waitMs = state.retryAtMs - now;
  if (waitMs <= 0) return null;
  return new SyncError(
    "rate_limited",
    `the server asked to wait until ${new Date(state.retryAtMs).toISOString()} (Retry-After); nothing was sent`,
    true,
    { retryAfterMs: waitMs },
  );
}

/** Notes what a failure imposes: a Retry-After deadline, or a push pause. */
export function noteFailure(state: SyncState, failure: Failure, now = Date.now()): void {
  if (failure.code === "rate_limited" && typeof failure.retryAfterMs === "number" && failure.retryAfterMs > 0) {
    state.retryAtMs = Math.max(state.retryAtMs, now + failure.retryAfterMs);
  }
  if (failure.code === "push_rejected") {
    state.pushRejections += 1;
    const backoff = PUSH_REJECTED_FIRST_MS * 2 ** Math.min(state.pushRejections - 1, 16);
    state.pushRejectedUntilMs = now + Math.min(backoff, PUSH_REJECTED_CAP_MS);
  }
}

/** A push completed: pushing is not paused any more. */
export function notePushDone(state: SyncState): void {
  state.pushRejections = 0;
  state.pushRejectedUntilMs = 0;
}

/** An explicit `sync()`/`push()` resumes a paused push (it runs; a new refusal pauses again). */
export function resumePushing(state: SyncState): void {
  state.pushRejectedUntilMs = 0;
}

/** Whether an automatic sync should only pull now. */
export function pushHeld(state: SyncState, now = Date.now()): boolean {
  return state.pushRejectedUntilMs > now;
}
