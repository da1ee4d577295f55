// Loopback server of the benchmark: the bundled page (bench/dist or dist-quick) and the seeded pull pages of
// src/workload.mjs at `/w/<scenario>/internal/sync/pull`, so every contender fetches exactly the
// same bytes from the same origin (no CORS preflight on any of them). No sync-server needed:
// the page bodies are serialized once at start-up and served from memory.
import { fileURLToPath } from "node:url";
import { serveStatic } from "../scripts/static-server.mjs";
import { scenarioPages } from "./src/workload.mjs";

const PULL = /^\/w\/(cold|warm)\/internal\/sync\/pull$/;

/** Starts the server on a free loopback port; resolves `{url, bodies, close}`. */
export async function startServer(seed = 7, dir = "dist") {
  const DIST = fileURLToPath(new URL(`./${dir}/`, import.meta.url));
  const bodies = {};
  for (const scenario of ["cold", "warm"]) {
    bodies[scenario] = scenarioPages(scenario, seed).map((p) => Buffer.from(JSON.stringify(p)));
  }
  const server = await serveStatic(DIST, (url, res) => {
    const pull = PULL.exec(url.pathname);
    if (pull) {
      const cursor = url.searchParams.get("cursor");
      const index = cursor === null ? 0 : Number(cursor.split(".")[1]);
      // Past the last page the log is drained and has nothing new: an empty page under the
      // same cursor (the repeated pulls of an open client, bench/run.mjs).
      const body =
        index === bodies[pull[1]].length
          ? Buffer.from(JSON.stringify({ items: [], nextCursor: cursor, drained: true }))
          : bodies[pull[1]][index];
      if (body === undefined) {
        res.writeHead(410, { "content-type": "application/json" }).end('{"error":"cursor_invalid"}');
        return true;
      }
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(body);
      return true;
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204).end();
      return true;
    }
    return false;
  });
  return { ...server, bodies };
}
