// `make bench` / `make bench-quick`: builds the page, serves it and the seeded pull pages on
// loopback, drives headless Chromium through playwright-core, and writes the report to
// bench/results/<mode>.{json,md}. Targets are reported, never asserted: the run fails only when
// a contender throws, the page logs an error, or a sanity check of the harness itself fails.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { buildPage } from "./build.mjs";
import { bundleReport } from "./size.mjs";
import { startServer } from "./server.mjs";
import { bootstrapMedianCI, median, quantile, shuffle } from "./stats.mjs";
import { PAGES, PAGE_SIZE, prng } from "./src/workload.mjs";
import { renderMarkdown } from "./report.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const WARMUP = arg("--warmup", quick ? 0 : 3);
const TRIALS = arg("--trials", quick ? 2 : 30);
const RENDER_TRIALS = arg("--render-trials", quick ? 3 : 50);
const RENAMES = arg("--renames", quick ? 10 : 200);
const SEED = arg("--seed", 7);
const CONTENDERS = ["sync-core", "floor", "dexie"];
const SCENARIOS = ["cold", "warm"];
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const log = (...a) => console.log("[bench]", ...a);

const started = Date.now();
const load = { before: loadavg() };
await buildPage();
const server = await startServer(SEED);
const bytes = Object.fromEntries(SCENARIOS.map((s) => [s, server.bodies[s].reduce((a, b) => a + b.length, 0)]));
const items = PAGES * PAGE_SIZE;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--enable-precise-memory-info",
  ],
});
const problems = [];
let exitCode = 0;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(600_000);
  await page.goto(server.url);
  await page.waitForFunction(() => window.bench !== undefined);
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.bench[f](...a), [fn, args]);
  const rand = prng(SEED);

  // ---- apply throughput --------------------------------------------------------------------
  const times = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(CONTENDERS.map((c) => [c, []]))]));
  const counts = {};
  const orders = [];
  for (let t = 0; t < WARMUP + TRIALS; t += 1) {
    const counted = t >= WARMUP;
    const order = [];
    const trialMs = {};
    for (const scenario of shuffle(SCENARIOS, rand)) {
      for (const contender of shuffle(CONTENDERS, rand)) {
        order.push(`${scenario}/${contender}`);
        await call("prepare", contender, scenario);
        const { ms, result } = await call("run", contender, scenario);
        if (contender === "sync-core") {
          const report = result.report;
          if (report.pages !== PAGES || report.drained !== true || report.bytesPulled !== bytes[scenario]) {
            throw new Error(`sync-core pulled ${report.pages} pages / ${report.bytesPulled} B, expected ${PAGES} / ${bytes[scenario]}`);
          }
        }
        if (t === 0) (counts[scenario] ??= {})[contender] = await call("counts", contender);
        await call("cleanup", contender);
        trialMs[`${scenario} ${contender}`] = ms;
        if (counted) times[scenario][contender].push(ms);
      }
    }
    orders.push(order.join(" "));
    log(`trial ${t + 1}/${WARMUP + TRIALS}${counted ? "" : " (warm-up)"}: ${order.map((o) => `${o} ${Math.round(trialMs[o.replace("/", " ")])}`).join(", ")} ms`);
  }
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
  for (let t = 0; t < RENDER_TRIALS + 3; t += 1) {
    for (const which of shuffle(["sync-core", "raw"], rand)) {
      const r = await call(which === "raw" ? "renderRaw" : "renderSyncCore");
      if (r.found !== 48) throw new Error(`${which} first render found ${r.found} of 48 snapshots`);
      if (t >= 3) render[which].push(r.ms);
    }
  }
  const renderRatios = render["sync-core"].map((ms, i) => ms / render.raw[i]);
  const firstRender = {
    syncCoreMs: median(render["sync-core"]),
    rawMs: median(render.raw),
    ratio: { median: median(renderRatios), ci95: bootstrapMedianCI(renderRatios) },
    samples: render,
  };
  log(`first render: sync-core ${firstRender.syncCoreMs.toFixed(1)} ms, raw getAll ${firstRender.rawMs.toFixed(1)} ms`);

  // ---- renameQuery → durable commit ----------------------------------------------------------
  const renameMs = await call("renames", RENAMES);
  const renames = { n: renameMs.length, p50: quantile(renameMs, 0.5), p95: quantile(renameMs, 0.95), max: Math.max(...renameMs) };
  log(`renameQuery: p50 ${renames.p50.toFixed(1)} ms, p95 ${renames.p95.toFixed(1)} ms`);
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
    await call("run", contender, "cold");
    running = false;
    await sampler;
    const wasmAfter = await call("wasmMemoryBytes");
    await call("cleanup", contender);
    memory[contender] = { baseHeap: base.JSHeapUsedSize, peakHeap: peak, samples, wasmBefore, wasmAfter };
    log(`memory ${contender}: JS heap ${(base.JSHeapUsedSize / 1e6).toFixed(1)} → peak ${(peak / 1e6).toFixed(1)} MB (${samples} samples), wasm ${(wasmAfter / 1e6).toFixed(1)} MB`);
  }

  // ---- where sync-core's cold start spends its time (one sampled CPU profile) ------------------
  let profiled = { ms: NaN };
  let profileTop = [];
  try {
  await call("prepare", "sync-core", "cold");
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
  await cdp.send("Profiler.start");
  profiled = await call("run", "sync-core", "cold");
  const { profile } = await cdp.send("Profiler.stop");
  await call("cleanup", "sync-core");
  profileTop = summarizeProfile(profile, profiled.ms);
  log(`profile of one sync-core cold start (${profiled.ms.toFixed(0)} ms): ${profileTop.slice(0, 5).map((p) => `${p.name} ${p.pct.toFixed(1)} %`).join(", ")}`);
  } catch (error) {
    // The profile is a diagnosis, not a measurement: its failure must not cost the report.
    log(`CPU profile failed: ${error instanceof Error ? error.message : error}`);
  }

  if (problems.length > 0) throw new Error(`problems:\n${problems.join("\n")}`);

  // ---- bundle size and environment -----------------------------------------------------------
  const size = await bundleReport();
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
    config: { warmup: WARMUP, trials: TRIALS, renderTrials: RENDER_TRIALS, renames: RENAMES, seed: SEED, pages: PAGES, pageSize: PAGE_SIZE },
    environment,
    throughput,
    counts,
    orders,
    firstRender,
    renames,
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
  await browser.close();
  await server.close();
}
process.exit(exitCode);

/**
 * Self time per function of a CDP CPU profile, largest first. Wasm functions of the stripped
 * release build show as `$func123`; they are grouped as "wasm (sync-core engine)".
 */
function summarizeProfile(profile, wallMs) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const groups = new Map();
  for (const [id, count] of counts) {
    const frame = byId.get(id).callFrame;
    const wasm = frame.url.startsWith("wasm://") || /^\$?func\d+$|^wasm-function/.test(frame.functionName);
    const file = frame.url.split("/").pop() || "";
    const name = wasm ? "wasm (sync-core engine, all functions)" : `${frame.functionName || "(anonymous)"} ${file}`.trim();
    groups.set(name, (groups.get(name) ?? 0) + count);
  }
  return [...groups]
    .map(([name, count]) => ({ name, samples: count, pct: (100 * count) / total, ms: (wallMs * count) / total }))
    .sort((a, b) => b.samples - a.samples)
    .slice(0, 20);
}
