// A Rust panic (a wasm trap in the release build) never reaches the app as a bare
// `RuntimeError: unreachable` or a promise that hangs: the call rejects with a `SyncError`
// `internal`, every client of that page closes (`closed` event, reason `internal`), opening a
// new one in the same page says to reload, another tab takes over and keeps working, and the
// reloaded page works again. The package ships no test hook (PROTOCOL §9.11): the consumer
// app's trap switch (tests/consumer/src/trap-switch.ts) makes the shipped module itself trap
// during `dashboards()` — in the call ("sync") or in the microtask polling its future ("async").
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  call,
  clientOptions,
  createTenant,
  eventually,
  must,
  openClient,
  openPage,
  startWorker,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

const SLOW = { cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 600_000 } };

/** A trap during `client.dashboards()`, with a deadline, so a hanging promise fails the test. */
async function panic(page, mode) {
  return page.evaluate(async (m) => {
    const deadline = new Promise((resolve) => setTimeout(() => resolve({ ok: "hung" }), 5_000));
    window.syncCore.armTrap(m);
    const attempt = window.client.dashboards().then(
      () => ({ ok: true }),
      (e) => ({
        ok: false,
        isSyncError: e instanceof window.syncCore.SyncError,
        name: e.name,
        code: e.code,
        retryable: e.retryable,
        message: e.message,
        causeIsTrap: e.cause instanceof WebAssembly.RuntimeError,
      }),
    );
    return Promise.race([attempt, deadline]);
  }, mode);
}

function assertInternal(r) {
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.isSyncError, true);
  assert.equal(r.name, "SyncError");
  assert.equal(r.code, "internal");
  assert.equal(r.retryable, false);
  assert.doesNotMatch(r.message, /unreachable/i);
  assert.match(r.message, /reload/);
  assert.equal(r.causeIsTrap, true);
}

for (const mode of ["async", "sync"]) {
  test(`a wasm panic (${mode}) becomes SyncError internal; the page's clients close, another tab takes over`, async () => {
    const tenant = await createTenant();
    const options = clientOptions(tenant, tenant.users[0], SLOW);
    const context = await env.browser.newContext();
    const a = await openPage(context, env.app.url);
    await openClient(a, options);
    await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "A synced on open");
    // A second client in the same page, on another user's database.
    await a.evaluate(async (o) => {
      const { token, ...rest } = o;
      window.other = await window.syncCore.SyncClient.open({ ...rest, autoSync: false, getToken: async () => token });
    }, clientOptions(tenant, tenant.users[1]));
    const b = await openPage(context, env.app.url);
    await openClient(b, options);
    assert.equal((await must(b, "status")).leader, false);

    assertInternal(await panic(a, mode));
    const events = await a.evaluate(() => window.events.filter((e) => e.type === "error" || e.type === "closed"));
    assert.deepEqual(events, [
      { type: "error", code: "internal" },
      { type: "closed", reason: "internal" },
    ]);
    const s = await must(a, "status");
    assert.equal(s.closed, true);
    assert.equal(s.internalErrors, 1);
    assert.equal((await call(a, "dashboards")).error.code, "closed");
    // The other client of the same page is closed too (same poisoned module)…
    const other = await a.evaluate(() => window.other.dashboards().then(() => "ok", (e) => e.code));
    assert.equal(other, "closed");
    // …and a new one cannot be opened in this page until it reloads.
    const reopen = await a.evaluate(async (o) => {
      const { token, ...rest } = o;
      return window.syncCore.SyncClient.open({ ...rest, getToken: async () => token }).then(
        () => ({ ok: true }),
        (e) => ({ ok: false, code: e.code, message: e.message }),
      );
    }, options);
    assert.equal(reopen.ok, false);
    assert.equal(reopen.code, "internal");
    assert.match(reopen.message, /reload/);

    // The other tab is unaffected and takes over.
    await eventually(async () => (await must(b, "status")).leader, 5_000, "B takes over");
    assert.equal((await must(b, "pull")).drained, true);

    // Nothing reached the console or the page's uncaught-error handlers.
    a.assertClean();
    // A reloaded page gets a fresh module that works.
    await a.reload();
    await a.waitForFunction(() => window.syncCore !== undefined);
    await openClient(a, options);
    assert.ok((await must(a, "dashboards")).length > 0);
    assert.equal((await must(a, "status")).internalErrors, 0);
    for (const p of [a, b]) p.assertClean();
    await context.close();
  });
}

test("a wasm panic in a dedicated worker: SyncError internal there, the page's client takes over", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], SLOW);
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  // The worker opens first, so it leads.
  const worker = await startWorker(page, options);
  await eventually(async () => (await worker("status")).value?.leader, 10_000, "the worker leads");
  await openClient(page, options);
  const r = await worker("trapDuringDashboards", "async");
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.error.name, "SyncError");
  assert.equal(r.error.code, "internal");
  assert.doesNotMatch(r.error.message, /unreachable/i);
  assert.equal((await worker("dashboards")).error.code, "closed");
  await eventually(async () => (await must(page, "status")).leader, 5_000, "the page takes over");
  assert.equal((await must(page, "pull")).drained, true);
  // The page saw no uncaught error from the worker.
  page.assertClean();
  await context.close();
});

test("a wasm panic while SyncClient.open runs rejects the open with internal, not a promise that hangs", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], SLOW);
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  // The module is loaded (and its trap switch installed) by a first client.
  await openClient(page, options);
  const r = await page.evaluate(async (o) => {
    const { token, ...rest } = o;
    const deadline = new Promise((resolve) => setTimeout(() => resolve({ ok: "hung" }), 5_000));
    // "async": the trap comes from the microtask polling `SyncCore.open`'s future, where an
    // engine panic during the schema upgrade or the database open would surface.
    window.syncCore.armTrap("async");
    const attempt = window.syncCore.SyncClient.open({ ...rest, autoSync: false, getToken: async () => token }).then(
      () => ({ ok: true }),
      (e) => ({ ok: false, code: e.code, message: e.message }),
    );
    return Promise.race([attempt, deadline]);
  }, options);
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.code, "internal");
  assert.match(r.message, /reload/);
  await context.close();
});
