// Pulled bytes against the budgets (5 MB cold start, 500 KB per hour) survive a reload: the
// hourly window and the cold-start total are kept in the database, so reopening the tab does
// not reset them, nor does another tab taking over; only `session` (this leader's own pulls)
// starts from 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  admin,
  clientOptions,
  createTenant,
  eventually,
  must,
  openClient,
  openPage,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

async function serverRename(tenant, kind, id, name) {
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=${kind}&key=${id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind,
    op: "upsert",
    row: { ...server.row, name_i18n: { default: name } },
  });
}

test("bytesPulled: the hourly window and the cold-start total survive a reload and a change of leader", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], { autoSync: false });
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  await openClient(page, options);

  // Cold start, then one incremental pull.
  const cold = await must(page, "pull");
  assert.equal(cold.drained, true);
  const [d] = await must(page, "dashboards");
  await serverRename(tenant, "Dashboard", d.id, "Renamed before the reload");
  const incremental = await must(page, "pull");
  assert.ok(incremental.bytesPulled > 0);
  const before = (await must(page, "status")).bytesPulled;
  assert.equal(before.coldStart, cold.bytesPulled);
  assert.equal(before.session, cold.bytesPulled + incremental.bytesPulled);
  // The hourly (steady-state) window does not count the cold start.
  assert.equal(before.lastHour, incremental.bytesPulled);

  await page.reload();
  await page.waitForFunction(() => window.syncCore !== undefined);
  await openClient(page, options);
  const reloaded = await eventually(
    async () => {
      const s = await must(page, "status");
      return s.leader && s.bytesPulled.lastHour > 0 ? s.bytesPulled : false;
    },
    5_000,
    "the stored budget is loaded",
  );
  assert.equal(reloaded.lastHour, before.lastHour, JSON.stringify({ before, reloaded }));
  assert.equal(reloaded.coldStart, before.coldStart);
  assert.equal(reloaded.session, 0);

  // The window keeps counting from where it was.
  await serverRename(tenant, "Dashboard", d.id, "Renamed after the reload");
  const next = await must(page, "pull");
  assert.ok(next.bytesPulled > 0);
  const afterPull = (await must(page, "status")).bytesPulled;
  assert.equal(afterPull.lastHour, before.lastHour + next.bytesPulled);
  assert.equal(afterPull.session, next.bytesPulled);
  assert.equal(afterPull.coldStart, before.coldStart, "a drained cold start is not counted again");

  // A change of leader keeps it too: another tab takes over when this one closes.
  const other = await openPage(context, env.app.url);
  await openClient(other, options);
  assert.equal((await must(other, "status")).leader, false);
  page.assertClean();
  await page.close();
  const takenOver = await eventually(
    async () => {
      const s = await must(other, "status");
      return s.leader && s.bytesPulled.lastHour > 0 ? s.bytesPulled : false;
    },
    5_000,
    "the new leader loaded the budget",
  );
  assert.equal(takenOver.lastHour, afterPull.lastHour);
  assert.equal(takenOver.coldStart, before.coldStart);
  assert.equal(takenOver.session, 0);
  other.assertClean();
  await context.close();
});
