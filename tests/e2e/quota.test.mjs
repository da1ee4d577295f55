// A full disk (a simulated QuotaExceededError, see `installQuotaSwitch` in harness.mjs: the
// transaction aborts at commit with a real DOMException, as Chromium does) pauses sync without
// losing anything: a rename rejects with `quota_exceeded` and earlier queued renames stay, a
// pull stops with `lastError.code === "quota_exceeded"` having applied nothing (cursor and rows
// unchanged), automatic sync does not retry in a loop, and once space is back the next sync
// applies the server's changes and pushes every queued rename exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SERVER_URL,
  admin,
  call,
  clientOptions,
  createTenant,
  eventually,
  installQuotaSwitch,
  must,
  openClient,
  openPage,
  readCursor,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

test("a quota error pauses sync without loss; the next sync after it clears applies and pushes everything", async () => {
  const tenant = await createTenant({ queries: 12 });
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  // Automatic sync stays on (that is what must not spin); edits are not pushed on their own
  // within the test, so they are still queued when the disk fills up.
  await openClient(
    page,
    clientOptions(tenant, tenant.users[0], {
      cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 600_000 },
    }),
  );
  await eventually(async () => (await must(page, "status")).lastSyncedAt, 10_000, "sync on open");
  await installQuotaSwitch(page);

  // Two renames queued before the disk fills up.
  const [q1, q2, q3] = await must(page, "queries");
  await must(page, "renameQuery", q1.id, { default: "Queued before the quota error 1" });
  await must(page, "renameQuery", q2.id, { default: "Queued before the quota error 2" });
  assert.equal((await must(page, "pending")).length, 2);

  // A server-side change waiting to be pulled.
  const [d] = await must(page, "dashboards");
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Dashboard&key=${d.id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind: "Dashboard",
    op: "upsert",
    row: { ...server.row, name_i18n: { default: "Renamed on the server while the disk was full" } },
  });
  const cursorBefore = await readCursor(page);
  assert.ok(cursorBefore, "a cursor is stored after the first sync");

  const requests = [];
  page.on("request", (r) => {
    if (r.url().startsWith(SERVER_URL)) requests.push(new URL(r.url()).pathname);
  });
  await page.evaluate(() => {
    window.quota.failing = true;
  });

  // A rename while full: rejected with quota_exceeded, the queued ones intact.
  const refused = await call(page, "renameQuery", q3.id, { default: "Does not fit" });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.isSyncError, true);
  assert.equal(refused.error.code, "quota_exceeded", refused.error.message);
  const pending = await must(page, "pending");
  assert.deepEqual(
    pending.map((p) => [p.entityId ?? p.op?.entityId, p.name_i18n?.default ?? p.op?.name_i18n?.default]).sort(),
    [
      [q1.id, "Queued before the quota error 1"],
      [q2.id, "Queued before the quota error 2"],
    ].sort(),
    JSON.stringify(pending),
  );
  const names = Object.fromEntries((await must(page, "queries")).map((q) => [q.id, q.name_i18n.default]));
  assert.equal(names[q1.id], "Queued before the quota error 1");
  assert.equal(names[q3.id], q3.name_i18n.default);

  // A pull while full: stops with quota_exceeded, nothing half-applied.
  const pull = await call(page, "pull");
  assert.equal(pull.ok, false);
  assert.equal(pull.error.code, "quota_exceeded", pull.error.message);
  const paused = await must(page, "status");
  assert.equal(paused.lastError?.code, "quota_exceeded");
  assert.equal(paused.paused, "quota_exceeded");
  assert.equal(paused.pending, 2);
  assert.equal(await readCursor(page), cursorBefore);
  assert.equal((await must(page, "dashboards")).find((x) => x.id === d.id).name_i18n.default, d.name_i18n.default);
  assert.ok(await page.evaluate(() => window.quota.failures >= 2), "the simulated quota error was hit");

  // Paused means paused: triggers that would sync do not, and nothing retries in a loop.
  const requestsWhilePaused = requests.length;
  assert.equal(requestsWhilePaused, 1, JSON.stringify(requests)); // the one pulled page that did not fit
  for (let i = 0; i < 3; i += 1) {
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await new Promise((r) => setTimeout(r, 700));
  }
  assert.equal(requests.length, requestsWhilePaused, JSON.stringify(requests));

  // Space is back: the next sync applies the server's change and pushes both renames.
  await page.evaluate(() => {
    window.quota.failing = false;
  });
  const synced = await must(page, "sync");
  assert.equal(synced.push?.opsApplied, 2, JSON.stringify(synced));
  assert.equal(synced.pull.drained, true);
  assert.equal(
    (await must(page, "dashboards")).find((x) => x.id === d.id).name_i18n.default,
    "Renamed on the server while the disk was full",
  );
  assert.notEqual(await readCursor(page), cursorBefore);
  const after = await must(page, "status");
  assert.equal(after.paused, null);
  assert.equal(after.lastError, null);
  assert.equal(after.pending, 0);
  const log = await admin(`/admin/push-log?tenantId=${tenant.tenantId}`);
  const byQuery = Object.fromEntries(log.ops.map((op) => [op.queryId, op]));
  for (const q of [q1, q2]) {
    assert.equal(byQuery[q.id]?.applied, 1, JSON.stringify(log.ops));
  }
  assert.equal(byQuery[q3.id], undefined, "the refused rename was never queued");
  for (const [id, name] of [
    [q1.id, "Queued before the quota error 1"],
    [q2.id, "Queued before the quota error 2"],
  ]) {
    const row = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${id}`);
    assert.equal(row.row.name_i18n.default, name);
  }
  page.assertClean();
  await context.close();
});
