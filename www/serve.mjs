// A dependency-free static server for the built page (www/dist), used by `make demo` and the
// demo e2e tests. Serves 127.0.0.1 only — a localhost origin the sync server's CORS allows.
//   node www/serve.mjs [--port N] [--dir PATH]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Starts serving `dir`; resolves with `{ url, close }`. Port 0 picks a free one. */
export async function serveDist(dir = fileURLToPath(new URL("./dist/", import.meta.url)), port = 0) {
  const root = resolve(dir) + "/";
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = join(root, path === "/" ? "index.html" : path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return { url: `http://127.0.0.1:${actual}/`, close: () => new Promise((r) => server.close(r)) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
  };
  const { url } = await serveDist(arg("--dir", undefined), Number(arg("--port", "5173")));
  console.log(`serving the demo page on ${url}`);
}
