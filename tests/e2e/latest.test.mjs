// First render reads `widgets(dashboardId)` and the newest snapshot of each widget. Both are
// read by the wrapper itself (pkg/src/idb-reads.ts) on the connection the wasm core holds,
// and resolve the stored `.row` objects; `latestSnapshot` calls made in the same tick are read
// together, in one readonly IndexedDB transaction, behind the unchanged public method. Each
// caller still gets its own answer: what the wasm reads answered (same rows, same key order,
// same order, `undefined`/`[]` where none), 48 concurrent calls answer what 48 sequential ones
// do (in a leader and in a follower tab), an invalid id rejects only its own caller with the
// same SyncError as alone, a failed batched read rejects every caller of that batch with its
// error, a record sync-core never wrote fails as corrupt, and a closed client rejects `closed`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { call, clientOptions, createTenant, launch, must, openClient, openPage, serveConsumer } from "./harness.mjs";

let app;
let browser;
let context;
let leader;
let follower;
let tenant;
let ids;

/**
 * Counts the readonly transactions over the snapshot store that the page opens (the wasm
 * calls the prototype method); other reads (status counters) are not counted.
 */
async function countTransactions(page) {
  await page.evaluate(() => {
    const real = IDBDatabase.prototype.transaction;
    window.readTransactions = 0;
    IDBDatabase.prototype.transaction = function (names, mode, ...rest) {
      const stores = typeof names === "string" ? [names] : [...names];
      if ((mode === undefined || mode === "readonly") && stores.includes("WidgetSnapshot")) window.readTransactions += 1;
      return real.call(this, names, mode, ...rest);
    };
  });
}

/** Every id read one call at a time, then all at once; with the readonly transactions of each. */
async function sequentialAndConcurrent(page, widgetIds) {
  return page.evaluate(async (list) => {
    window.readTransactions = 0;
    const sequential = [];
    for (const id of list) sequential.push((await window.client.latestSnapshot(id)) ?? null);
    const sequentialTx = window.readTransactions;
    window.readTransactions = 0;
    const concurrent = (await Promise.all(list.map((id) => window.client.latestSnapshot(id)))).map((s) => s ?? null);
    return { sequential, sequentialTx, concurrent, concurrentTx: window.readTransactions };
  }, widgetIds);
}

before(async () => {
  app = await serveConsumer();
  browser = await launch();
  tenant = await createTenant({ dashboards: 6, widgetsPerDashboard: 8, snapshotsPerWidget: 3 });
  context = await browser.newContext();
  const options = clientOptions(tenant, tenant.users[0], { autoSync: false });
  leader = await openPage(context, app.url);
  await openClient(leader, options);
  await must(leader, "pull");
  ids = [];
  for (const d of await must(leader, "dashboards")) {
    for (const w of await must(leader, "widgets", d.id)) ids.push(w.id);
  }
  follower = await openPage(context, app.url);
  await openClient(follower, options);
  await countTransactions(leader);
  await countTransactions(follower);
});
after(async () => {
  try {
    leader?.assertClean();
    follower?.assertClean();
  } finally {
    await context?.close();
    await browser?.close();
    await app?.close();
  }
});

test("48 concurrent latestSnapshot calls answer what 48 sequential ones do, in one transaction", async () => {
  assert.equal(ids.length, 48, "the tenant has 48 widgets");
  // A missing widget and a repeat ride along.
  const asked = [...ids, "wid_missing", ids[5]];
  const r = await sequentialAndConcurrent(leader, asked);
  assert.deepEqual(r.concurrent, r.sequential);
  const held = r.sequential.filter((s) => s !== null);
  assert.ok(held.length >= 40, `most widgets have a snapshot (${held.length})`);
  held.forEach((s) => assert.ok(asked.includes(s.widgetId)));
  r.sequential.forEach((s, i) => s && assert.equal(s.widgetId, asked[i]));
  assert.equal(r.sequential.at(-2), null, "wid_missing");
  // The newest of each: no held snapshot of that widget is newer.
  for (const [i, id] of ids.slice(0, 6).entries()) {
    const all = await must(leader, "snapshots", id);
    assert.deepEqual(r.sequential[i] ?? undefined, all[0], id);
  }
  assert.equal(r.sequentialTx, asked.length, "one transaction per sequential call");
  assert.equal(r.concurrentTx, 1, "the concurrent calls shared one transaction");
});

/** Every dashboard's widgets and the newest snapshot of each, as the client answers them. */
async function firstRenderOf(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const d of await window.client.dashboards()) {
      const widgets = await window.client.widgets(d.id);
      const latest = await Promise.all(widgets.map((w) => window.client.latestSnapshot(w.id)));
      // `snapshots` is still read through wasm: its newest is what `latestSnapshot` answered
      // before it moved to the wrapper.
      const viaWasm = await Promise.all(widgets.map(async (w) => (await window.client.snapshots(w.id))[0]));
      out.push({ dashboardId: d.id, widgets, latest: latest.map((s) => s ?? null), viaWasm: viaWasm.map((s) => s ?? null) });
    }
    return {
      out,
      // Key order survives postMessage-free JSON text; compared as text below.
      text: JSON.stringify(out.map((o) => [o.widgets, o.latest])),
      wasmText: JSON.stringify(out.map((o) => [o.widgets, o.viaWasm])),
      missing: [await window.client.widgets("dsh_missing"), (await window.client.latestSnapshot("wid_missing")) ?? null],
    };
  });
}

/** The `.row` of every stored Widget record of each dashboard, read with raw IndexedDB. */
async function storedWidgets(page) {
  return page.evaluate(
    (name) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const r = db.transaction("Widget").objectStore("Widget").getAll();
          r.onsuccess = () => {
            db.close();
            const by = {};
            // What the read answers: the stored row with its item version (PROTOCOL §2).
            for (const record of r.result) {
              (by[record.dashboardId] ??= []).push({ ...record.row, version: record.version });
            }
            resolve(by);
          };
          r.onerror = () => reject(r.error);
        };
      }),
    await page.evaluate(() => window.client.databaseName),
  );
}

test("widgets and latestSnapshot answer the stored rows, as the wasm reads did", async () => {
  const r = await firstRenderOf(leader);
  assert.equal(r.out.length, 6);
  const stored = await storedWidgets(leader);
  for (const d of r.out) {
    assert.equal(d.widgets.length, 8, d.dashboardId);
    // The stored rows of that dashboard, in primary-key order (the index's order for one key).
    assert.deepEqual(d.widgets, stored[d.dashboardId], d.dashboardId);
    for (const w of d.widgets) {
      assert.equal(w.dashboardId, d.dashboardId);
      // Keys as serde printed them (sorted): what the wasm read built; then the version.
      const keys = Object.keys(w);
      assert.equal(keys.pop(), "version");
      assert.deepEqual(keys, [...keys].sort(), w.id);
    }
    d.latest.forEach((s, i) => s && assert.equal(s.widgetId, d.widgets[i].id));
  }
  // Same snapshots, same key order, as the newest one the wasm `snapshots` read answers.
  assert.equal(r.text, r.wasmText);
  assert.ok(r.out.flatMap((d) => d.latest).filter((s) => s !== null).length >= 40);
  assert.deepEqual(r.missing, [[], null]);
  // A follower reads the same.
  assert.deepEqual((await firstRenderOf(follower)).text, r.text);
});

test("a stored record sync-core never wrote fails the read as corrupt, as its decoding did", async () => {
  const r = await leader.evaluate(async (good) => {
    const name = window.client.databaseName;
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const put = (store, value, key) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(store, "readwrite");
        tx.objectStore(store).put(value, key);
        tx.oncomplete = resolve;
        tx.onabort = () => reject(tx.error);
      });
    const remove = (store, key) =>
      new Promise((resolve) => {
        const tx = db.transaction(store, "readwrite");
        tx.objectStore(store).delete(key);
        tx.oncomplete = resolve;
      });
    const settle = async (p) => {
      try {
        return { ok: true, value: (await p) ?? null };
      } catch (e) {
        return { ok: false, code: e.code, retryable: e.retryable, message: e.message, isSyncError: e instanceof window.syncCore.SyncError };
      }
    };
    await put("WidgetSnapshot", { widgetId: "wid_corrupt", generatedAt: "2026-01-01T00:00:00Z", paramsHash: "p", rowsDigest: "d" }, ["wid_corrupt", "2026-01-01T00:00:00Z"]);
    await put("Widget", { key: "wid_corrupt", version: 1, dashboardId: "dsh_corrupt", row: "not an object" }, "wid_corrupt");
    const snapshot = await Promise.all([settle(window.client.latestSnapshot("wid_corrupt")), settle(window.client.latestSnapshot(good))]);
    const widgets = await settle(window.client.widgets("dsh_corrupt"));
    await remove("WidgetSnapshot", ["wid_corrupt", "2026-01-01T00:00:00Z"]);
    await remove("Widget", "wid_corrupt");
    db.close();
    return { snapshot, widgets, after: await settle(window.client.widgets("dsh_corrupt")) };
  }, ids[0]);
  for (const e of [r.snapshot[0], r.snapshot[1], r.widgets]) {
    assert.equal(e.ok, false, JSON.stringify(e));
    assert.equal(e.isSyncError, true);
    assert.equal(e.code, "storage_unavailable");
    assert.equal(e.retryable, false);
    assert.match(e.message, /stored data is corrupt/);
  }
  assert.deepEqual(r.after, { ok: true, value: [] });
});

test("a follower tab coalesces its own calls the same way", async () => {
  assert.equal((await must(follower, "status")).leader, false);
  const r = await sequentialAndConcurrent(follower, ids);
  assert.deepEqual(r.concurrent, r.sequential);
  const fromLeader = await sequentialAndConcurrent(leader, ids);
  assert.deepEqual(r.concurrent, fromLeader.sequential);
  assert.equal(r.concurrentTx, 1);
});

test("a bad id among good ones rejects only its own caller, with the error it gets alone", async () => {
  const alone = await call(leader, "latestSnapshot", "");
  assert.equal(alone.ok, false);
  assert.equal(alone.error.code, "bad_request");
  const r = await leader.evaluate(async (list) => {
    const asked = [list[0], "", list[1], null, "wid_missing", 42, list[2]];
    const settled = await Promise.allSettled(asked.map((id) => window.client.latestSnapshot(id)));
    return settled.map((s) =>
      s.status === "fulfilled"
        ? { ok: true, value: s.value ?? null }
        : {
            ok: false,
            error: {
              isSyncError: s.reason instanceof window.syncCore.SyncError,
              code: s.reason.code,
              message: s.reason.message,
              retryable: s.reason.retryable,
            },
          },
    );
  }, ids);
  const good = [0, 2, 4, 6];
  const bad = [1, 3, 5];
  for (const i of bad) {
    assert.equal(r[i].ok, false, `caller ${i}`);
    assert.deepEqual(r[i].error, { isSyncError: true, code: "bad_request", message: alone.error.message, retryable: false });
  }
  const expected = [ids[0], null, ids[1], null, "wid_missing", null, ids[2]];
  for (const i of good) {
    assert.equal(r[i].ok, true, `caller ${i}: ${JSON.stringify(r[i].error)}`);
    const lone = await must(leader, "latestSnapshot", expected[i]);
    assert.deepEqual(r[i].value, lone ?? null, `caller ${i}`);
  }
  assert.equal(r[4].value, null);
  assert.ok(r[0].value !== null && r[6].value !== null);
});

test("a failed batched read rejects every caller with that error; the next tick reads again", async () => {
  const r = await follower.evaluate(async (list) => {
    // Every cursor request throws while the fault is on, as a broken backing store would.
    const real = IDBObjectStore.prototype.openCursor;
    IDBObjectStore.prototype.openCursor = function () {
      throw new DOMException("injected read failure", "UnknownError");
    };
    let settled;
    try {
      settled = await Promise.allSettled(list.slice(0, 10).map((id) => window.client.latestSnapshot(id)));
    } finally {
      IDBObjectStore.prototype.openCursor = real;
    }
    const after = await Promise.all(list.slice(0, 10).map((id) => window.client.latestSnapshot(id)));
    return {
      errors: settled.map((s) =>
        s.status === "rejected"
          ? { isSyncError: s.reason instanceof window.syncCore.SyncError, code: s.reason.code, message: s.reason.message }
          : { fulfilled: true },
      ),
      after: after.filter((s) => s !== undefined).length,
    };
  }, ids);
  assert.equal(r.errors.length, 10);
  for (const e of r.errors) {
    assert.equal(e.isSyncError, true, JSON.stringify(e));
    assert.match(e.message, /injected read failure/);
    assert.deepEqual(e, r.errors[0]);
  }
  assert.ok(r.after >= 8, `reads work again (${r.after} of 10 held)`);
});

test("calls on a closed client all reject with closed", async () => {
  const r = await follower.evaluate(async (list) => {
    window.client.close();
    const settled = await Promise.allSettled([
      ...[...list.slice(0, 5), ""].map((id) => window.client.latestSnapshot(id)),
      window.client.widgets("dsh_any"),
      window.client.widgets(""),
    ]);
    return settled.map((s) => (s.status === "rejected" ? s.reason.code : "fulfilled"));
  }, ids);
  assert.deepEqual(r, ["closed", "closed", "closed", "closed", "closed", "closed", "closed", "closed"]);
});
