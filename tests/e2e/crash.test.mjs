// A renderer crash in the middle of a cold start (issue 12): the tab is killed with the
// DevTools protocol (`Page.crash`) while page k of n of a cold pull is being fetched, then the
// app is opened again in a new tab of the same profile. What was stored must be whole pages
// with their cursor (the replacement still in progress, nothing swept early), the user's
// queued edit must still be there, and the next sync must finish the replacement: the rows
// then equal what a fresh device gets, and the edit is applied exactly once.
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
  readCursor,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

const MANUAL = {
  autoSync: false,
  pageSize: 40,
  cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 600_000 },
};

/** `meta` flags of the page's database, over a raw connection. */
async function replacing(page, name) {
  return page.evaluate(
    (n) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(n);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction("meta").objectStore("meta").get("replacing");
          get.onsuccess = () => {
            db.close();
            resolve(get.result === true);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    name,
  );
}

/** Everything a user sees, in a comparable shape. */
async function visible(page) {
  const dashboards = await must(page, "dashboards");
  const out = { dashboards: dashboards.map((d) => d.id).sort(), widgets: [], snapshots: [] };
  for (const d of dashboards) {
    for (const w of await must(page, "widgets", d.id)) {
      out.widgets.push(w.id);
      const s = await must(page, "latestSnapshot", w.id);
      out.snapshots.push(`${w.id}@${s?.generatedAt ?? "-"}`);
    }
  }
  out.widgets.sort();
  out.snapshots.sort();
  out.queries = (await must(page, "queries")).map((q) => q.id).sort();
  return out;
}

test("a tab crashed during page k of a cold start reopens whole, keeps its edit and finishes", async () => {
  const tenant = await createTenant({ dashboards: 8, widgetsPerDashboard: 4, snapshotsPerWidget: 3, queries: 4 });
  const user = tenant.users[0];
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url, [/Failed to load resource/]);
  await openClient(a, clientOptions(tenant, user, MANUAL));
  await must(a, "sync");
  const name = await a.evaluate(() => window.client.databaseName);
  const [q] = await must(a, "queries");
  await must(a, "renameQuery", q.id, { default: "Renamed before the crash" });

  // Revoked access drops the cursor (and the queries); a dashboard is deleted meanwhile.
  await admin("/admin/revoke", { tenantId: tenant.tenantId, userId: user.userId, kinds: ["Query"] });
  assert.equal((await a.evaluate(() => window.client.pull().then(() => "ok", (e) => e.code))), "forbidden");
  const [doomed] = await must(a, "dashboards");
  await admin("/admin/rows", { tenantId: tenant.tenantId, kind: "Dashboard", op: "tombstone", id: doomed.id });
  await admin("/admin/restore", { tenantId: tenant.tenantId, userId: user.userId });
  assert.equal(await readCursor(a), null, "the next pull is a cold start");

  // The next pull pages take a while; crash the tab once some pages are committed. (The
  // delays left over after the crash only slow the resumed pull down.)
  await admin("/admin/faults", { tenantId: tenant.tenantId, target: "pull", count: 8, fault: { type: "delay", ms: 250 } });
  await a.evaluate(() => {
    window.pages = 0;
    window.client.subscribe((e) => {
      if (e.type === "progress") window.pages = e.progress.pages;
    });
    void window.client.pull().catch(() => {});
  });
  await eventually(async () => (await a.evaluate(() => window.pages)) >= 3, 30_000, "three committed pages");
  const cdp = await context.newCDPSession(a);
  const crashed = new Promise((resolve) => a.once("crash", resolve));
  // Not awaited: the session dies with the renderer, so the command never gets an answer.
  void cdp.send("Page.crash").catch(() => {});
  await crashed;
  await a.close().catch(() => {});

  // Reopened: whole pages, the replacement still in progress, the edit still queued.
  const b = await openPage(context, env.app.url, [/Failed to load resource/]);
  await b.evaluate((n) => {
    window.client = { databaseName: n };
  }, name);
  const cursor = await readCursor(b);
  assert.ok(cursor, "the committed pages left their cursor");
  assert.equal(await replacing(b, name), true, "the replacement has not drained yet");
  await openClient(b, clientOptions(tenant, user, MANUAL));
  const pending = await must(b, "pending");
  assert.equal(pending.length, 1);
  assert.equal(pending[0].name_i18n.default, "Renamed before the crash");
  assert.ok(
    (await must(b, "dashboards")).some((d) => d.id === doomed.id),
    "nothing was swept before the replacement drained",
  );

  await must(b, "sync");
  assert.equal(await replacing(b, name), false);
  assert.deepEqual(await must(b, "pending"), []);
  const log = await admin(`/admin/push-log?tenantId=${tenant.tenantId}`);
  assert.deepEqual(
    log.ops.map((o) => o.applied),
    [1],
  );

  // The same as a fresh device of the same user sees.
  const fresh = await openPage(await env.browser.newContext(), env.app.url);
  await openClient(fresh, clientOptions(tenant, user, { ...MANUAL, deviceId: "dev_fresh" }));
  await must(fresh, "sync");
  const mine = await visible(b);
  assert.deepEqual(mine, await visible(fresh));
  assert.ok(!mine.dashboards.includes(doomed.id));
  b.assertClean();
});
