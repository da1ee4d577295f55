// `make bench-server`: load on the reference server from simulated devices on loopback, against
// SQLite (one process), PostgreSQL with one replica, and PostgreSQL with two replicas (devices
// spread over both). Each configuration runs three phases, bounded in devices and time:
//   cold   every device pulls from no cursor until drained (pageSize 500);
//   delta  every device pulls with its cursor, again and again, for DELTA_SECONDS;
//   rename every device renames one of its user's saved queries RENAMES times (push, then a
//          pull to learn the new version), for the write path.
// Reports requests/s and p50/p99 per phase, and every non-2xx answer as an error (a 409 per
// op inside a 200 is an answer, not an error). The generator runs (the default of `serve`), on
// the same cores as the devices. Nothing is asserted: see BENCHMARKS.md for the goals.
//
// With --outage, the PostgreSQL cluster is stopped for OUTAGE_SECONDS in the middle of each
// PostgreSQL delta phase (a restart or failover): its answers meanwhile must be 503s, which are
// counted apart from errors, and the phase must end with the server serving again.
//
//   node bench/server-load.mjs [--devices 200] [--users 50] [--delta-seconds 10] [--renames 3]
//                              [--configs sqlite,pg1,pg2] [--outage] [--out bench/results/server.md]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cluster as pgCluster, createDatabase, serverBinary, startCluster, startReplicas } from "../scripts/sync-replicas.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const DEVICES = Number(arg("devices", 200));
const USERS = Number(arg("users", 50));
const DELTA_SECONDS = Number(arg("delta-seconds", 10));
const RENAMES = Number(arg("renames", 3));
const CONFIGS = arg("configs", "sqlite,pg1,pg2").split(",");
const OUTAGE = process.argv.includes("--outage");
const OUTAGE_SECONDS = 3;
const OUT = arg("out", join(ROOT, "bench/results/server.md"));
const CURSOR_KEY = "bench-server-cursor-key-0123456789abcdef";
const BIN = serverBinary("server");

const agent = new http.Agent({ keepAlive: true, maxSockets: DEVICES });

/** One HTTP request; resolves `{status, body, ms}`. */
function request(base, method, path, headers, body) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(`${base}${path}`, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks), ms: performance.now() - started }),
      );
    });
    req.on("error", (e) => resolve({ status: 0, body: Buffer.from(String(e)), ms: performance.now() - started }));
    req.end(body);
  });
}

/** Seeds one tenant with USERS users; returns `[{userId, token}]`. */
function seed(db) {
  const out = execFileSync(BIN, ["seed", "--db", db, "--users", String(USERS)], { encoding: "utf8" });
  return [...out.matchAll(/^\s+(usr_\S+)\s+\S+\s+token (\S+)$/gm)].map((m) => ({ userId: m[1], token: m[2] }));
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

/** Runs `work(device)` for every device at once; returns the phase's figures. */
async function phase(name, devices, work) {
  const times = [];
  let errors = 0;
  let unavailable = 0;
  const firstErrors = [];
  const record = (r) => {
    times.push(r.ms);
    if (r.status === 503) {
      unavailable += 1;
    } else if (r.status < 200 || r.status >= 300) {
      errors += 1;
      if (firstErrors.length < 3) firstErrors.push(`${r.status} ${r.body.toString().slice(0, 120)}`);
    }
  };
  const started = performance.now();
  await Promise.all(devices.map((d) => work(d, record)));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    phase: name,
    requests: times.length,
    perSecond: times.length / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    errors,
    unavailable,
    firstErrors,
    seconds,
  };
}

function headersOf(d) {
  return {
    "x-tenant-id": "tnt_demo",
    "x-user-id": d.userId,
    "x-device-id": d.deviceId,
    authorization: `Bearer ${d.token}`,
  };
}

async function pull(d, record) {
  const q = `/internal/sync/pull?pageSize=500${d.cursor ? `&cursor=${d.cursor}` : ""}`;
  const r = await request(d.url, "GET", q, headersOf(d));
  record(r);
  if (r.status !== 200) return null;
  const page = JSON.parse(r.body);
  d.cursor = page.nextCursor;
  for (const item of page.items) {
    if (item.kind === "Query" && item.op === "upsert" && item.row.ownerId === d.userId) {
      d.queries.set(item.row.id, item.version);
    }
  }
  return page;
}

/** Stops the cluster OUTAGE_SECONDS into `afterSeconds`, and starts it again. */
async function outage(cluster, afterSeconds) {
  await new Promise((resolve) => setTimeout(resolve, afterSeconds * 1000));
  pgCluster("pause", cluster);
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_SECONDS * 1000));
  pgCluster("resume", cluster);
}

async function runConfig(config, users) {
  const replicas = await startReplicas({ bin: BIN, db: config.db, count: config.replicas, cursorKey: CURSOR_KEY });
  const devices = Array.from({ length: DEVICES }, (_, i) => ({
    ...users[i % users.length],
    deviceId: `dev_load_${i}`,
    url: replicas.urls[i % replicas.urls.length],
    cursor: null,
    queries: new Map(),
  }));
  const results = [];
  try {
    results.push(
      await phase("cold", devices, async (d, record) => {
        for (let pages = 0; pages < 100; pages += 1) {
          const page = await pull(d, record);
          if (!page || page.drained) return;
        }
      }),
    );
    const until = performance.now() + DELTA_SECONDS * 1000;
    const down = config.cluster && OUTAGE ? outage(config.cluster, Math.max(1, (DELTA_SECONDS - OUTAGE_SECONDS) / 2)) : null;
    results.push(
      await phase(down ? "delta + outage" : "delta", devices, async (d, record) => {
        while (performance.now() < until) await pull(d, record);
      }),
    );
    await down;
    let op = 0;
    results.push(
      await phase("rename", devices, async (d, record) => {
        const [queryId] = [...d.queries.keys()];
        if (!queryId) return;
        for (let i = 0; i < RENAMES; i += 1) {
          op += 1;
          const opId = `op_${d.deviceId}_${op}`;
          const body = JSON.stringify({
            ops: [{ opId, kind: "Query", id: queryId, expectedVersion: d.queries.get(queryId), patch: { name_i18n: { default: `Load ${op}` } } }],
          });
          const key = createHash("sha256").update(opId).digest("hex");
          const r = await request(d.url, "POST", "/internal/sync/push", {
            ...headersOf(d),
            "content-type": "application/json",
            "idempotency-key": key,
          }, body);
          record(r);
          if (r.status === 200) {
            const result = JSON.parse(r.body).results[0];
            if (result.ok) d.queries.set(queryId, result.version);
            else if (result.current) d.queries.set(queryId, result.current.version);
          }
        }
      }),
    );
  } finally {
    replicas.stop();
  }
  return results;
}

async function main() {
  execFileSync("cargo", ["build", "--profile", "server", "--quiet", "-p", "sync-server"], { cwd: ROOT, stdio: "inherit" });
  const scratch = join(tmpdir(), `sync-bench-server-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const cluster = join(tmpdir(), `sync-bench-pg-${process.pid}`);
  let pgUrl = null;
  const all = [];
  const load = loadavg().map((x) => x.toFixed(2)).join("/");
  try {
    for (const name of CONFIGS) {
      let db;
      if (name === "sqlite") {
        db = join(scratch, "bench.db");
      } else {
        pgUrl ??= startCluster(cluster);
        db = createDatabase(pgUrl, `bench_${name}`);
      }
      const users = seed(db);
      const config = { name, db, replicas: name === "pg2" ? 2 : 1, cluster: name === "sqlite" ? null : cluster };
      process.stderr.write(`[bench-server] ${name}: ${DEVICES} devices over ${users.length} users, ${config.replicas} replica(s)\n`);
      for (const r of await runConfig(config, users)) {
        all.push({ config: name, ...r });
        process.stderr.write(
          `  ${r.phase.padEnd(6)} ${String(r.requests).padStart(7)} requests ${r.perSecond.toFixed(0).padStart(6)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms errors ${r.errors} 503 ${r.unavailable} ${r.firstErrors.join(" | ")}\n`,
        );
      }
    }
  } finally {
    if (pgUrl) pgCluster("stop", cluster);
    rmSync(scratch, { recursive: true, force: true });
  }
  const label = { sqlite: "SQLite, 1 process", pg1: "PostgreSQL, 1 replica", pg2: "PostgreSQL, 2 replicas" };
  const lines = [
    `## Server load (${new Date().toISOString()})`,
    "",
    `${DEVICES} devices over ${USERS} users of the demo tenant, pageSize 500; delta phase ${DELTA_SECONDS} s; ${RENAMES} renames per device. ` +
      `\`--profile server\` build (opt-level 3), generator on, load generator (Node, keep-alive) on the same ${cpus().length} cores; load average before ${load}.`,
    ...(OUTAGE
      ? ["", `--outage: PostgreSQL stopped for ${OUTAGE_SECONDS} s in the middle of each delta phase; devices retry at once (no backoff), so the 503 count is a rate, not a number of devices.`]
      : []),
    "",
    "| configuration | phase | requests | requests/s | p50 ms | p99 ms | errors | 503 |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
    ...all.map(
      (r) =>
        `| ${label[r.config] ?? r.config} | ${r.phase} | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${r.unavailable} |`,
    ),
    "",
  ];
  writeFileSync(OUT, lines.join("\n"));
  process.stdout.write(lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
