// PROTOCOL §9.9: the host's `getToken` is bounded. A callback that never settles makes
// `sync()` reject with a retryable `token_timeout` within `tokenTimeoutMs` (not hang), the
// queued rename stays queued, status says why, and the next sync with a working callback
// pushes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { call, clientOptions, createTenant, must, openPage, useAppAndBrowser } from "./harness.mjs";

const env = useAppAndBrowser();

/** Opens `window.client` whose getToken hangs while `window.tokenHangs` is true. */
async function openWithSwitchableToken(page, options) {
  await page.evaluate(async (o) => {
    const { token, ...rest } = o;
    window.tokenHangs = false;
    window.tokenCalls = 0;
    window.client = await window.syncCore.SyncClient.open({
      ...rest,
      getToken: () => {
        window.tokenCalls += 1;
        return window.tokenHangs ? new Promise(() => {}) : Promise.resolve(token);
      },
    });
  }, options);
}

test("a getToken that never settles: sync rejects token_timeout in time, the outbox stays, a later sync works", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  await openWithSwitchableToken(page, clientOptions(tenant, tenant.users[0], { autoSync: false, tokenTimeoutMs: 500 }));
  await must(page, "sync");
  const [query] = await must(page, "queries");
  assert.ok(query);
  await must(page, "renameQuery", query.id, { default: "Renamed behind a stuck token (e2e)" });

  await page.evaluate(() => {
    window.tokenHangs = true;
  });
  const started = Date.now();
  const r = await page.evaluate(async () => {
    const deadline = new Promise((resolve) => setTimeout(() => resolve({ hung: true }), 15_000));
    const attempt = window.client.sync().then(
      () => ({ ok: true }),
      (e) => ({ ok: false, isSyncError: e instanceof window.syncCore.SyncError, code: e.code, retryable: e.retryable }),
    );
    return Promise.race([attempt, deadline]);
  });
  const elapsed = Date.now() - started;
  assert.deepEqual(r, { ok: false, isSyncError: true, code: "token_timeout", retryable: true });
  assert.ok(elapsed < 5_000, `sync took ${elapsed} ms with tokenTimeoutMs 500`);
  const pending = await must(page, "pending");
  assert.equal(pending.length, 1);
  assert.equal(pending[0].entityId, query.id);
  assert.equal((await must(page, "deadLetters")).length, 0);
  const status = await must(page, "status");
  assert.equal(status.syncing, false);
  assert.equal(status.lastError?.code, "token_timeout");

  await page.evaluate(() => {
    window.tokenHangs = false;
  });
  const report = await must(page, "sync");
  assert.equal(report.push.opsApplied, 1);
  assert.equal((await must(page, "pending")).length, 0);
  const after = (await must(page, "queries")).find((q) => q.id === query.id);
  assert.equal(after.name_i18n.default, "Renamed behind a stuck token (e2e)");
  assert.equal((await must(page, "status")).lastError, null);
  page.assertClean();
  await context.close();
});

test("tokenTimeoutMs is checked when opening", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url);
  const r = await page.evaluate(async (o) => {
    const { token, ...rest } = o;
    return window.syncCore.SyncClient.open({ ...rest, getToken: async () => token }).then(
      () => ({ ok: true }),
      (e) => ({ ok: false, code: e.code }),
    );
  }, clientOptions(tenant, tenant.users[0], { autoSync: false, tokenTimeoutMs: -1 }));
  assert.deepEqual(r, { ok: false, code: "bad_request" });
  page.assertClean();
  await context.close();
});
