// PROTOCOL §9 (v1.1) end to end, through the built package against the real reference server
// in headless Chromium: the rules that keep a user's data private and their edits alive when
// a server or a proxy answers something unexpected.
// - §9.1/§9.2: a dashboard deleted while the client was revoked is gone after access returns
//   (the cold pull that follows a 403 replaces every kind), although no tombstone reaches it;
// - §9.3: a whole-request push answer the contract does not name keeps every op queued, in
//   order, and the next push applies each once;
// - §9.6: a command answered 403 or by a proxy's 405 stays queued;
// - §9.7: a command route that a URL parser would normalise elsewhere is refused unqueued.
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

/** No automatic sync: every request in these tests is one the test asked for. */
const MANUAL = { autoSync: false, cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 600_000 } };

async function synced(tenant) {
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/Failed to load resource/]);
  await openClient(page, clientOptions(tenant, tenant.users[0], MANUAL));
  await must(page, "sync");
  return page;
}

test("§9.1-9.2: a dashboard deleted while access was revoked is removed by the cold pull after it", async () => {
  const tenant = await createTenant();
  const user = tenant.users[0];
  const page = await synced(tenant);
  const dashboards = await must(page, "dashboards");
  assert.ok(dashboards.length >= 2, JSON.stringify(dashboards.map((d) => d.id)));
  const gone = dashboards[0];
  const widgets = await must(page, "widgets", gone.id);
  assert.ok(widgets.length > 0);
  assert.ok((await must(page, "snapshots", widgets[0].id)).length > 0);

  // Access to saved queries is revoked: the client wipes them at once, keeps the rest.
  await admin("/admin/revoke", { tenantId: tenant.tenantId, userId: user.userId, kinds: ["Query"] });
  const refused = await call(page, "sync");
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "forbidden");
  assert.deepEqual(await must(page, "queries"), []);
  assert.equal((await must(page, "dashboards")).length, dashboards.length);
  assert.equal((await must(page, "status")).accessRevoked, true);

  // Meanwhile the dashboard is deleted on the server; access comes back.
  await admin("/admin/rows", { tenantId: tenant.tenantId, kind: "Dashboard", op: "tombstone", id: gone.id });
  await admin("/admin/restore", { tenantId: tenant.tenantId, userId: user.userId });
  await must(page, "sync");
  const after = await must(page, "dashboards");
  assert.equal(after.length, dashboards.length - 1);
  assert.ok(!after.some((d) => d.id === gone.id), "the deleted dashboard is gone");
  assert.deepEqual(await must(page, "widgets", gone.id), []);
  assert.deepEqual(await must(page, "snapshots", widgets[0].id), []);
  assert.ok((await must(page, "queries")).length > 0, "queries came back");
  assert.equal((await must(page, "status")).accessRevoked, false);
  page.assertClean();
});

test("§9.2: a push answered 403 keeps the edit, reports access revoked and triggers a pull", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [q] = await must(page, "queries");
  const [gone] = await must(page, "dashboards");
  await must(page, "renameQuery", q.id, { default: "Kept through a 403" });
  // The server changed meanwhile: only a pull can tell the client.
  await admin("/admin/rows", { tenantId: tenant.tenantId, kind: "Dashboard", op: "tombstone", id: gone.id });
  await admin("/admin/faults", { tenantId: tenant.tenantId, target: "push", count: 1, fault: { type: "status", status: 403 } });
  const r = await call(page, "push");
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "forbidden");
  assert.equal((await must(page, "pending")).length, 1, "the edit stays queued");
  await eventually(
    async () => !(await must(page, "dashboards")).some((d) => d.id === gone.id),
    10_000,
    "the pull the 403 triggered",
  );
  // That pull succeeded, so access is back and the next push delivers the edit once.
  await eventually(async () => (await must(page, "status")).accessRevoked === false, 5_000, "access back");
  assert.equal((await must(page, "push")).opsApplied, 1);
  page.assertClean();
});

test("§9.3: a proxy's whole-request answer to a push keeps every op queued and nothing dead-lettered", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const queries = await must(page, "queries");
  for (const [i, q] of queries.entries()) {
    await must(page, "renameQuery", q.id, { default: `Renamed ${i}` });
  }
  const before = (await must(page, "pending")).map((p) => p.opId ?? p.id);
  for (const status of [404, 405, 415]) {
    await admin("/admin/faults", {
      tenantId: tenant.tenantId,
      target: "push",
      count: 1,
      fault: { type: "status", status },
    });
    const r = await call(page, "push");
    assert.equal(r.ok, false, `${status}`);
    assert.equal(r.error.code, "push_rejected", `${status}`);
    assert.equal(r.error.retryable, true);
    assert.deepEqual(await must(page, "deadLetters"), [], `${status}`);
    assert.deepEqual((await must(page, "pending")).map((p) => p.opId ?? p.id), before, `${status}`);
  }
  const report = await must(page, "push");
  assert.equal(report.opsApplied, queries.length);
  const log = await admin(`/admin/push-log?tenantId=${tenant.tenantId}`);
  assert.equal(log.ops.length, queries.length);
  assert.ok(log.ops.every((o) => o.applied === 1), JSON.stringify(log.ops));
  const names = (await must(page, "queries")).map((q) => q.name_i18n.default).sort();
  assert.deepEqual(names, queries.map((_, i) => `Renamed ${i}`).sort());
  page.assertClean();
});

test("§9.6: a command answered 403 or by a proxy's 405 stays queued in order", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [d] = await must(page, "dashboards");
  await must(page, "enqueueCommand", {
    method: "PUT",
    path: `/api/v1/analytics/dashboards/${d.id}`,
    body: { name_i18n: { default: "Renamed dashboard" } },
    ifMatch: String(d.version),
  });
  const queued = async () => (await must(page, "pending")).filter((p) => p.type === "command" || p.path).length;
  assert.equal(await queued(), 1);
  for (const [status, code] of [
    [405, "push_rejected"],
    [403, "forbidden"],
  ]) {
    await admin("/admin/faults", {
      tenantId: tenant.tenantId,
      target: "command",
      count: 1,
      fault: { type: "status", status },
    });
    const r = await call(page, "push");
    assert.equal(r.ok, false, `${status}`);
    assert.equal(r.error.code, code, `${status}`);
    assert.equal(await queued(), 1, `${status}: still queued`);
    assert.deepEqual(await must(page, "deadLetters"), [], `${status}`);
  }
  page.assertClean();
});

test("§9.7: a command path that a URL parser would normalise elsewhere is refused before it is queued", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  for (const path of [
    "/api/v1/analytics/dashboards/%2e%2e/%2e%2e/%2e%2e/internal/sync/push",
    "/api/v1/analytics/dashboards/dsh_1/../../../internal/sync/push",
    "/api/v1/analytics/dashboards/dsh_1?x=1",
    "//evil.example/api/v1/analytics/dashboards",
  ]) {
    const r = await call(page, "enqueueCommand", { method: "PUT", path, body: {} });
    assert.equal(r.ok, false, path);
    assert.equal(r.error.code, "bad_command", path);
  }
  assert.deepEqual(await must(page, "pending"), []);
  await eventually(async () => (await must(page, "status")).pending === 0, 2_000, "nothing pending");
  page.assertClean();
});

/** The next push of `tenant` is answered with exactly `status`/`body` (nothing applied). */
async function pushAnswer(tenant, status, body, contentType = "application/json") {
  await admin("/admin/faults", {
    tenantId: tenant.tenantId,
    target: "push",
    count: 1,
    fault: { type: "respond", status, body: typeof body === "string" ? body : JSON.stringify(body), contentType },
  });
}

test("§9.3: a proxy's HTML error page and a captive 200 never dead-letter the batch", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [q] = await must(page, "queries");
  await must(page, "renameQuery", q.id, { default: "Through the proxy" });
  await pushAnswer(tenant, 404, "<html><body><h1>404 Not Found</h1>nginx</body></html>", "text/html");
  let r = await call(page, "push");
  assert.equal(r.error?.code, "push_rejected");
  assert.equal(r.error?.status, 404);
  await pushAnswer(tenant, 200, { results: [] });
  r = await call(page, "push");
  assert.equal(r.error?.code, "push_rejected");
  assert.equal(r.error?.status, 200);
  assert.deepEqual(await must(page, "deadLetters"), []);
  assert.equal((await must(page, "push")).opsApplied, 1);
  page.assertClean();
});

test("§9.4: an op answered with a transient per-op status is resent under a new opId", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [q] = await must(page, "queries");
  await must(page, "renameQuery", q.id, { default: "Try again" });
  const [op] = await must(page, "pending");
  await pushAnswer(tenant, 200, {
    results: [{ opId: op.opId, id: q.id, ok: false, status: 503, error: "busy" }],
  });
  await must(page, "push");
  const [again] = await must(page, "pending");
  assert.equal(again.seq, op.seq, "same place in the queue");
  assert.notEqual(again.opId, op.opId, "a new opId");
  assert.deepEqual(again.name_i18n, op.name_i18n, "the same edit");
  // A later rename is a new op: the sent one is immutable.
  await must(page, "renameQuery", q.id, { default: "And again" });
  const pending = await must(page, "pending");
  assert.equal(pending.length, 2);
  assert.equal(pending[0].name_i18n.default, "Try again");
  await must(page, "push");
  const log = await admin(`/admin/push-log?tenantId=${tenant.tenantId}`);
  assert.ok(!log.ops.some((o) => o.opId === op.opId), "the first opId never reached the server");
  assert.ok(log.ops.some((o) => o.opId === again.opId && o.applied === 1));
  page.assertClean();
});

test("§9.8: the server copy in a conflict is stripped before it is stored", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [q] = await must(page, "queries");
  await must(page, "renameQuery", q.id, { default: "Mine" });
  const [op] = await must(page, "pending");
  await pushAnswer(tenant, 200, {
    results: [
      {
        opId: op.opId,
        id: q.id,
        ok: false,
        status: 409,
        error: "version_conflict",
        current: { version: 9, name_i18n: { default: "Theirs" }, ownerId: "usr_someone_else", sql_template: "select secret" },
      },
    ],
  });
  await must(page, "push");
  const [conflict] = await must(page, "conflicts");
  assert.equal(conflict.server.name_i18n.default, "Theirs");
  assert.equal(conflict.server.sql_template, undefined, JSON.stringify(conflict.server));
  page.assertClean();
});

test("rule 10: a pulled page never lowers a version another context wrote after the page's state read", async () => {
  const tenant = await createTenant();
  const page = await synced(tenant);
  const [q] = await must(page, "queries");
  // The server renames the query (version 2): the next pulled page carries it, and the
  // client plans to put version 2 over the version 1 it reads.
  await admin("/admin/queries/rename", { tenantId: tenant.tenantId, queryId: q.id, name_i18n: { default: "Server v2" } });
  // Another context (a tab whose Web Lock was lost) settles a pushed rename between that
  // state read and the page's commit: the next readwrite transaction over Query and meta
  // (the page commit) is preceded by what a settlement writes (src/web/idb/outbox_settle.rs):
  // version 5, the raised version beside the held index and the settle epoch moved on.
  // IndexedDB runs overlapping readwrite transactions in creation order, so the page commit
  // sees it: its plan, exact at the old epoch, is refused and planned again.
  await page.evaluate((id) => {
    const original = IDBDatabase.prototype.transaction;
    let armed = true;
    IDBDatabase.prototype.transaction = function (stores, mode, options) {
      const names = Array.isArray(stores) ? stores : [stores];
      if (armed && mode === "readwrite" && names.includes("meta") && names.includes("Query")) {
        armed = false;
        const other = original.call(this, ["Query", "meta", "held_index"], "readwrite");
        other.objectStore("Query").put(
          {
            key: id,
            version: 5,
            row: { id, ownerId: "usr_alice", name_i18n: { default: "Settled by another tab" } },
          },
          id,
        );
        other.objectStore("held_index").put(5, `Query\u0000${id}`);
        const meta = other.objectStore("meta");
        const epoch = meta.get("settledEpoch");
        epoch.onsuccess = () => meta.put((epoch.result ?? 0) + 1, "settledEpoch");
        window.injected = true;
      }
      return original.call(this, stores, mode, options);
    };
  }, q.id);
  await must(page, "pull");
  assert.equal(await page.evaluate(() => window.injected), true, "the page commit was intercepted");
  const after = (await must(page, "queries")).find((x) => x.id === q.id);
  assert.equal(after.name_i18n.default, "Settled by another tab", "version 5 was not lowered to 2");
  page.assertClean();
});
