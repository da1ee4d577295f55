// Shared set-up of the package e2e tests: a static server for the consumer's Vite build, the
// reference server's admin API (a fresh tenant per test, so every test has its own database),
// headless Chromium through playwright-core, and pages that fail the test on any console
// error or uncaught exception.
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { chromiumOptions } from "../../scripts/chromium-options.mjs";
import { serveStatic } from "../../scripts/static-server.mjs";

export const SERVER_URL = process.env.SYNC_SERVER_URL ?? "http://127.0.0.1:18797";
/** The admin token the server was started with (`tests/e2e/run.sh` sets both). */
export const ADMIN_TOKEN = process.env.SYNC_ADMIN_TOKEN ?? "sync-core-e2e-admin-token";
const ADMIN_HEADERS = { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` };
const DIST = fileURLToPath(new URL("../consumer/dist/", import.meta.url));
/** Serves tests/consumer/dist on a free port of 127.0.0.1 (a localhost origin the server's CORS allows). */
export function serveConsumer() {
  return serveStatic(DIST);
}

let tenantCounter = 0;

/** Creates a small tenant on the reference server; resolves with its users (ids and tokens). */
export async function createTenant(counts = {}) {
  tenantCounter += 1;
  const tenantId = `tnt_e2e_${Date.now().toString(36)}_${process.pid}_${tenantCounter}`;
  const response = await fetch(`${SERVER_URL}/admin/tenants`, {
    method: "POST",
    headers: ADMIN_HEADERS,
    body: JSON.stringify({
      tenantId,
      users: 2,
      dashboards: 4,
      widgetsPerDashboard: 2,
      snapshotsPerWidget: 2,
      alerts: 1,
      queries: 3,
      seed: 1,
      ...counts,
    }),
  });
  if (!response.ok) throw new Error(`POST /admin/tenants: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function admin(path, body) {
  const response = await fetch(`${SERVER_URL}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: ADMIN_HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Client options for `user` of `tenant` (the token is handed out by a callback, never stored). */
export function clientOptions(tenant, user = tenant.users[0], extra = {}) {
  return {
    baseUrl: SERVER_URL,
    tenantId: tenant.tenantId,
    userId: user.userId,
    deviceId: "dev_e2e",
    token: user.token,
    ...extra,
  };
}

export async function launch() {
  return chromium.launch(chromiumOptions());
}

/**
 * Opens the consumer page in `context` and records console errors, page errors and worker
 * errors; `assertClean()` fails the test on any not matched by `allow` (network failures a
 * test causes on purpose, e.g. while offline).
 */
export async function openPage(context, appUrl, allow = []) {
  const page = await context.newPage();
  const problems = [];
  const allowed = (text) => allow.some((re) => re.test(text));
  page.on("console", (message) => {
    if (message.type() === "error" && !allowed(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("worker", (worker) => {
    worker.on("console", (message) => {
      if (message.type() === "error" && !allowed(message.text())) problems.push(`worker console: ${message.text()}`);
    });
  });
  await page.goto(appUrl);
  await page.waitForFunction(() => window.syncCore !== undefined);
  page.assertClean = () => {
    if (problems.length > 0) throw new Error(`console errors:\n${problems.join("\n")}`);
  };
  return page;
}

/** Opens a SyncClient inside the page as `window.client` (events collected in `window.events`). */
export async function openClient(page, options) {
  await page.evaluate(async (o) => {
    const { token, ...rest } = o;
    const client = await window.syncCore.SyncClient.open({ ...rest, getToken: async () => token });
    window.client = client;
    window.events = [];
    client.subscribe((e) => {
      window.events.push(
        e.type === "changed"
          ? { type: e.type, kinds: e.kinds, cause: e.cause, remote: e.remote }
          : e.type === "error"
            ? { type: e.type, code: e.error.code }
            : e.type === "status"
              ? { type: e.type, leader: e.status.leader, online: e.status.online }
              : e.type === "closed"
                ? { type: e.type, reason: e.reason }
                : { type: e.type },
      );
    });
  }, options);
}

/** Runs `client[method](...args)` in the page; resolves `{ok, value}` or `{ok:false, error}`. */
export async function call(page, method, ...args) {
  return page.evaluate(
    async ([m, a]) => {
      try {
        return { ok: true, value: await window.client[m](...a) };
      } catch (e) {
        return {
          ok: false,
          error: {
            isSyncError: e instanceof window.syncCore.SyncError,
            name: e?.name,
            code: e?.code,
            retryable: e?.retryable,
            status: e?.status,
            message: e?.message,
          },
        };
      }
    },
    [method, args],
  );
}

/** Like `call` but throws on failure. */
export async function must(page, method, ...args) {
  const r = await call(page, method, ...args);
  if (!r.ok) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
  return r.value;
}

/** A dedicated worker in `page` running the package; `worker(call, ...args)` talks to it. */
export async function startWorker(page, options) {
  await page.evaluate(async (o) => {
    const worker = window.syncCore.startWorker();
    let next = 0;
    const waiting = new Map();
    await new Promise((resolve) => {
      worker.onmessage = (m) => {
        if (m.data.ready) {
          resolve();
          return;
        }
        const w = waiting.get(m.data.id);
        waiting.delete(m.data.id);
        w?.(m.data);
      };
    });
    window.workerCall = (c, ...args) =>
      new Promise((resolve) => {
        next += 1;
        waiting.set(next, resolve);
        worker.postMessage({ id: next, call: c, args });
      });
    const { token, ...rest } = o;
    // Functions cannot cross postMessage: the worker gets the token value for its getToken.
    const r = await window.workerCall("open", { ...rest, getToken: undefined, token });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
  }, options);
  return async (c, ...args) => page.evaluate(([cc, a]) => window.workerCall(cc, ...a), [c, args]);
}

/** Polls `check` (async, truthy = done) until it passes or `ms` elapse. */
export async function eventually(check, ms = 10_000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/**
 * Two pages of `context` on one database: `a` opened first and waited on until it leads, then
 * `b`, checked to follow. The set-up of every test of a follower's behaviour.
 */
export async function openLeaderAndFollower(context, appUrl, options) {
  const a = await openPage(context, appUrl);
  await openClient(a, options);
  await eventually(async () => (await must(a, "status")).leader, 10_000, "A leads");
  const b = await openPage(context, appUrl);
  await openClient(b, options);
  const followerStatus = await must(b, "status");
  if (followerStatus.leader) throw new Error("B leads too");
  return { a, b, followerStatus };
}

/**
 * Installs a storage-full switch in `page`: while `window.quota.failing` is true, every
 * readwrite transaction that issues a `put`/`add` aborts at commit time with a real
 * `QuotaExceededError` DOMException as its `error` — what Chromium does when a commit does not
 * fit the quota. The wasm calls these methods through the prototypes, so the package's real
 * code path sees it. `window.quota.failures` counts the transactions it failed.
 */
export async function installQuotaSwitch(page) {
  await page.evaluate(() => {
    const sim = { failing: false, failures: 0 };
    const doomed = new WeakSet();
    const quotaError = () => new DOMException("simulated: the origin is out of quota", "QuotaExceededError");
    const errorGetter = Object.getOwnPropertyDescriptor(IDBTransaction.prototype, "error").get;
    Object.defineProperty(IDBTransaction.prototype, "error", {
      configurable: true,
      get() {
        return doomed.has(this) ? quotaError() : errorGetter.call(this);
      },
    });
    const realCommit = IDBTransaction.prototype.commit;
    IDBTransaction.prototype.commit = function () {
      if (!doomed.has(this)) return realCommit.call(this);
      this.abort();
    };
    for (const method of ["put", "add"]) {
      const real = IDBObjectStore.prototype[method];
      IDBObjectStore.prototype[method] = function (...args) {
        const request = real.apply(this, args);
        const tx = this.transaction;
        if (sim.failing && !doomed.has(tx)) {
          doomed.add(tx);
          sim.failures += 1;
          // A transaction that is never committed explicitly fails when its write lands.
          request.addEventListener("success", () => {
            try {
              tx.abort();
            } catch {
              // Already committing or finished through commit() above.
            }
          });
        }
        return request;
      };
    }
    window.quota = sim;
  });
}

/** The stored pull cursor of the page's client, read over a separate raw connection. */
export async function readCursor(page) {
  return page.evaluate(
    (name) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction("meta").objectStore("meta").get("cursor");
          get.onsuccess = () => {
            db.close();
            resolve(get.result ?? null);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    await page.evaluate(() => window.client.databaseName),
  );
}

/**
 * The served consumer app and one headless Chromium for the test file that calls this at its
 * top level: started before its first test, closed after its last. Read them as `env.app`,
 * `env.browser`.
 */
export function useAppAndBrowser() {
  const env = {};
  before(async () => {
    env.app = await serveConsumer();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.app?.close();
  });
  return env;
}
