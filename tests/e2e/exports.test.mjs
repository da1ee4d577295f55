// PROTOCOL §9.11: no test hooks ship. Reads the package as a user installs it (the packed
// tarball, installed into tests/consumer by `make test-pkg`): the wasm module's exports and
// every shipped file must carry nothing that exists only for tests. Runs in node, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const INSTALLED = fileURLToPath(new URL("../consumer/node_modules/sync-core/", import.meta.url));
const BUILT = fileURLToPath(new URL("../../pkg/", import.meta.url));
/** The installed tarball when there is one (what users get), else the build in pkg/. */
const PACKAGE = process.env.SYNC_CORE_PACKAGE_DIR ?? (existsSync(join(INSTALLED, "wasm")) ? INSTALLED : BUILT);

/** Names a test hook would have: `test` as a word (not inside `latest`), panics, hooks, fault switches. */
const TEST_ONLY = /(^|[^a-z])test|panic|hook|fail_?next|__sync_core/i;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

test("the shipped wasm exports no test-only function", async () => {
  const bytes = await readFile(join(PACKAGE, "wasm", "sync_core_bg.wasm"));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
  assert.ok(exports.some((name) => name.startsWith("synccore_")), `not the sync-core module: ${exports.join(", ")}`);
  const suspicious = exports.filter((name) => TEST_ONLY.test(name));
  assert.deepEqual(suspicious, [], `test-only exports in ${PACKAGE}wasm/sync_core_bg.wasm`);
});

test("no shipped file (JS glue, .d.ts, dist, src) names a test hook", async () => {
  const offenders = [];
  const shipped = ["dist", "src", "wasm"].map((d) => join(PACKAGE, d)).filter((d) => existsSync(d));
  assert.ok(shipped.length > 0, `nothing to check in ${PACKAGE}`);
  for await (const path of (async function* () {
    for (const dir of shipped) yield* files(dir);
  })()) {
    if (!/\.(js|ts|mjs|map)$/.test(path)) continue;
    const text = await readFile(path, "utf8");
    for (const hook of ["__testPanic", "__sync_core_test", "test_panic", "testPanic"]) {
      if (text.includes(hook)) offenders.push(`${path}: ${hook}`);
    }
  }
  assert.deepEqual(offenders, []);
});
