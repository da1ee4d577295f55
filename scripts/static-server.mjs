// A loopback static server for the built pages of the benchmarks (bench/server.mjs) and the
// package e2e tests (tests/e2e/harness.mjs): files of one folder on a free port of 127.0.0.1,
// nothing outside it, with an optional route of the caller's tried first.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/**
 * Serves the files below `dir` (an absolute path ending in `/`); `route(url, res)` may answer
 * a request first and return true. Resolves `{url, close}`.
 */
export async function serveStatic(dir, route = () => false) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (route(url, res)) return;
    const path = normalize(decodeURIComponent(url.pathname));
    const file = join(dir, path === "/" ? "index.html" : path);
    if (!file.startsWith(dir)) {
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
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}
