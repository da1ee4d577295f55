// End-to-end tests of the demo backoffice (www/) in headless Chromium against its own reference
// server, which these tests stop and start (offline scenarios), so it is not the shared server
// of run.sh. Every test saves a screenshot and fails on any console error it did not cause on
// purpose; with UPDATE_DEMO_PNG=1 the first one also writes docs/demo.png, the README's screenshot.
//
// Needs: www/dist built (`make www`) and target/debug/sync-server. Run: `make test-demo`
// (www/test-e2e.sh sets DEMO_E2E=1). tests/e2e/run.sh (`make test-pkg`) globs *.test.mjs too;
// there these tests skip, since nothing built the page for them.
import { after, before, test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveDist } from "../../www/serve.mjs";
import { ADMIN_TOKEN, eventually, launch } from "./harness.mjs";

const test = process.env.DEMO_E2E === "1" ? nodeTest : (name, fn) => nodeTest(name, { skip: "run by make test-demo" }, fn);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PORT = Number(process.env.DEMO_TEST_PORT ?? 18798);
const SERVER = `http://127.0.0.1:${PORT}`;
const SERVER_BIN = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "debug", "sync-server");
const SHOTS = join(ROOT, "tests/e2e/test-results");
/** Console noise a test causes on purpose (a stopped server, an offline context, a revocation). */
const NETWORK_DOWN = [/ERR_CONNECTION_REFUSED/, /ERR_INTERNET_DISCONNECTED/, /ERR_CONNECTION_RESET/, /ERR_EMPTY_RESPONSE/];

let dbDir;
let server;
let app;
let browser;

async function healthy() {
  try {
    return (await fetch(`${SERVER}/healthz`)).ok;
  } catch {
    return false;
  }
}

/** Starts the reference server on the test database (seeded with tnt_demo on first start). */
async function startServer() {
  if (await healthy()) throw new Error(`something already answers on ${SERVER}; set DEMO_TEST_PORT`);
  const child = spawn(
    SERVER_BIN,
    // A fixed cursor key: the page's stored cursors must stay valid across the restarts.
    ["serve", "--db", join(dbDir, "demo.db"), "--port", String(PORT), "--host", "127.0.0.1", "--cursor-key", "sync-core-demo-e2e-cursor-key",
     "--admin", "--admin-token", ADMIN_TOKEN, "--seed-demo", "--no-generator"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (d) => {
    log = (log + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  server = { child, exited, log: () => log };
  await eventually(async () => (child.exitCode !== null ? Promise.reject(new Error(`sync-server exited: ${log}`)) : healthy()), 30_000, "sync-server healthy");
}

async function stopServer() {
  if (!server) return;
  server.child.kill("SIGTERM");
  await server.exited;
  server = undefined;
}

async function admin(path, body) {
  const response = await fetch(`${SERVER}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

let tenants = 0;
/** A fresh tenant per test, so tests never see each other's edits. */
async function createTenant() {
  tenants += 1;
  const tenantId = `tnt_demo_e2e_${Date.now().toString(36)}_${tenants}`;
  const t = await admin("/admin/tenants", {
    tenantId,
    users: 2,
    dashboards: 3,
    widgetsPerDashboard: 8,
    snapshotsPerWidget: 2,
    alerts: 2,
    queries: 4,
    seed: 3,
  });
  return { tenantId: t.tenantId, userId: t.users[0].userId, token: t.users[0].token };
}

function pageUrl(identity) {
  const q = new URLSearchParams({ baseUrl: SERVER, tenantId: identity.tenantId, userId: identity.userId, token: identity.token });
  return `${app.url}?${q}`;
}

/** Opens the demo page; `page.assertClean()` fails on console errors not matched by `allow`. */
async function openDemo(context, identity, allow = []) {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !allow.some((re) => re.test(m.text()))) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.assertClean = () => assert.deepEqual(problems, [], "console errors");
  await page.goto(pageUrl(identity));
  return page;
}

/** Waits until the grid shows every widget the local cache holds for the selected dashboard. */
async function gridRendered(page) {
  return eventually(
    () =>
      page.evaluate(async () => {
        const grid = document.getElementById("grid");
        const id = grid?.dataset.dashboardId;
        if (!id || !window.demo) return null;
        const widgets = await window.demo.client.widgets(id);
        const shown = [...grid.querySelectorAll(".widget")].map((n) => n.getAttribute("data-widget-id"));
        const same = widgets.length > 0 && shown.length === widgets.length && widgets.every((w) => shown.includes(w.id));
        return same ? shown : null;
      }),
    30_000,
    "every widget of the dashboard on screen",
  );
}

/** The first sync finished (cold start drained) and the page shows it. */
async function synced(page) {
  await eventually(async () => (await conn(page)) === "online" && (await page.evaluate(() => window.demo?.client.status().then((s) => s.lastSyncedAt !== null))), 30_000, "first sync");
  return gridRendered(page);
}

const conn = (page) => page.locator("#conn").getAttribute("data-conn");
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `demo-${name}.png`) });

before(async () => {
  if (process.env.DEMO_E2E !== "1") return;
  dbDir = await mkdtemp(join(tmpdir(), "sync-demo-e2e-"));
  await mkdir(SHOTS, { recursive: true });
  await startServer();
  app = await serveDist(join(ROOT, "www/dist"));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await stopServer();
  if (dbDir) await rm(dbDir, { recursive: true, force: true });
});

test("first load: cold start shows progress, then every widget of the seeded demo tenant", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Slow pages down a little so the cold-start progress bar is on screen long enough to see.
  await context.route("**/internal/sync/pull**", async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  const page = await openDemo(context, { tenantId: "tnt_demo", userId: "usr_alice", token: "tok_alice" });
  await page.locator("#progress:not([hidden])").waitFor({ timeout: 20_000 });
  const ids = await synced(page);
  assert.ok(ids.length >= 4, `widgets: ${ids.length}`);
  await page.locator("#progress").waitFor({ state: "hidden", timeout: 20_000 });
  // Every card drew its content: a KPI value or an SVG chart, never raw text dumps.
  const drawn = await page.$$eval(".widget", (nodes) =>
    nodes.map((n) => ({ type: n.getAttribute("data-type"), ok: n.querySelector(".kpi-value, svg.chart") !== null })),
  );
  assert.ok(drawn.every((d) => d.ok), JSON.stringify(drawn));
  const types = new Set(drawn.map((d) => d.type));
  assert.ok(types.has("kpi") && types.size >= 3, [...types].join(","));
  assert.match((await page.locator("#asof").textContent()) ?? "", /^Data as of /);
  const options = await page.locator("#dashboard option").count();
  assert.equal(options, await page.evaluate(() => window.demo.client.dashboards().then((d) => d.length)));
  assert.ok(options >= 6, `dashboards: ${options}`);
  await page.locator('[data-banner="dq"]').waitFor();
  await page.unroute("**/internal/sync/pull**");
  await shot(page, "first-load");
  // The README's screenshot is refreshed on request only, so test runs leave the tree clean.
  if (process.env.UPDATE_DEMO_PNG === "1") await page.screenshot({ path: join(ROOT, "docs/demo.png") });
  await page.setViewportSize({ width: 420, height: 900 });
  await shot(page, "narrow");
  page.assertClean();
  await context.close();
});

test("reload with the server stopped renders the same widgets from the cache, offline", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, NETWORK_DOWN);
  const before = await synced(page);
  await stopServer();
  try {
    await page.reload();
    const afterReload = await gridRendered(page);
    assert.deepEqual(afterReload, before);
    await eventually(async () => (await conn(page)) === "offline", 30_000, "offline indicator");
    assert.equal(await page.locator("#conn").textContent(), "Offline");
    await shot(page, "offline");
    page.assertClean();
  } finally {
    await startServer();
  }
  await context.close();
});

/** Renames the query at `index` of the saved-queries list through the inline editor. */
async function renameInUi(page, queryId, name) {
  const row = page.locator(`.query[data-query-id="${queryId}"]`);
  await row.getByRole("button", { name: "Rename" }).click();
  await row.locator("input.rename-input").fill(name);
  await row.locator("input.rename-input").press("Enter");
  await page.locator(`.query[data-query-id="${queryId}"] .query-name`, { hasText: name }).waitFor();
}

async function serverName(tenantId, queryId) {
  const r = await admin(`/admin/rows?tenantId=${tenantId}&kind=Query&key=${queryId}`);
  return r.row.name_i18n.default;
}

test("a rename made offline reaches the server and another device", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, NETWORK_DOWN);
  await synced(page);
  const queryId = await page.locator(".query").first().getAttribute("data-query-id");
  assert.ok(queryId);
  await stopServer();
  const name = "Weekend pickup <b>report</b>";
  try {
    await renameInUi(page, queryId, name);
    await page.locator(".query-note", { hasText: "Will sync when online" }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#pending").getAttribute("data-count"), "1");
    await shot(page, "rename-offline");
  } finally {
    await startServer();
  }
  await page.locator("#sync").click();
  await page.locator('#pending[data-count="0"]').waitFor({ timeout: 30_000 });
  assert.equal(await serverName(identity.tenantId, queryId), name);
  // The name is text, not markup.
  assert.equal(await page.locator(`.query[data-query-id="${queryId}"] .query-name b`).count(), 0);

  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const second = await openDemo(other, identity);
  await gridRendered(second);
  const device = await second.evaluate(() => localStorage.getItem("sync-core-demo.deviceId"));
  const first = await page.evaluate(() => localStorage.getItem("sync-core-demo.deviceId"));
  assert.notEqual(device, first, "two browser contexts are two devices");
  await second.locator(`.query[data-query-id="${queryId}"] .query-name`, { hasText: name }).waitFor({ timeout: 20_000 });
  await shot(second, "rename-second-device");
  page.assertClean();
  second.assertClean();
  await other.close();
  await context.close();
});

test("a server-side rename while offline prompts a conflict; keep mine and take theirs both settle", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, NETWORK_DOWN);
  await synced(page);
  const ids = await page.$$eval(".query", (nodes) => nodes.map((n) => n.getAttribute("data-query-id")));
  assert.ok(ids.length >= 2, `queries: ${ids.length}`);
  const [keepId, takeId] = ids;

  await context.setOffline(true);
  await renameInUi(page, keepId, "Mine: arrivals");
  await renameInUi(page, takeId, "Mine: pickup");
  await admin("/admin/queries/rename", { tenantId: identity.tenantId, queryId: keepId, name_i18n: { default: "Theirs: arrivals" } });
  await admin("/admin/queries/rename", { tenantId: identity.tenantId, queryId: takeId, name_i18n: { default: "Theirs: pickup" } });
  await context.setOffline(false);
  await page.locator("#sync").click();

  const prompt = (id) => page.locator(`.conflict:has(.conflict-mine)`).filter({ hasText: id === keepId ? "arrivals" : "pickup" });
  await prompt(keepId).waitFor({ timeout: 30_000 });
  await prompt(takeId).waitFor({ timeout: 30_000 });
  assert.equal(await prompt(keepId).locator(".conflict-theirs").textContent(), "Theirs: arrivals");
  await shot(page, "conflict");

  await prompt(keepId).getByRole("button", { name: "Keep mine" }).click();
  await prompt(takeId).getByRole("button", { name: "Take theirs" }).click();
  await page.locator(".conflict").first().waitFor({ state: "detached", timeout: 20_000 });
  await page.locator("#sync").click();
  await eventually(async () => (await serverName(identity.tenantId, keepId)) === "Mine: arrivals", 30_000, "keep mine reaches the server");
  assert.equal(await serverName(identity.tenantId, takeId), "Theirs: pickup");
  await page.locator(`.query[data-query-id="${takeId}"] .query-name`, { hasText: "Theirs: pickup" }).waitFor({ timeout: 20_000 });
  await page.locator('#pending[data-count="0"]').waitFor({ timeout: 30_000 });
  page.assertClean();
  await context.close();
});

test("an epoch bump re-downloads and re-renders the reset kind", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity);
  const before = await synced(page);
  const renders = Number(await page.locator("#grid").getAttribute("data-renders"));
  await admin("/admin/epoch", { tenantId: identity.tenantId, userId: identity.userId, kind: "Widget" });
  await page.locator("#sync").click();
  await page.locator('[data-banner="notice"]', { hasText: "The server reset Widget" }).waitFor({ timeout: 30_000 });
  await eventually(async () => Number(await page.locator("#grid").getAttribute("data-renders")) > renders, 10_000, "re-render");
  assert.deepEqual(await gridRendered(page), before);
  await shot(page, "epoch");
  page.assertClean();
  await context.close();
});

test("a revocation shows access revoked and empties the grid", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, [/status of 403/]);
  await synced(page);
  await admin("/admin/revoke", { tenantId: identity.tenantId, userId: identity.userId });
  await page.locator("#sync").click();
  await eventually(async () => (await conn(page)) === "revoked", 30_000, "revoked indicator");
  assert.equal(await page.locator("#conn").textContent(), "Access revoked");
  await page.locator('[data-banner="revoked"]').waitFor();
  assert.equal(await page.locator(".widget").count(), 0);
  assert.equal(await page.locator("#dashboard option").count(), 0);
  await shot(page, "revoked");
  page.assertClean();
  await context.close();
});

test("refresh now pulls everything again and shows the server's rate limit when hit", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, [/status of 429/]);
  const before = await synced(page);
  await page.locator("#refresh").click();
  await page.locator('[data-banner="notice"]', { hasText: "Refreshed everything" }).waitFor({ timeout: 30_000 });
  assert.deepEqual(await gridRendered(page), before);
  // A Retry-After longer than the engine waits by itself (60 s) comes back as rate_limited.
  await admin("/admin/faults", { tenantId: identity.tenantId, target: "pull", count: 1, fault: { type: "rate_limit", retryAfter: 120 } });
  await page.locator("#refresh:not([disabled])").click();
  await page.locator('[data-banner="notice"]', { hasText: /Rate limited by the server — try again in 2 min/ }).waitFor({ timeout: 30_000 });
  assert.deepEqual(await gridRendered(page), before, "a refused refresh keeps the cached grid");
  await shot(page, "rate-limited");
  page.assertClean();
  await context.close();
});

test("a rename the server refuses for good shows up under Not saved", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity, [...NETWORK_DOWN, /status of 404/]);
  await synced(page);
  const queryId = await page.locator(".query").first().getAttribute("data-query-id");
  await context.setOffline(true);
  await renameInUi(page, queryId, "Renamed after deletion");
  await admin("/admin/rows", { tenantId: identity.tenantId, kind: "Query", op: "tombstone", id: queryId });
  await context.setOffline(false);
  await page.locator("#sync").click();
  await page.locator("#dead-panel:not([hidden])").waitFor({ timeout: 30_000 });
  await page.locator(`[data-dead-letter-id]`, { hasText: queryId }).waitFor();
  assert.equal(await page.locator("#dead-count").textContent(), "1");
  await page.locator('#pending[data-count="0"]').waitFor({ timeout: 30_000 });
  await shot(page, "dead-letter");
  page.assertClean();
  await context.close();
});

test("a widget older than its freshness alert marks the dashboard stale", async () => {
  const identity = await createTenant();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openDemo(context, identity);
  const [widgetId] = await synced(page);
  // Whether seeded data is already stale depends on the wall clock against the seed's snapshot
  // times, so no precondition here: the widget must end up marked stale after the tightening.
  // Tighten the widget's freshness alert to one minute: its seeded snapshots are older.
  const { row } = await admin(`/admin/rows?tenantId=${identity.tenantId}&kind=Widget&key=${widgetId}`);
  await admin("/admin/rows", { tenantId: identity.tenantId, kind: "Widget", op: "upsert", row: { ...row, freshness: { targetMinutes: 1, alertAtMinutes: 1 } } });
  await page.locator("#sync").click();
  await page.locator('[data-banner="stale"]').waitFor({ timeout: 30_000 });
  await page.locator(`.widget.is-stale[data-widget-id="${widgetId}"]`).waitFor();
  assert.equal(await page.locator("#asof").getAttribute("data-stale"), "true");
  await shot(page, "stale");
  page.assertClean();
  await context.close();
});
