// status().retryAt and pushPaused (API.md). Retry-After is binding on every path (PROTOCOL
// §9.5): after a 429 no request leaves before `retryAt` — not an explicit call, not the
// cadence, not the online/visible/edit triggers, not a follower's forwarded call — and then
// automatic sync resumes by itself. A revoked access shows as pushPaused "access_revoked".
import { test } from "node:test";
import assert from "node:assert/strict";
import { admin, call, clientOptions, createTenant, eventually, must, openClient, openPage, useAppAndBrowser } from "./harness.mjs";

const env = useAppAndBrowser();

test("after a 429 nothing leaves before retryAt, on any path; then autosync resumes", async () => {
  const tenant = await createTenant();
  const options = clientOptions(tenant, tenant.users[0], {
    maxAttempts: 1,
    cadence: { foregroundMs: 500, backgroundMs: 500, editDebounceMs: 100 },
  });
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/status of 429/]);
  const sent = [];
  page.on("request", (r) => {
    if (r.url().includes("/internal/sync/")) sent.push(Date.now());
  });
  await openClient(page, options);
  await eventually(async () => (await must(page, "status")).lastSyncedAt, 10_000, "sync on open");
  const follower = await openPage(context, env.app.url, [/status of 429/]);
  await openClient(follower, options);

  // Let a cadence run finish, then make the next pull answer 429 + Retry-After: 4.
  await admin("/admin/faults", { tenantId: tenant.tenantId, target: "pull", count: 1, fault: { type: "rate_limit", retryAfter: 4 } });
  const limited = await eventually(
    async () => {
      const s = await must(page, "status");
      return s.retryAt ? s : false;
    },
    5_000,
    "an automatic sync met the 429",
  );
  const answeredAt = sent[sent.length - 1];
  const retryAt = Date.parse(limited.retryAt);
  assert.ok(retryAt - answeredAt >= 3_000 && retryAt - answeredAt <= 4_500, `retryAt ${limited.retryAt}`);
  assert.equal(limited.lastError?.code, "rate_limited");
  const count = sent.length;

  // An explicit call, here and in a follower, is refused without sending anything.
  const r = await call(page, "sync");
  assert.deepEqual([r.ok, r.error.code, r.error.retryable], [false, "rate_limited", true]);
  const waitMs = await page.evaluate(() => window.client.sync().catch((e) => e.retryAfterMs));
  assert.ok(waitMs > 0 && waitMs <= 4_000, `retryAfterMs ${waitMs}`);
  assert.equal((await call(follower, "pull")).error.code, "rate_limited");
  assert.equal((await must(follower, "status")).retryAt, limited.retryAt);
  // Triggers: online, visible, a local edit, the 500 ms cadence.
  await page.evaluate(() => {
    window.dispatchEvent(new Event("online"));
    document.dispatchEvent(new Event("visibilitychange"));
  });
  const [query] = await must(page, "queries");
  await must(page, "renameQuery", query.id, { default: "Edited while rate limited (e2e)" });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryAt - Date.now() - 300)));
  assert.equal(sent.length, count, "no request before retryAt");

  // Then it syncs again by itself, and pushes the edit.
  const after = await eventually(
    async () => {
      const s = await must(page, "status");
      return s.pending === 0 && !s.syncing && s.lastError === null ? s : false;
    },
    10_000,
    "the edit is pushed and the sync completes after retryAt",
  );
  assert.ok(sent[count] >= retryAt - 50, `first request ${sent[count] - retryAt} ms after retryAt`);
  assert.equal(after.retryAt, null);
  for (const p of [page, follower]) p.assertClean();
  await context.close();
});

test("pushPaused is access_revoked while access is revoked, null again once restored", async () => {
  const tenant = await createTenant();
  const context = await env.browser.newContext();
  const page = await openPage(context, env.app.url, [/status of 403/]);
  await openClient(page, clientOptions(tenant, tenant.users[0], { autoSync: false }));
  await must(page, "sync");
  assert.equal((await must(page, "status")).pushPaused, null);

  await admin("/admin/revoke", { tenantId: tenant.tenantId, userId: tenant.users[0].userId });
  assert.equal((await call(page, "sync")).error.code, "forbidden");
  const revoked = await must(page, "status");
  assert.deepEqual([revoked.accessRevoked, revoked.pushPaused], [true, "access_revoked"]);

  await admin("/admin/restore", { tenantId: tenant.tenantId, userId: tenant.users[0].userId });
  await must(page, "sync");
  const restored = await must(page, "status");
  assert.deepEqual([restored.accessRevoked, restored.pushPaused], [false, null]);
  page.assertClean();
  await context.close();
});
