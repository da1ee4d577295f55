// Loopback server of the benchmark: the bundled page (bench/dist or dist-quick) and the seeded pull pages of
// src/workload.mjs at `/w/<scenario>/internal/sync/pull`, so every contender fetches exactly the
// same bytes from the same origin (no CORS preflight on any of them). No sync-server needed:
// the page bodies are serialized once at start-up and served from memory.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { scenarioPages } from "./src/workload.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const PULL = /^\/w\/(cold|warm)\/internal\/sync\/pull$/;

/** Starts the server on a free loopback port; resolves `{url, bodies, close}`. */
export async function startServer(seed = 7, dir = "dist") {
  const DIST = fileURLToPath(new URL(`./${dir}/`, import.meta.url));
  const bodies = {};
  for (const scenario of ["cold", "warm"]) {
    bodies[scenario] = scenarioPages(scenario, seed).map((p) => Buffer.from(JSON.stringify(p)));
  }
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const pull = PULL.exec(url.pathname);
    if (pull) {
      const cursor = url.searchParams.get("cursor");
      const index = cursor === null ? 0 : Number(cursor.split(".")[1]);
      const body = bodies[pull[1]][index];
      if (body === undefined) {
        res.writeHead(410, { "content-type": "application/json" }).end('{"error":"cursor_invalid"}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(body);
      return;
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const path = normalize(decodeURIComponent(url.pathname));
    const file = join(DIST, path === "/" ? "index.html" : path);
    if (!file.startsWith(DIST)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    bodies,
    close: () => new Promise((r) => server.close(r)),
  };
}
