// Starting `sync-server serve` replicas and PostgreSQL databases for them, shared by the
// replicas e2e test (tests/e2e/replicas.test.mjs) and the load benchmark (bench/server-load.mjs).
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLUSTER = fileURLToPath(new URL("./pg-cluster.sh", import.meta.url));

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve) => {
    const server = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `url` answers `/healthz`; throws after 30 s. */
export async function waitHealthy(url) {
  for (let i = 0; i < 300; i += 1) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never became healthy`);
}

/**
 * Starts `count` `serve` processes of `bin` on `db`, each on a free loopback port, all signing
 * cursors with `cursorKey`; resolves `{urls, stop}` once every one is healthy.
 */
export async function startReplicas({ bin, db, count, cursorKey, args = [] }) {
  const urls = [];
  const processes = [];
  for (let i = 0; i < count; i += 1) {
    const port = await freePort();
    processes.push(
      spawn(bin, ["serve", "--db", db, "--host", "127.0.0.1", "--port", String(port), "--cursor-key", cursorKey, ...args], {
        stdio: "ignore",
      }),
    );
    urls.push(`http://127.0.0.1:${port}`);
  }
  await Promise.all(urls.map(waitHealthy));
  return { urls, stop: () => processes.forEach((p) => p.kill()) };
}

/** Starts a throwaway cluster in `dir` (scripts/pg-cluster.sh); its database URL. */
export function startCluster(dir) {
  return execFileSync(CLUSTER, ["start", dir], { encoding: "utf8" }).trim();
}

/** Runs scripts/pg-cluster.sh `command` (`stop`, `pause`, `resume`) on the cluster in `dir`. */
export function cluster(command, dir) {
  execFileSync(CLUSTER, [command, dir]);
}

/** A new, empty database `name` on the server of `url` (dropped first if it exists); its URL. */
export function createDatabase(url, name) {
  execFileSync("psql", [url, "-qc", `DROP DATABASE IF EXISTS ${name}`, "-c", `CREATE DATABASE ${name}`]);
  return `${url.slice(0, url.lastIndexOf("/"))}/${name}`;
}

/** The `sync-server` binary of `profile` (`debug`, `server`…) in the workspace's target directory. */
export function serverBinary(profile) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  return join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), profile, "sync-server");
}
