// API.md dead letters: a rename the real server refused per op (404: the query was deleted)
// is a dead letter; once the query is back it can be requeued — from a follower tab, which
// writes it to the shared outbox itself and has the leader push it — as a NEW op at the end
// of the queue, re-based on the version held now; or dropped. Unknown ids are `not_found`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { admin, call, clientOptions, createTenant, must, openClient, openPage, useAppAndBrowser } from "./harness.mjs";

const env = useAppAndBrowser();

const row = (tenant, id) => admin(`/admin/rows?tenantId=${tenant.tenantId}&kind=Query&key=${id}`);

/** Renames `query` locally, deletes it on the server and pushes: resolves with the dead letter. */
async function deadLetter(page, tenant, query, name) {
  await must(page, "renameQuery", query.id, { default: name });
  await admin("/admin/rows", { tenantId: tenant.tenantId, kind: "Query", op: "tombstone", id: query.id });
  const report = await must(page, "push");
  assert.equal(report.deadLetters, 1);
  const dead = (await must(page, "deadLetters")).find((d) => d.entityId === query.id);
  assert.deepEqual([dead.source, dead.status, dead.reason], ["op", 404, "not_found"]);
  assert.equal((await must(page, "pending")).length, 0);
  return dead;
}

test("a dead letter from a real 404 is requeued from a follower, pushed by the leader, and applied", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], { autoSync: false });
  const context = await env.browser.newContext();
  const leader = await openPage(context, env.app.url);
  await openClient(leader, options);
  await must(leader, "sync");
  const follower = await openPage(context, env.app.url);
  await openClient(follower, options);
  assert.equal((await must(follower, "status")).leader, false);

  const [query] = await must(leader, "queries");
  const before = await row(tenant, query.id);
  const dead = await deadLetter(leader, tenant, query, "Requeued after a 404 (e2e)");
  assert.equal((await must(leader, "status")).deadLetters, 1);

  // The query comes back on the server (a newer version) and reaches the device.
  await admin("/admin/rows", { tenantId: tenant.tenantId, kind: "Query", op: "upsert", row: before.row });
  await must(leader, "pull");
  assert.ok((await must(leader, "queries")).some((q) => q.id === query.id));
  const revived = await row(tenant, query.id);
  assert.ok(revived.version > dead.payload.expectedVersion);

  await follower.evaluate(() => {
    window.events.length = 0;
  });
  const queued = await must(follower, "requeueDeadLetter", dead.id);
  assert.equal(queued.type, "op");
  assert.notEqual(queued.opId, dead.payload.opId, "a new op id");
  assert.equal(queued.entityId, query.id);
  assert.equal(queued.expectedVersion, revived.version, "re-based on the version held now");
  assert.equal(queued.name_i18n.default, "Requeued after a 404 (e2e)");
  assert.deepEqual(await must(follower, "deadLetters"), []);
  assert.equal((await must(leader, "status")).deadLetters, 0);
  assert.deepEqual((await must(leader, "pending")).map((p) => p.opId), [queued.opId]);
  assert.ok(
    await follower.evaluate(() => window.events.some((e) => e.type === "changed" && e.kinds.includes("Query"))),
    "the requeue is announced as a change of queries",
  );

  // The follower's push runs in the leader, which sends the requeued op.
  const report = await must(follower, "push");
  assert.deepEqual([report.opsApplied, report.deadLetters], [1, 0]);
  const server = await row(tenant, query.id);
  assert.equal(server.row.name_i18n.default, "Requeued after a 404 (e2e)");
  assert.equal(server.version, revived.version + 1);
  for (const p of [leader, follower]) p.assertClean();
  await context.close();
});

test("dropDeadLetter removes it for good; unknown ids are not_found", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  await openClient(page, clientOptions(tenant, tenant.users[0], { autoSync: false }));
  await must(page, "sync");
  const [query] = await must(page, "queries");
  const dead = await deadLetter(page, tenant, query, "Dropped (e2e)");

  const dropped = await must(page, "dropDeadLetter", dead.id);
  assert.equal(dropped.id, dead.id);
  assert.deepEqual(await must(page, "deadLetters"), []);
  assert.deepEqual(await must(page, "pending"), []);
  for (const method of ["dropDeadLetter", "requeueDeadLetter"]) {
    const r = await call(page, method, dead.id);
    assert.deepEqual([r.ok, r.error?.isSyncError, r.error?.code, r.error?.retryable], [false, true, "not_found", false], method);
  }
  assert.equal((await call(page, "requeueDeadLetter", "")).error.code, "bad_request");
  page.assertClean();
  await context.close();
});
