// `make bench` / `make bench-quick`: builds the page, serves it and the seeded pull pages on
// loopback, drives headless Chromium through playwright-core, and writes the report to
// bench/results/<mode>.{json,md}. Targets are reported, never asserted: the run fails only when
// a contender throws, the page logs an error, a contender does not apply exactly the served
// items and bytes, sync-core and Dexie disagree on the rows held, or another sanity check of
// the harness fails. `--quick` (inside `make test`) runs every phase on smaller figures: 3 pages
// per scenario, a 10 000-item warm database, 1 counted trial, 3 render pairs, 10 renames.
import { chromiumOptions } from "../scripts/chromium-options.mjs";
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { buildPage } from "./build.mjs";
import { bundleReport } from "./size.mjs";
import { startServer } from "./server.mjs";
import { bootstrapMedianCI, median, quantile, shuffle } from "./stats.mjs";
import { PAGES, PAGE_SIZE, PRELOAD_TOTAL, configureWorkload, prng } from "./src/workload.mjs";
import { summarizeProfile } from "./profile.mjs";
import { renderMarkdown } from "./report.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const WARMUP = arg("--warmup", quick ? 0 : 3);
const TRIALS = arg("--trials", quick ? 1 : 30);
const RENDER_TRIALS = arg("--render-trials", quick ? 3 : 50);
const RENDER_WARMUP = quick ? 1 : 3;
const RENAMES = arg("--renames", quick ? 10 : 200);
const REPEAT_PULLS = arg("--repeat-pulls", quick ? 3 : 20);
const SEED = arg("--seed", 7);
const WORKLOAD = { pages: arg("--pages", quick ? 3 : 10), scale: arg("--scale", quick ? 0.1 : 1) };
// A hung page must fail the run (and free `make test`), not wait forever.
const DEADLINE_MS = arg("--deadline-min", quick ? 8 : 240) * 60_000;
configureWorkload(WORKLOAD);
const CONTENDERS = ["sync-core", "floor", "dexie"];
const SCENARIOS = ["cold", "warm"];
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const log = (...a) => console.log("[bench]", ...a);

const started = Date.now();
const load = { before: loadavg() };
const DIST = quick ? "dist-quick" : "dist";
await buildPage(DIST);
// Measured now, from the package this run installed: a `make pkg` elsewhere during a long run
// must not change the figures reported beside its timings.
const size = await bundleReport(DIST);
const server = await startServer(SEED, DIST);
const bytes = Object.fromEntries(SCENARIOS.map((s) => [s, server.bodies[s].reduce((a, b) => a + b.length, 0)]));
const items = PAGES * PAGE_SIZE;
const browser = await chromium.launch({ timeout: 120_000, ...chromiumOptions(["--enable-precise-memory-info"]) });
const problems = [];
let exitCode = 0;
const watchdog = setTimeout(() => {
  console.error(`[bench] failed: still running after ${DEADLINE_MS / 60_000} min; closing the browser and the server`);
  Promise.allSettled([browser.close(), server.close()]).finally(() => process.exit(1));
}, DEADLINE_MS);
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("crash", () => problems.push("the page crashed"));
  page.setDefaultTimeout(600_000);
  await page.goto(`${server.url}?pages=${WORKLOAD.pages}&scale=${WORKLOAD.scale}`);
  await page.waitForFunction(() => window.bench !== undefined);
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.bench[f](...a), [fn, args]);
  const rand = prng(SEED);
  log(`${PAGES} pages × ${PAGE_SIZE} items per scenario, warm database of ${PRELOAD_TOTAL} items; ${WARMUP} warm-up + ${TRIALS} counted trials`);

  // ---- apply throughput --------------------------------------------------------------------
  const times = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(CONTENDERS.map((c) => [c, []]))]));
  const counts = {};
  const orders = [];
  for (let t = 0; t < WARMUP + TRIALS; t += 1) {
    const counted = t >= WARMUP;
    const order = [];
    const trialMs = {};
    const trialStart = Date.now();
    for (const scenario of shuffle(SCENARIOS, rand)) {
      for (const contender of shuffle(CONTENDERS, rand)) {
        order.push(`${scenario}/${contender}`);
        const p0 = Date.now();
        await call("prepare", contender, scenario);
        const prepMs = Date.now() - p0;
        const { ms, waitedMs, result } = await call("run", contender, scenario);
        checkApplied(contender, scenario, result);
        if (t === 0) (counts[scenario] ??= {})[contender] = await call("counts", contender);
        await call("cleanup", contender);
        trialMs[`${scenario}/${contender}`] = { ms, prepMs, waitedMs };
        if (counted) times[scenario][contender].push(ms);
      }
    }
    orders.push(order.join(" "));
    const took = ((Date.now() - trialStart) / 1000).toFixed(0);
    const parts = order.map((o) => `${o} ${Math.round(trialMs[o].ms)} (prep ${(trialMs[o].prepMs / 1000).toFixed(1)} s)`);
    log(`trial ${t + 1}/${WARMUP + TRIALS}${counted ? "" : " (warm-up)"} in ${took} s: ${parts.join(", ")} ms`);
  }
  await call("settle");
  for (const scenario of SCENARIOS) {
    const a = counts[scenario]["sync-core"];
    const b = counts[scenario].dexie;
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      problems.push(`same-semantics check (${scenario}): sync-core holds ${JSON.stringify(a)}, Dexie ${JSON.stringify(b)}`);
    }
  }

  const throughput = {};
  for (const scenario of SCENARIOS) {
    const per = {};
    for (const c of CONTENDERS) {
      const ms = times[scenario][c];
      per[c] = {
        medianMs: median(ms),
        itemsPerSec: items / (median(ms) / 1000),
        mbPerSec: bytes[scenario] / 1e6 / (median(ms) / 1000),
        ms,
      };
    }
    const ratio = (other) => {
      // Throughput ratio sync-core ÷ other, paired per trial: other's time ÷ sync-core's time.
      const rs = times[scenario]["sync-core"].map((ms, i) => times[scenario][other][i] / ms);
      const [lo, hi] = bootstrapMedianCI(rs);
      return { median: median(rs), ci95: [lo, hi], ratios: rs };
    };
    throughput[scenario] = { contenders: per, vsFloor: ratio("floor"), vsDexie: ratio("dexie"), bytes: bytes[scenario], items };
  }

  // ---- first render from cache -------------------------------------------------------------
  await call("renderSetup");
  const render = { "sync-core": [], raw: [] };
  for (let t = 0; t < RENDER_TRIALS + RENDER_WARMUP; t += 1) {
    for (const which of shuffle(["sync-core", "raw"], rand)) {
      const r = await call(which === "raw" ? "renderRaw" : "renderSyncCore");
      if (r.widgets !== 48 || r.found !== 48) throw new Error(`${which} first render found ${r.widgets} widgets and ${r.found} snapshots, expected 48 and 48`);
      if (t >= RENDER_WARMUP) render[which].push(r.ms);
    }
  }
  const renderRatios = render["sync-core"].map((ms, i) => ms / render.raw[i]);
  const spread = (xs) => ({ min: Math.min(...xs), p25: quantile(xs, 0.25), median: median(xs), p75: quantile(xs, 0.75), p90: quantile(xs, 0.9), max: Math.max(...xs) });
  const firstRender = {
    syncCoreMs: median(render["sync-core"]),
    rawMs: median(render.raw),
    syncCoreSpread: spread(render["sync-core"]),
    rawSpread: spread(render.raw),
    ratio: { median: median(renderRatios), ci95: bootstrapMedianCI(renderRatios) },
    samples: render,
  };
  const fmt = (x) => `${x.median.toFixed(1)} ms (min ${x.min.toFixed(1)}, IQR ${x.p25.toFixed(1)}–${x.p75.toFixed(1)}, p90 ${x.p90.toFixed(1)})`;
  log(`first render: sync-core ${fmt(firstRender.syncCoreSpread)}, raw floor ${fmt(firstRender.rawSpread)}, ratio ${firstRender.ratio.median.toFixed(2)}`);

  // ---- renameQuery → durable commit ----------------------------------------------------------
  const renameMs = await call("renames", RENAMES);
  if (renameMs.length !== RENAMES) throw new Error(`${renameMs.length} of ${RENAMES} renames timed`);
  const renames = { n: renameMs.length, p50: quantile(renameMs, 0.5), p95: quantile(renameMs, 0.95), max: Math.max(...renameMs) };
  log(`renameQuery: p50 ${renames.p50.toFixed(1)} ms, p95 ${renames.p95.toFixed(1)} ms`);

  // ---- a pull on an open client that has pulled before ----------------------------------------
  const repeated = await call("repeatPulls", REPEAT_PULLS);
  const repeatRatios = repeated.next.map((ms, i) => ms / repeated.first[i]);
  const repeatPulls = {
    n: repeated.first.length,
    firstMs: median(repeated.first),
    nextMs: median(repeated.next),
    ratio: { median: median(repeatRatios), ci95: bootstrapMedianCI(repeatRatios) },
    samples: repeated,
  };
  log(`repeat pull of an open client: first ${repeatPulls.firstMs.toFixed(1)} ms, next ${repeatPulls.nextMs.toFixed(1)} ms, ratio ${repeatPulls.ratio.median.toFixed(2)}`);
  await call("renderCleanup");

  // ---- memory during a 20 000-item cold start ----------------------------------------------
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const memory = {};
  for (const contender of shuffle(CONTENDERS, rand)) {
    await call("prepare", contender, "cold");
    await cdp.send("HeapProfiler.collectGarbage");
    const metric = async () => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
    };
    const base = await metric();
    const wasmBefore = await call("wasmMemoryBytes");
    let peak = base.JSHeapUsedSize;
    let samples = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        const m = await metric();
        peak = Math.max(peak, m.JSHeapUsedSize);
        samples += 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const { result } = await call("run", contender, "cold");
    running = false;
    await sampler;
    checkApplied(contender, "cold", result);
    const wasmAfter = await call("wasmMemoryBytes");
    await call("cleanup", contender);
    await call("settle");
    memory[contender] = { baseHeap: base.JSHeapUsedSize, peakHeap: peak, samples, wasmBefore, wasmAfter };
    log(`memory ${contender}: JS heap ${(base.JSHeapUsedSize / 1e6).toFixed(1)} → peak ${(peak / 1e6).toFixed(1)} MB (${samples} samples), wasm ${(wasmAfter / 1e6).toFixed(1)} MB`);
  }

  // ---- where sync-core's cold start spends its time (one sampled CPU profile) ------------------
  let profiled = { ms: NaN };
  let profileTop = [];
  // PROFILE_CONTENDER=floor (or dexie) profiles another contender the same way, to compare.
  const profiledContender = process.env.PROFILE_CONTENDER ?? "sync-core";
  try {
    await call("prepare", profiledContender, process.env.PROFILE_SCENARIO ?? "cold");
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
    await cdp.send("Profiler.start");
    profiled = await call("run", profiledContender, process.env.PROFILE_SCENARIO ?? "cold");
    const { profile } = await cdp.send("Profiler.stop");
    // The raw profile (with per-line ticks), for a closer look in devtools or a script.
    if (process.env.PROFILE_OUT) await writeFile(process.env.PROFILE_OUT, JSON.stringify(profile));
    await call("cleanup", profiledContender);
    await call("settle");
    if (profiledContender === "sync-core") checkApplied("sync-core", process.env.PROFILE_SCENARIO ?? "cold", profiled.result);
    profileTop = summarizeProfile(profile, profiled.ms);
    log(`profile of one ${profiledContender} cold start (${profiled.ms.toFixed(0)} ms): ${profileTop.slice(0, 5).map((p) => `${p.name} ${p.pct.toFixed(1)} %`).join(", ")}`);
  } catch (error) {
    // In a full run the profile is a diagnosis, not a measurement: its failure must not cost the
    // report. The quick run is there to catch a rotting harness, so there it fails.
    if (quick) throw error;
    log(`CPU profile failed: ${error instanceof Error ? error.message : error}`);
  }

  if (problems.length > 0) throw new Error(`problems:\n${problems.join("\n")}`);

  // ---- bundle size and environment -----------------------------------------------------------
  load.after = loadavg();
  const cpu = cpus();
  const environment = {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memGiB: totalmem() / 2 ** 30,
    chromium: browser.version(),
    node: process.version,
    load,
    date: new Date().toISOString(),
    durationSec: (Date.now() - started) / 1000,
    otherProcesses: execFileSync("sh", ["-c", "ps -eo pcpu,comm --sort=-pcpu | head -6"]).toString().trim(),
  };
  const report = {
    mode: quick ? "quick" : "full",
    config: { warmup: WARMUP, trials: TRIALS, renderTrials: RENDER_TRIALS, renames: RENAMES, seed: SEED, pages: PAGES, pageSize: PAGE_SIZE, preloadItems: PRELOAD_TOTAL },
    environment,
    throughput,
    counts,
    orders,
    firstRender,
    renames,
    repeatPulls,
    memory,
    profile: { ms: profiled.ms, top: profileTop },
    size,
  };
  await mkdir(here("./results"), { recursive: true });
  const name = quick ? "quick" : "full";
  await writeFile(here(`./results/${name}.json`), JSON.stringify(report, null, 2));
  const md = renderMarkdown(report);
  await writeFile(here(`./results/${name}.md`), md);
  console.log(md);
  log(`report: bench/results/${name}.md (${environment.durationSec.toFixed(0)} s)`);
} catch (error) {
  console.error("[bench] failed:", error instanceof Error ? error.stack ?? error.message : error);
  if (problems.length > 0) console.error(problems.join("\n"));
  exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await browser.close();
  await server.close();
}
process.exit(exitCode);

/**
 * A contender must have applied exactly the served pages: every item and every byte (fails the
 * run otherwise; a contender that silently skipped work would look fast).
 */
function checkApplied(contender, scenario, result) {
  if (contender === "sync-core") {
    const r = result.report;
    if (r.pages !== PAGES || r.drained !== true || r.bytesPulled !== bytes[scenario]) {
      throw new Error(`sync-core pulled ${r.pages} pages / ${r.bytesPulled} B in ${scenario}, expected ${PAGES} / ${bytes[scenario]}`);
    }
    // Integrity findings are not checked: the workload's tombstones leave widgets pointing at
    // deleted dashboards, which the engine rightly reports. A retry or a cold restart against
    // this loopback server, though, means something went wrong.
    if (r.retries !== 0 || r.coldRestarts !== 0) {
      throw new Error(`sync-core ${scenario} pull: ${r.retries} retries, ${r.coldRestarts} cold restarts`);
    }
  } else if (result.items !== items || result.bytes !== bytes[scenario]) {
    throw new Error(`${contender} applied ${result.items} items / ${result.bytes} B in ${scenario}, expected ${items} / ${bytes[scenario]}`);
  }
}
