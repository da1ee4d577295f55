// The IndexedDB connection going away under a live client, in headless Chromium:
// - another tab opens the database at a higher version: the client closes its connection at
//   once (the other tab's open is not blocked), tells the app (`error` + `closed` with reason
//   `versionchange`), and never writes again (a later rename rejects `closed`, nothing lands);
// - another tab deletes the database: the same, with a `changed` wipe, and the database stays
//   deleted (the client does not recreate it);
// - the site's IndexedDB is cleared (CDP `Storage.clearDataForOrigin`, which makes Chromium
//   fire `close` on open connections): the client reopens by itself, re-syncs, and works.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
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

const SLOW = { cadence: { foregroundMs: 600_000, backgroundMs: 600_000, editDebounceMs: 600_000 } };

/** Runs a raw IndexedDB request in `page`: `open` at `version`, or `delete`; reports blocking. */
async function rawRequest(page, name, what, version) {
  return page.evaluate(
    ([n, w, v]) =>
      new Promise((resolve) => {
        const started = performance.now();
        let blocked = false;
        const request = w === "delete" ? indexedDB.deleteDatabase(n) : indexedDB.open(n, v);
        request.onblocked = () => {
          blocked = true;
        };
        request.onerror = () => resolve({ ok: false, error: String(request.error), blocked });
        request.onsuccess = () => {
          let outbox = null;
          if (w !== "delete") {
            const db = request.result;
            const count = db.transaction("outbox").objectStore("outbox").count();
            count.onsuccess = () => {
              outbox = count.result;
              db.close();
              resolve({ ok: true, blocked, ms: performance.now() - started, version: db.version, outbox });
            };
            return;
          }
          resolve({ ok: true, blocked, ms: performance.now() - started });
        };
      }),
    [name, what, version],
  );
}

const closedEvents = (page) => page.evaluate(() => window.events.filter((e) => e.type === "closed"));

test("another tab opens the database at a newer version: the client lets go at once and stops writing", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await openClient(a, clientOptions(tenant, tenant.users[0], SLOW));
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "sync on open");
  const name = await a.evaluate(() => window.client.databaseName);
  const [q] = await must(a, "queries");

  const b = await openPage(context, env.app.url);
  const upgraded = await rawRequest(b, name, "open", 1_000);
  assert.equal(upgraded.ok, true, JSON.stringify(upgraded));
  assert.equal(upgraded.blocked, false, "the client closed before the upgrade had to wait");
  assert.equal(upgraded.version, 1_000);
  assert.equal(upgraded.outbox, 0);

  await eventually(async () => (await closedEvents(a)).length === 1, 5_000, "closed event");
  assert.deepEqual(await closedEvents(a), [{ type: "closed", reason: "versionchange" }]);
  assert.ok(await a.evaluate(() => window.events.some((e) => e.type === "error" && e.code === "closed")));
  const s = await must(a, "status");
  assert.equal(s.closed, true);
  assert.equal(s.leader, false);
  const rename = await call(a, "renameQuery", q.id, { default: "Written to a dead handle?" });
  assert.equal(rename.ok, false);
  assert.equal(rename.error.code, "closed");
  assert.match(rename.error.message, /reload/);
  assert.equal((await call(a, "dashboards")).error.code, "closed");
  // Nothing reached the database the other tab now owns.
  assert.equal((await rawRequest(b, name, "open", 1_000)).outbox, 0);
  for (const p of [a, b]) p.assertClean();
  await context.close();
});

test("another tab deletes the database: the client closes, reports a wipe, and does not recreate it", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await openClient(a, clientOptions(tenant, tenant.users[0], SLOW));
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "sync on open");
  const name = await a.evaluate(() => window.client.databaseName);

  const b = await openPage(context, env.app.url);
  const deleted = await rawRequest(b, name, "delete");
  assert.deepEqual({ ok: deleted.ok, blocked: deleted.blocked }, { ok: true, blocked: false });
  await eventually(async () => (await closedEvents(a)).length === 1, 5_000, "closed event");
  assert.deepEqual(await closedEvents(a), [{ type: "closed", reason: "versionchange" }]);
  assert.ok(await a.evaluate(() => window.events.some((e) => e.type === "changed" && e.cause === "wipe" && e.kinds.length === 7)));
  assert.equal((await call(a, "sync")).error.code, "closed");
  await new Promise((r) => setTimeout(r, 500));
  const names = await b.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!names.includes(name), `${name} was recreated: ${names}`);
  for (const p of [a, b]) p.assertClean();
  await context.close();
});

test("the site's IndexedDB is cleared: the client reopens by itself, re-syncs and keeps working", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const a = await openPage(context, env.app.url);
  await openClient(a, clientOptions(tenant, tenant.users[0], SLOW));
  await eventually(async () => (await must(a, "status")).lastSyncedAt, 10_000, "sync on open");
  const dashboards = await must(a, "dashboards");
  const held = dashboards.length;
  assert.ok(held > 0);
  // First render's reads (done by the wrapper on the core's connection) before the wipe.
  const firstRender = async () => {
    const widgets = await must(a, "widgets", dashboards[0].id);
    return { widgets, latest: await Promise.all(widgets.map((w) => must(a, "latestSnapshot", w.id))) };
  };
  const before = await firstRender();
  assert.ok(before.widgets.length > 0 && before.latest.some((s) => s !== undefined));

  const cdp = await context.newCDPSession(a);
  await cdp.send("Storage.clearDataForOrigin", { origin: new URL(env.app.url).origin, storageTypes: "indexeddb" });

  // Told about the wipe, then the leader pulls everything again into the fresh database.
  await eventually(
    () => a.evaluate(() => window.events.some((e) => e.type === "changed" && e.cause === "wipe" && !e.remote)),
    5_000,
    "the wipe is reported",
  );
  await eventually(async () => (await must(a, "dashboards")).length === held, 10_000, "re-synced");
  // They read the reopened connection, not the one the browser closed.
  await eventually(async () => JSON.stringify(await firstRender()) === JSON.stringify(before), 10_000, "first render again");
  const s = await must(a, "status");
  assert.equal(s.closed, false);
  assert.equal(s.leader, true);
  assert.deepEqual(await closedEvents(a), []);
  // And it writes to the new connection.
  const [q] = await must(a, "queries");
  await must(a, "renameQuery", q.id, { default: "After the storage was cleared" });
  assert.equal((await must(a, "pending")).length, 1);
  a.assertClean();
  await context.close();
});
