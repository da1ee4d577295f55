// Every public method of SyncClient: its happy path and one failure path, in one page against
// the reference server. Edits and the outbox need the push bindings; those tests are skipped
// (and say so) on a build without them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { admin, call, clientOptions, createTenant, launch, must, openClient, openPage, serveConsumer } from "./harness.mjs";

let app;
let browser;
let context;
let page;
let tenant;

before(async () => {
  app = await serveConsumer();
  browser = await launch();
  tenant = await createTenant();
  context = await browser.newContext();
  // 409/412 answers are outcomes these tests cause on purpose (conflicts).
  page = await openPage(context, app.url, [/status of 40[19] |status of 412 /]);
  await openClient(page, clientOptions(tenant, tenant.users[0], { autoSync: false }));
});
after(async () => {
  try {
    page?.assertClean();
  } finally {
    await context?.close();
    await browser?.close();
    await app?.close();
  }
});

function assertSyncError(r, code) {
  assert.equal(r.ok, false, `expected ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.error.isSyncError, true);
  assert.equal(r.error.name, "SyncError");
  assert.equal(r.error.code, code, r.error.message);
  assert.equal(typeof r.error.retryable, "boolean");
}

test("open: bad options reject with bad_request", async () => {
  const r = await page.evaluate(async (o) => {
    try {
      await window.syncCore.SyncClient.open({ ...o, tenantId: "not-a-tenant" });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: { isSyncError: e instanceof window.syncCore.SyncError, name: e.name, code: e.code, retryable: e.retryable } };
    }
  }, clientOptions(tenant));
  assertSyncError(r, "bad_request");
});

test("pull: drains with progress, then reads serve the data; fresh pull starts over", async () => {
  const r = await page.evaluate(async () => {
    const progress = [];
    const report = await window.client.pull({ onProgress: (p) => progress.push(p) });
    return { report, progress };
  });
  assert.equal(r.report.drained, true);
  assert.ok(r.report.pages >= 1);
  assert.equal(r.progress.length, r.report.pages);
  assert.ok(r.progress.at(-1).itemsApplied > 0);
  assert.ok(r.report.changedKinds.includes("Dashboard"));
  const fresh = await must(page, "pull", { fresh: true });
  assert.equal(fresh.drained, true);
  assertSyncError(await call(page, "pull", "fresh"), "bad_request");
});

test("reads: dashboards, widgets, metric, snapshots, latestSnapshot, queries, projections, openAlerts, freshness", async () => {
  const dashboards = await must(page, "dashboards");
  assert.ok(dashboards.length > 0);
  const withWidgets = [];
  for (const d of dashboards) {
    const widgets = await must(page, "widgets", d.id);
    for (const w of widgets) assert.equal(w.dashboardId, d.id);
    if (widgets.length > 0) withWidgets.push({ d, widgets });
  }
  assert.ok(withWidgets.length > 0);
  const [{ d, widgets }] = withWidgets;
  const w = widgets[0];
  const metric = await must(page, "metric", w.metricKey);
  assert.equal(metric.key, w.metricKey);
  assert.equal(await must(page, "metric", "no_such_metric"), undefined);
  const snapshots = await must(page, "snapshots", w.id);
  assert.ok(snapshots.length > 0);
  assert.ok(snapshots.every((s) => s.widgetId === w.id));
  const latest = await must(page, "latestSnapshot", w.id);
  assert.deepEqual(latest, snapshots[0]);
  assert.equal(await must(page, "latestSnapshot", "wid_missing"), undefined);
  assert.ok((await must(page, "queries")).length > 0);
  assert.ok((await must(page, "projections")).length > 0);
  assert.ok(Array.isArray(await must(page, "openAlerts")));
  const freshness = await must(page, "freshness", d.id);
  assert.equal(typeof freshness.stale, "boolean");
  assert.ok(Array.isArray(freshness.staleWidgetIds));
  // Failure paths: arguments that are not ids.
  assertSyncError(await call(page, "widgets", 42), "bad_request");
  assertSyncError(await call(page, "metric", ""), "bad_request");
  assertSyncError(await call(page, "snapshots"), "bad_request");
  assertSyncError(await call(page, "latestSnapshot", null), "bad_request");
  assertSyncError(await call(page, "freshness", {}), "bad_request");
});

test("status: every field, leader and counters", async () => {
  const s = await must(page, "status");
  assert.equal(s.online, true);
  assert.equal(s.syncing, false);
  assert.equal(s.leader, true);
  assert.ok(Date.parse(s.lastSyncedAt) > 0);
  assert.equal(s.pending, 0);
  assert.equal(s.conflicts, 0);
  assert.equal(s.deadLetters, 0);
  assert.equal(s.accessRevoked, false);
  assert.equal(s.bytesPulled.coldStartBudget, 5_000_000);
  assert.equal(s.bytesPulled.hourlyBudget, 500_000);
  assert.ok(s.bytesPulled.session > 0);
  assert.ok(s.bytesPulled.lastHour > 0);
  assert.equal(s.lastError, null);
  assert.equal(s.internalErrors, 0);
  assert.equal(s.closed, false);
  assert.equal(typeof s.storage.usage, "number");
  assert.equal(typeof s.storage.quota, "number");
});

test("subscribe: events until unsubscribed; a non-function is refused", async () => {
  const r = await page.evaluate(async () => {
    const seen = [];
    const unsubscribe = window.client.subscribe((e) => seen.push(e.type));
    await window.client.pull();
    await new Promise((res) => setTimeout(res, 50));
    const during = [...seen];
    unsubscribe();
    await window.client.pull();
    await new Promise((res) => setTimeout(res, 50));
    return { during, after: seen.length - during.length };
  });
  // (`fresh` pulls are rate-limited by the server, so these pulls find nothing new: no
  // `changed`; the pull test above checked changedKinds.)
  assert.ok(r.during.includes("progress"));
  assert.ok(r.during.includes("status"));
  assert.equal(r.after, 0);
  assertSyncError(await call(page, "subscribe", "not a function"), "bad_request");
});

test("edits: renameQuery, edit, pending, push, sync, enqueueCommand, deadLetters", async () => {
  const [q] = await must(page, "queries");
  const op = await must(page, "renameQuery", q.id, { default: "Weekly bookings (e2e)" });
  assert.equal(op.entityId, q.id);
  const renamed = (await must(page, "queries")).find((x) => x.id === q.id);
  assert.equal(renamed.name_i18n.default, "Weekly bookings (e2e)");
  assert.equal((await must(page, "pending")).length, 1);
  assert.equal((await must(page, "status")).pending, 1);
  assertSyncError(await call(page, "renameQuery", "qry_missing", { default: "x" }), "not_found");
  assertSyncError(await call(page, "renameQuery", q.id, { default: "" }), "invalid_name");
  const [d] = await must(page, "dashboards");
  // Rows carry the version of the item they came in (PROTOCOL §2), for If-Match.
  const heldDashboard = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Dashboard&key=${d.id}`);
  assert.equal(d.version, heldDashboard.version);
  const [w] = await must(page, "widgets", d.id);
  const heldWidget = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Widget&key=${w.id}`);
  assert.equal(w.version, heldWidget.version);
  assert.equal(renamed.version, (await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${q.id}`)).version);
  assertSyncError(await call(page, "edit", "Dashboard", d.id, { name_i18n: { default: "x" } }), "not_editable");
  const pushed = await must(page, "push");
  assert.equal(pushed.opsApplied, 1);
  assert.equal((await must(page, "pending")).length, 0);
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${q.id}`);
  assert.equal(server.row.name_i18n.default, "Weekly bookings (e2e)");
  const edited = await must(page, "edit", "Query", q.id, { name_i18n: { default: "Edited (e2e)" } });
  assert.equal(edited.entityId, q.id);
  const synced = await must(page, "sync");
  assert.equal(synced.push.opsApplied, 1);
  assert.equal(synced.pull.drained, true);
  const command = await must(page, "enqueueCommand", {
    method: "PUT",
    path: `/api/v1/analytics/dashboards/${d.id}`,
    body: { name_i18n: { default: "Renamed dashboard (e2e)" } },
    ifMatch: String(d.version),
  });
  assert.ok(command.commandId);
  assertSyncError(await call(page, "enqueueCommand", { method: "GET", path: "/etc/passwd" }), "bad_command");
  const replayed = await must(page, "push");
  // If-Match carried the version the device holds, which is the server's: applied.
  assert.deepEqual([replayed.commandsDone, replayed.conflicts, replayed.deadLetters], [1, 0, 0], JSON.stringify(replayed));
  assert.equal((await must(page, "pending")).length, 0);
  assert.ok(Array.isArray(await must(page, "deadLetters")));
});

test("conflicts: a 409 becomes a conflict event, resolved with acceptServer", async () => {
  const queries = await must(page, "queries");
  const q = queries[queries.length - 1];
  await must(page, "renameQuery", q.id, { default: "Local name (e2e)" });
  const server = await admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${q.id}`);
  await admin("/admin/rows", {
    tenantId: tenant.tenantId,
    kind: "Query",
    op: "upsert",
    row: { ...server.row, name_i18n: { default: "Server name (e2e)" } },
  });
  const before = await page.evaluate(() => window.events.length);
  const report = await must(page, "push");
  assert.equal(report.conflicts, 1);
  const conflict = (await must(page, "conflicts")).find((c) => c.entityId === q.id);
  assert.ok(conflict, "a conflict for the renamed query");
  assert.equal(conflict.kind, "Query");
  assert.equal(conflict.local.name_i18n.default, "Local name (e2e)");
  const events = await page.evaluate((n) => window.events.slice(n).map((e) => e.type), before);
  assert.ok(events.includes("conflict"), JSON.stringify(events));
  assert.ok((await must(page, "status")).conflicts >= 1);
  assertSyncError(await call(page, "resolveConflict", conflict.id, "flipACoin"), "bad_request");
  const settled = await must(page, "resolveConflict", conflict.id, "acceptServer");
  assert.equal(settled.resolution, "acceptServer");
  assertSyncError(await call(page, "resolveConflict", conflict.id, "acceptServer"), "not_found");
  assert.ok(!(await must(page, "conflicts")).some((c) => c.id === conflict.id));
});

test("push: a refused push rejects with the server's reason and keeps the queue", async () => {
  const [q] = await must(page, "queries");
  await must(page, "renameQuery", q.id, { default: "Refused push (e2e)" });
  // 401 twice: the token is retried once, then the push gives up.
  await admin("/admin/faults", { tenantId: tenant.tenantId, target: "push", count: 2, fault: { type: "status", status: 401 } });
  assertSyncError(await call(page, "push"), "unauthorized");
  assert.equal((await must(page, "pending")).length, 1);
  const pushed = await must(page, "push");
  assert.equal(pushed.opsApplied, 1);
  assert.equal((await must(page, "pending")).length, 0);
});

test("close: later calls reject with closed; close twice is harmless", async () => {
  await must(page, "close");
  await must(page, "close");
  // The failure path of every method without an argument check of its own.
  const methods = [
    ["sync"],
    ["pull"],
    ["push"],
    ["dashboards"],
    ["widgets", "dsh_x"],
    ["metric", "m"],
    ["snapshots", "wid_x"],
    ["latestSnapshot", "wid_x"],
    ["queries"],
    ["projections"],
    ["openAlerts"],
    ["freshness", "dsh_x"],
    ["renameQuery", "qry_x", { default: "x" }],
    ["edit", "Query", "qry_x", { name_i18n: { default: "x" } }],
    ["enqueueCommand", { method: "PUT", path: "/api/v1/analytics/dashboards/dsh_x", body: {} }],
    ["pending"],
    ["conflicts"],
    ["resolveConflict", "cfl_x", "keepLocal"],
    ["deadLetters"],
    ["logout"],
  ];
  for (const [method, ...args] of methods) {
    const r = await call(page, method, ...args);
    assert.equal(r.error?.code, "closed", `${method}: ${JSON.stringify(r)}`);
    assertSyncError(r, "closed");
  }
  const s = await must(page, "status");
  assert.equal(s.closed, true);
  assert.equal(s.leader, false);
});
