// The packed tarball, installed in a separate Vite project, loads its wasm by itself and
// renders dashboards pulled from the reference server, in a window and in a dedicated worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  call,
  clientOptions,
  createTenant,
  must,
  openPage,
  startWorker,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

test("the consumer page renders dashboards from a pull on open", async () => {
  const tenant = await createTenant();
  const alice = tenant.users[0];
  const context = await env.browser.newContext();
  const params = new URLSearchParams({
    baseUrl: clientOptions(tenant).baseUrl,
    tenantId: tenant.tenantId,
    userId: alice.userId,
    token: alice.token,
  });
  const page = await openPage(context, `${env.app.url}?${params}`);
  await page.waitForFunction(() => /^rendered [1-9]/.test(document.getElementById("state")?.textContent ?? ""), null, {
    timeout: 20_000,
  });
  const shown = await page.locator("#dashboards li").count();
  const held = await page.evaluate(() => window.syncCore.client.dashboards().then((d) => d.length));
  assert.equal(shown, held);
  assert.ok(shown > 0);
  // The sync on open came from the package itself (autoSync), not from the page.
  const status = await page.evaluate(() => window.syncCore.client.status());
  assert.equal(status.leader, true);
  assert.ok(status.lastSyncedAt, "lastSyncedAt set after the first drained pull");
  assert.ok(status.bytesPulled.session > 0);
  // The cold start is the first drain; the sync right after it adds a little to `session`.
  assert.ok(status.bytesPulled.coldStart > 0 && status.bytesPulled.coldStart <= status.bytesPulled.session);
  assert.ok(status.bytesPulled.coldStart <= status.bytesPulled.coldStartBudget);
  page.assertClean();
  await context.close();
});

test("the package loads and pulls in a dedicated worker", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  const worker = await startWorker(page, clientOptions(tenant, tenant.users[0], { autoSync: false }));
  const report = await worker("pull");
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.value.drained, true);
  const dashboards = await worker("dashboards");
  assert.ok(dashboards.value.length > 0);
  const bad = await worker("widgets", 42);
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, "bad_request");
  // First render's reads run in the worker too (the wrapper reads IndexedDB itself there).
  let latest = 0;
  for (const d of dashboards.value) {
    const widgets = await worker("widgets", d.id);
    assert.equal(widgets.ok, true, JSON.stringify(widgets.error));
    for (const w of widgets.value) {
      assert.equal(w.dashboardId, d.id);
      const newest = await worker("latestSnapshot", w.id);
      const all = await worker("snapshots", w.id);
      assert.deepEqual(newest.value, all.value[0], w.id);
      if (newest.value !== undefined) latest += 1;
    }
  }
  assert.ok(latest > 0, "some widget has a snapshot");
  assert.deepEqual((await worker("widgets", "dsh_missing")).value, []);
  assert.equal((await worker("latestSnapshot", "wid_missing")).value, undefined);
  await worker("close");
  assert.equal((await worker("latestSnapshot", "wid_missing")).error?.code, "closed");
  assert.equal((await worker("widgets", "dsh_missing")).error?.code, "closed");
  page.assertClean();
  await context.close();
});

test("a wrong token rejects with a SyncError, never a bare value", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/status of 401/]);
  const { openClient } = await import("./harness.mjs");
  await openClient(page, clientOptions(tenant, { ...tenant.users[0], token: "tok_wrong" }, { autoSync: false }));
  const r = await call(page, "pull");
  assert.equal(r.ok, false);
  assert.deepEqual(
    { isSyncError: r.error.isSyncError, name: r.error.name, code: r.error.code, retryable: r.error.retryable },
    { isSyncError: true, name: "SyncError", code: "unauthorized", retryable: false },
  );
  assert.ok(r.error.message.length > 0);
  const status = await must(page, "status");
  assert.equal(status.lastError.code, "unauthorized");
  page.assertClean();
  await context.close();
});
