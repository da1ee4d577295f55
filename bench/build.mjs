// Bundles the benchmark page (src/page.ts + sync-core + Dexie) with esbuild into `dir` (dist/
// for a full run, dist-quick/ for a quick one, so a quick run started beside a full one does not
// replace the files the full one serves), copies the package's wasm beside it, and bundles the
// package alone (minified) for the size report.
import { build } from "esbuild";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export async function buildPage(dir = "dist") {
  await mkdir(here(`./${dir}`), { recursive: true });
  await build({
    entryPoints: [here("./src/page.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    outfile: here(`./${dir}/page.js`),
    logLevel: "warning",
  });
  await copyFile(here("./node_modules/sync-core/wasm/sync_core_bg.wasm"), here(`./${dir}/sync_core_bg.wasm`));
  await writeFile(
    here(`./${dir}/index.html`),
    '<!doctype html><meta charset="utf-8"><title>sync-core bench</title><script type="module" src="/page.js"></script>\n',
  );
  // What an app ships of the package: its JS (wrapper + glue) minified by a bundler.
  await build({
    stdin: { contents: 'export * from "sync-core";', resolveDir: here("./"), loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    outfile: here(`./${dir}/sync-core.min.js`),
    logLevel: "warning",
  });
}
