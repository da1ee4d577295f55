// The packed package syncs through two reference-server replicas on one PostgreSQL database,
// behind a loopback proxy that sends each request to the next replica in turn: a cold start
// pages through both, a rename pushed through one reaches another device through the other.
// PostgreSQL is a throwaway cluster of this test's own (scripts/pg-cluster.sh), or a fresh
// database on SYNC_TEST_DATABASE_URL when that names one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cluster, createDatabase, serverBinary, startCluster, startReplicas } from "../../scripts/sync-replicas.mjs";
import { launch, openPage, serveConsumer } from "./harness.mjs";

const SERVER_BIN = serverBinary("debug");
const CURSOR_KEY = "replicas-e2e-cursor-key-shared-by-both";

const env = { served: [0, 0] };

/** The database URL: a fresh database on SYNC_TEST_DATABASE_URL, or a cluster of our own. */
function database() {
  const given = process.env.SYNC_TEST_DATABASE_URL;
  if (given) return createDatabase(given, `e2e_replicas_${process.pid}_${Date.now()}`);
  // Not created here: pg-cluster.sh makes it, owned by the user PostgreSQL runs as.
  env.cluster = join(tmpdir(), `sync-e2e-pg-${process.pid}-${Date.now()}`);
  return startCluster(env.cluster);
}

/** Sends each request to the next replica in turn, counting what each one served. */
function roundRobin(targets) {
  let next = 0;
  const proxy = http.createServer((req, res) => {
    const index = next;
    next = (next + 1) % targets.length;
    env.served[index] += 1;
    const upstream = http.request(
      `${targets[index]}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  return proxy;
}

before(async () => {
  const url = database();
  execFileSync(SERVER_BIN, ["seed", "--db", url], { stdio: "ignore" });
  env.replicas = await startReplicas({
    bin: SERVER_BIN,
    db: url,
    count: 2,
    cursorKey: CURSOR_KEY,
    args: ["--db-pool-size", "4"],
  });
  env.proxy = roundRobin(env.replicas.urls);
  await new Promise((resolve) => env.proxy.listen(0, "127.0.0.1", resolve));
  env.proxyUrl = `http://127.0.0.1:${env.proxy.address().port}`;
  env.app = await serveConsumer();
  env.browser = await launch();
});

after(async () => {
  await env.browser?.close();
  await env.app?.close();
  await new Promise((resolve) => (env.proxy ? env.proxy.close(resolve) : resolve()));
  env.replicas?.stop();
  if (env.cluster) cluster("stop", env.cluster);
});

/** The consumer page of the seeded demo's alice on `device`, through the proxy. */
async function openAlice(device) {
  const context = await env.browser.newContext();
  const params = new URLSearchParams({
    baseUrl: env.proxyUrl,
    tenantId: "tnt_demo",
    userId: "usr_alice",
    token: "tok_alice",
    deviceId: device,
  });
  const page = await openPage(context, `${env.app.url}?${params}`);
  await page.waitForFunction(() => /^rendered [1-9]/.test(document.getElementById("state")?.textContent ?? ""), null, {
    timeout: 30_000,
  });
  return { context, page };
}

test("a device syncs through two replicas in turn; another device sees its rename", async () => {
  const first = await openAlice("dev_rr_1");
  // The cold start of the demo tenant is more than one page, so the cursor changed replicas.
  const pulled = await first.page.evaluate(async () => {
    const client = window.syncCore.client;
    const report = await client.sync();
    return { pages: report.pull.pages, queries: await client.queries() };
  });
  assert.ok(env.served[0] > 0 && env.served[1] > 0, `both replicas served: ${env.served}`);
  const query = pulled.queries[0];
  assert.ok(query, "alice holds saved queries");

  const pushed = await first.page.evaluate(async (id) => {
    const client = window.syncCore.client;
    await client.renameQuery(id, { default: "Renamed through the replicas" });
    const report = await client.sync();
    return { push: report.push, pushError: report.pushError, pending: (await client.pending()).length };
  }, query.id);
  assert.equal(pushed.pushError, null, JSON.stringify(pushed));
  assert.equal(pushed.push.opsApplied, 1);
  assert.equal(pushed.pending, 0);

  const second = await openAlice("dev_rr_2");
  const seen = await second.page.evaluate(async (id) => {
    const client = window.syncCore.client;
    await client.sync();
    return (await client.queries()).find((q) => q.id === id);
  }, query.id);
  assert.equal(seen.name_i18n.default, "Renamed through the replicas");
  first.page.assertClean();
  second.page.assertClean();
  await first.context.close();
  await second.context.close();
});
