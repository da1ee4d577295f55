// The wrapper's pause rules as plain functions, on the package's compiled JS (pkg/dist, built
// by `make pkg`) in node: no server answers `push_rejected` yet (the engine error is being
// added on main), so its pause is checked here, with Retry-After holding the triggers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { heldByRetryAfter, noteFailure, notePushDone, pushHeld, resumePushing } from "../../pkg/dist/pauses.js";
import { SyncState } from "../../pkg/dist/status.js";
import { SyncTriggers } from "../../pkg/dist/triggers.js";

test("push_rejected pauses pushing with a capped doubling backoff; an explicit push or a completed push resumes", () => {
  const state = new SyncState();
  const now = 1_000_000;
  noteFailure(state, { code: "push_rejected" }, now);
  assert.equal(pushHeld(state, now + 29_999), true);
  assert.equal(pushHeld(state, now + 30_000), false);
  assert.equal(state.toLeaderState().pushPaused, "push_rejected");
  for (let i = 0; i < 20; i += 1) noteFailure(state, { code: "push_rejected" }, now);
  assert.equal(state.pushRejectedUntilMs, now + 30 * 60_000, "capped at 30 min");
  resumePushing(state);
  assert.equal(pushHeld(state, now), false);
  notePushDone(state);
  assert.equal(state.pushRejections, 0);
  assert.equal(state.toLeaderState().pushPaused, null);
  state.accessRevoked = true;
  assert.equal(state.toLeaderState().pushPaused, "access_revoked");
});

test("Retry-After: a call before retryAt is refused with rate_limited and the time left; no cap", () => {
  const state = new SyncState();
  const now = Date.now();
  assert.equal(heldByRetryAfter(state, now), null);
  noteFailure(state, { code: "rate_limited", retryAfterMs: 2 * 3_600_000 }, now);
  const held = heldByRetryAfter(state, now + 1_000);
  assert.deepEqual([held.code, held.retryable, held.retryAfterMs], ["rate_limited", true, 2 * 3_600_000 - 1_000]);
  assert.equal(Date.parse(state.toLeaderState().retryAt), now + 2 * 3_600_000);
  // A shorter later wait does not shorten it.
  noteFailure(state, { code: "rate_limited", retryAfterMs: 1_000 }, now);
  assert.equal(state.retryAtMs, now + 2 * 3_600_000);
});

test("triggers fire nothing before holdUntil, then fire once it passes", async () => {
  const fired = [];
  const triggers = new SyncTriggers({ foregroundMs: 20, backgroundMs: 20, editDebounceMs: 5 }, (r) => fired.push([r, Date.now()]), () => {});
  const until = Date.now() + 300;
  triggers.holdUntil(until);
  triggers.start(); // "open"
  triggers.fire("online");
  triggers.editMade();
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(fired, [], "nothing before the hold ends");
  await new Promise((r) => setTimeout(r, 200));
  triggers.stop();
  assert.ok(fired.length >= 1, "it fires after the hold");
  assert.ok(fired.every(([, at]) => at >= until - 5), JSON.stringify(fired));
});
