// Rule 11, status never lies: a server that stops answering shows as `online: false` with a
// `lastError` at once (not `syncing: true` for minutes); `lastSyncedAt` survives a reload; a
// cold start's bytes do not count against the hourly delta budget; byte figures say their unit.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  admin,
  clientOptions,
  createTenant,
  eventually,
  must,
  openClient,
  openLeaderAndFollower,
  openPage,
  SERVER_URL,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

/** Starts `client.sync()` in the page without waiting; `settled(page)` waits for its outcome. */
async function startSync(page) {
  await page.evaluate(() => {
    window.running = window.client.sync().then(
      () => ({ ok: true }),
      (e) => ({ ok: false, code: e.code, retryable: e.retryable }),
    );
  });
}
const settled = (page) => page.evaluate(() => window.running);

test("a server that hangs or cannot be reached: online false with lastError while it lasts, online again after", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/Failed to load resource/, /ERR_FAILED/]);
  await openClient(page, clientOptions(tenant, tenant.users[0], { autoSync: false, timeoutMs: 600, maxAttempts: 3 }));
  await must(page, "sync");
  assert.equal((await must(page, "status")).online, true);

  // Every pull attempt waits 3 s for an answer that the 600 ms timeout never sees.
  await admin("/admin/faults", { tenantId: tenant.tenantId, target: "pull", count: 3, fault: { type: "delay", ms: 3000 } });
  await startSync(page);
  const during = await eventually(
    async () => {
      const s = await must(page, "status");
      return s.online === false ? s : false;
    },
    2_500,
    "status shows the server is not answering while the sync still retries",
  );
  assert.equal(during.lastError?.code, "offline");
  assert.match(during.lastError.message, /timed out/);
  assert.deepEqual(await settled(page), { ok: false, code: "offline", retryable: true });
  const after = await must(page, "status");
  assert.deepEqual([after.syncing, after.online, after.lastError?.code], [false, false, "offline"]);

  await must(page, "sync");
  const back = await must(page, "status");
  assert.deepEqual([back.online, back.lastError], [true, null]);

  // A connection that fails outright (refused, DNS, CORS) says the same.
  await page.route(`${SERVER_URL}/**`, (route) => route.abort("connectionrefused"));
  await startSync(page);
  assert.deepEqual(await settled(page), { ok: false, code: "offline", retryable: true });
  const refused = await must(page, "status");
  assert.deepEqual([refused.online, refused.lastError?.code, refused.syncing], [false, "offline", false]);
  await page.unroute(`${SERVER_URL}/**`);
  await must(page, "sync");
  assert.equal((await must(page, "status")).online, true);
  page.assertClean();
  await context.close();
});

test("lastSyncedAt survives a reload (kept in the database), in the leader and in a follower", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], { autoSync: false });
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  await openClient(page, options);
  await must(page, "sync");
  const synced = (await must(page, "status")).lastSyncedAt;
  assert.ok(synced && !Number.isNaN(Date.parse(synced)));

  await page.reload();
  await page.waitForFunction(() => window.syncCore !== undefined);
  await openClient(page, options);
  assert.equal((await must(page, "status")).lastSyncedAt, synced);
  const follower = await openPage(context, env.app.url);
  await openClient(follower, options);
  const s = await must(follower, "status");
  assert.deepEqual([s.leader, s.lastSyncedAt], [false, synced]);
  for (const p of [page, follower]) p.assertClean();
  await context.close();
});

test("bytesPulled: a cold start counts against the cold-start budget only; every figure is in bytes", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  await openClient(page, clientOptions(tenant, tenant.users[0], { autoSync: false }));
  const cold = await must(page, "pull");
  assert.ok(cold.bytesPulled > 10_000, `a cold start pulls something (${cold.bytesPulled} bytes)`);
  const afterCold = (await must(page, "status")).bytesPulled;
  assert.equal(afterCold.coldStart, cold.bytesPulled);
  assert.equal(afterCold.lastHour, 0, "the hourly delta budget does not count the cold start");
  assert.equal(afterCold.overHourlyBudget, false);

  const [d] = await must(page, "dashboards");
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Dashboard&key=${d.id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind: "Dashboard",
    op: "upsert",
    row: { ...server.row, name_i18n: { default: "A steady-state change (e2e)" } },
  });
  const delta = await must(page, "pull");
  assert.ok(delta.bytesPulled > 0);
  const status = await must(page, "status");
  assert.equal(status.bytesPulled.lastHour, delta.bytesPulled);
  assert.equal(status.bytesPulled.coldStart, cold.bytesPulled);
  assert.equal(status.bytesPulled.session, cold.bytesPulled + delta.bytesPulled);
  // Units: bytes everywhere, the §6 budgets as byte counts.
  assert.equal(status.bytesPulled.unit, "bytes");
  assert.equal(status.bytesPulled.hourlyBudget, 500_000);
  assert.equal(status.bytesPulled.coldStartBudget, 5_000_000);
  assert.equal(status.storage.unit, "bytes");
  page.assertClean();
  await context.close();
});

test("a malformed leader-status message on the tab channel changes nothing a follower reports", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], { autoSync: false });
  const context = await env.browser.newContext();
  const { a, b, followerStatus: before } = await openLeaderAndFollower(context, env.app.url, options);
  // Another sender on the same channel (a buggy tab, another version) posts what no
  // sync-core leader sends; the follower has a status listener, so it recomputes at once.
  await a.evaluate(async (name) => {
    const channel = new BroadcastChannel(`sync-core:${name}`);
    for (const state of [null, 5, { syncing: "yes" }]) channel.postMessage({ type: "leader-status", from: "x", state });
    channel.close();
  }, await b.evaluate(() => window.client.databaseName));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await must(b, "status");
  assert.equal(after.lastSyncedAt, before.lastSyncedAt);
  assert.equal(after.syncing, before.syncing);
  // The leader's own states are still taken: its next sync shows in the follower.
  await new Promise((resolve) => setTimeout(resolve, 20));
  await must(a, "sync");
  const synced = (await must(a, "status")).lastSyncedAt;
  assert.notEqual(synced, before.lastSyncedAt);
  await eventually(async () => (await must(b, "status")).lastSyncedAt === synced, 5_000, "B shows A's sync");
  // No status event failed into an unhandled rejection.
  b.assertClean();
  await context.close();
});
