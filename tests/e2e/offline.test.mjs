// Offline/online transitions (Playwright `context.setOffline`): going offline shows in status
// and stops automatic attempts; an explicit call fails fast with a retryable `offline`; coming
// back online syncs by itself and the server's change shows up.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  admin,
  call,
  clientOptions,
  createTenant,
  eventually,
  must,
  openClient,
  openPage,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

test("offline stops attempts; online syncs again by itself", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/ERR_INTERNET_DISCONNECTED/]);
  await openClient(
    page,
    clientOptions(tenant, tenant.users[0], {
      maxAttempts: 2,
      cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 200 },
    }),
  );
  await eventually(async () => (await must(page, "status")).lastSyncedAt, 10_000, "sync on open");
  const first = (await must(page, "status")).lastSyncedAt;

  await context.setOffline(true);
  const offline = await eventually(async () => {
    const s = await must(page, "status");
    return s.online === false ? s : false;
  }, 5_000, "status offline");
  assert.equal(offline.paused, "offline");
  assert.ok(await page.evaluate(() => window.events.some((e) => e.type === "status" && e.online === false)));

  // Reads keep working from IndexedDB.
  const [d] = await must(page, "dashboards");
  assert.ok(d);
  // An explicit call fails with a retryable `offline` instead of hanging.
  const r = await call(page, "pull");
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "offline");
  assert.equal(r.error.retryable, true);
  // No automatic attempt while offline: a server change waits.
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Dashboard&key=${d.id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind: "Dashboard",
    op: "upsert",
    row: { ...server.row, name_i18n: { default: "Changed while offline (e2e)" } },
  });
  const errorsBefore = await page.evaluate(() => window.events.filter((e) => e.type === "error").length);
  await page.evaluate(() => {
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(await page.evaluate(() => window.events.filter((e) => e.type === "error").length), errorsBefore);

  await context.setOffline(false);
  await eventually(
    async () => (await must(page, "dashboards")).find((x) => x.id === d.id)?.name_i18n.default === "Changed while offline (e2e)",
    10_000,
    "the online event synced the change",
  );
  const s = await must(page, "status");
  assert.equal(s.online, true);
  assert.equal(s.paused, null);
  assert.notEqual(s.lastSyncedAt, first);
  assert.equal(s.lastError, null);
  assert.ok(
    await page.evaluate(() => window.events.some((e) => e.type === "changed" && e.kinds.includes("Dashboard") && !e.remote)),
  );
  page.assertClean();
  await context.close();
});
