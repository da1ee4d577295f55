// Two tabs and a dedicated worker on one database: exactly one leader (Web Locks), follower
// requests served by the leader, `changed` reaching every context (BroadcastChannel), takeover
// when the leader's tab goes away with queued follower edits still pushed, and logout.
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
  startWorker,
  useAppAndBrowser,
} from "./harness.mjs";

const env = useAppAndBrowser();

const SLOW = { cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 300 } };

async function leaders(pages, worker) {
  const flags = [];
  for (const p of pages) flags.push((await must(p, "status")).leader);
  if (worker) flags.push((await worker("status")).value.leader);
  return flags;
}

test("two tabs and a worker: one leader, follower calls served by it, changed everywhere", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], SLOW);
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await openClient(a, options);
  await eventually(async () => (await must(a, "status")).leader, 10_000, "tab A leads");
  const b = await openPage(context, env.app.url);
  await openClient(b, options);
  const worker = await startWorker(a, options);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await leaders([a, b], worker), [true, false, false]);

  // A follower's explicit pull runs in the leader and resolves with its report.
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "sync on open");
  const [d] = await must(b, "dashboards");
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Dashboard&key=${d.id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind: "Dashboard",
    op: "upsert",
    row: { ...server.row, name_i18n: { default: "Renamed on the server (e2e)" } },
  });
  const report = await must(b, "pull");
  assert.equal(report.drained, true);
  assert.ok(report.changedKinds.includes("Dashboard"), JSON.stringify(report));
  const seenByB = (await must(b, "dashboards")).find((x) => x.id === d.id);
  assert.equal(seenByB.name_i18n.default, "Renamed on the server (e2e)");
  // The leader's changes reach the other tab and the worker as `changed` events.
  await eventually(
    () => b.evaluate(() => window.events.some((e) => e.type === "changed" && e.remote && e.kinds.includes("Dashboard"))),
    5_000,
    "changed in tab B",
  );
  await eventually(
    async () => (await worker("events")).value.some((e) => e.type === "changed" && e.kinds.includes("Dashboard")),
    5_000,
    "changed in the worker",
  );
  // The follower sees the leader's sync state.
  const bs = await must(b, "status");
  assert.equal(bs.leader, false);
  assert.ok(bs.lastSyncedAt);
  assert.ok(bs.bytesPulled.session > 0);
  // Everyone reads the same database.
  assert.equal((await must(b, "dashboards")).length, (await must(a, "dashboards")).length);
  assert.equal((await worker("dashboards")).value.length, (await must(a, "dashboards")).length);
  for (const p of [a, b]) p.assertClean();
  await context.close();
});

test("leader tab closed: another context takes over and pushes the queued follower edit", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  // The first leader would wait 60 s before pushing an edit: it is gone long before that.
  await openClient(a, clientOptions(tenant, tenant.users[0], { cadence: { ...SLOW.cadence, editDebounceMs: 60_000 } }));
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "A synced");
  const b = await openPage(context, env.app.url);
  await openClient(b, clientOptions(tenant, tenant.users[0], SLOW));
  const worker = await startWorker(b, clientOptions(tenant, tenant.users[0], SLOW));
  assert.deepEqual(await leaders([a, b], worker), [true, false, false]);
  const [{ id: queryId }] = await must(b, "queries");
  await must(b, "renameQuery", queryId, { default: "Renamed in a follower (e2e)" });
  assert.equal((await must(b, "status")).pending, 1);
  a.assertClean();
  await a.close();
  const flags = await eventually(
    async () => {
      const f = await leaders([b], worker);
      return f.some(Boolean) ? f : false;
    },
    5_000,
    "takeover",
  );
  assert.equal(flags.filter(Boolean).length, 1, JSON.stringify(flags));
  await eventually(
    async () => {
      const row = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${queryId}`);
      return row.row.name_i18n.default === "Renamed in a follower (e2e)";
    },
    10_000,
    "the new leader pushed the follower's rename",
  );
  await eventually(async () => (await must(b, "status")).pending === 0, 5_000, "outbox empty");
  b.assertClean();
  await context.close();
});

test("logout refuses while edits wait; force wipes and closes every context", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], { ...SLOW, autoSync: false });
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await openClient(a, options);
  const b = await openPage(context, env.app.url);
  await openClient(b, options);
  await must(a, "pull");
  const name = await a.evaluate(() => window.client.databaseName);
  const [q] = await must(a, "queries");
  await must(a, "renameQuery", q.id, { default: "Unsynced (e2e)" });
  const refused = await call(a, "logout");
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "unsynced_changes");
  assert.equal(refused.error.isSyncError, true);
  // Nothing was deleted by the refusal.
  assert.equal((await must(a, "pending")).length, 1);
  await must(a, "logout", { force: true });
  await eventually(() => b.evaluate(() => window.events.some((e) => e.type === "closed")), 5_000, "B closed");
  const wiped = await b.evaluate(() => window.events.some((e) => e.type === "changed" && e.kinds.length === 7));
  assert.ok(wiped, "B got a changed event naming every kind");
  assert.equal((await call(b, "dashboards")).error.code, "closed");
  assert.equal((await call(a, "dashboards")).error.code, "closed");
  const names = await a.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!names.includes(name), `${name} still in ${names}`);
  for (const p of [a, b]) p.assertClean();
  await context.close();
});

/** Gives `page` `window.leaderLocks()`: how many leader locks its origin holds or waits for
 * (counted in the page, so a count can fall between two calls of a client). */
async function countLeaderLocks(page) {
  await page.evaluate(() => {
    window.leaderLocks = async () => {
      const q = await navigator.locks.query();
      return [...q.held, ...q.pending].filter((l) => l.name.startsWith("sync-core:leader:")).length;
    };
  });
}

/** Resolves once a closed client of `page` has given its leader lock back (asynchronously). */
async function noLeaderLock(page) {
  await eventually(async () => (await page.evaluate(() => window.leaderLocks())) === 0, 5_000, "leader lock released");
}

test("a client that has synced before renders from the cache before it joins the election; a sync call joins at once", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], SLOW);
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await countLeaderLocks(a);
  // Never synced: nothing to render from, so it joins at once and syncs on open.
  await openClient(a, options);
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "sync on open");
  await must(a, "close");
  await noLeaderLock(a);

  // Reopened, it reads a dashboard, its widgets and their newest snapshots first: no leader
  // lock is asked for meanwhile (the election's lock, the new leader's reads and broadcasts
  // would contend with them), then it takes the lead on its own.
  await openClient(a, options);
  const render = await a.evaluate(async () => {
    const client = window.client;
    const [dashboard] = await client.dashboards();
    const widgets = await client.widgets(dashboard.id);
    const snapshots = await Promise.all(widgets.map((w) => client.latestSnapshot(w.id)));
    await client.status(); // the stored lastSyncedAt has been read
    return { widgets: widgets.length, snapshots: snapshots.filter(Boolean).length, leaderLocks: await window.leaderLocks() };
  });
  assert.ok(render.widgets > 0 && render.snapshots > 0, JSON.stringify(render));
  assert.equal(render.leaderLocks, 0, "no leader lock while first render reads");
  await eventually(async () => (await must(a, "status")).leader, 5_000, "leader after first render");
  await must(a, "close");
  await noLeaderLock(a);

  // Asked to sync right after open, it joins the election at once and the sync runs.
  await openClient(a, options);
  const asked = await a.evaluate(async () => {
    await window.client.status();
    const synced = window.client.sync();
    const leaderLocks = await window.leaderLocks();
    return { leaderLocks, drained: (await synced).pull.drained };
  });
  assert.deepEqual(asked, { leaderLocks: 1, drained: true });
  a.assertClean();
  await context.close();
});
