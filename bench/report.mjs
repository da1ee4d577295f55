// Renders a bench report (run.mjs) as the markdown tables BENCHMARKS.md quotes.
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const verdict = (ok) => (ok ? "met" : "**missed**");

/** Issue 13's targets: apply speed against the floor and Dexie (warm has no Dexie target). */
const TARGETS = { cold: { floor: 0.8, dexie: 1.5 }, warm: { floor: 0.7, dexie: null } };

export function renderMarkdown(r) {
  const out = [];
  const e = r.environment;
  out.push(`## Figures (${r.mode} run, ${e.date})`, "");
  out.push(
    `Config: ${r.config.warmup} warm-up + ${r.config.trials} counted trials, ${r.config.pages} pages × ${r.config.pageSize} items per scenario, ` +
      `warm database of ${r.config.preloadItems} items, seed ${r.config.seed}; ` +
      `${r.config.renderTrials} first-render pairs; ${r.config.renames} renames. Run took ${f(e.durationSec, 0)} s.`,
    "",
  );
  out.push(
    `Environment: ${e.cpu}, ${e.cores} cores, ${f(e.memGiB, 1)} GiB RAM, headless Chromium ${e.chromium}, Node ${e.node}. ` +
      `Load average before ${e.load.before.map((x) => f(x, 2)).join("/")}, after ${e.load.after.map((x) => f(x, 2)).join("/")} (shared machine).`,
    "",
  );
  out.push("### Apply throughput", "");
  out.push("| scenario | contender | median time | items/s | MB/s |", "|---|---|---:|---:|---:|");
  for (const [s, t] of Object.entries(r.throughput)) {
    for (const [c, x] of Object.entries(t.contenders)) {
      out.push(`| ${s} (${t.items} items, ${mb(t.bytes)}) | ${c} | ${f(x.medianMs, 0)} ms | ${f(x.itemsPerSec, 0)} | ${f(x.mbPerSec, 2)} |`);
    }
  }
  out.push("", "| scenario | ratio | median of paired ratios | bootstrap 95 % CI | target |", "|---|---|---:|---|---|");
  for (const [s, t] of Object.entries(r.throughput)) {
    const want = TARGETS[s];
    out.push(`| ${s} | sync-core ÷ raw floor | ${f(t.vsFloor.median, 3)} | [${f(t.vsFloor.ci95[0], 3)}, ${f(t.vsFloor.ci95[1], 3)}] | ≥ ${want.floor}: ${verdict(t.vsFloor.median >= want.floor)} |`);
    out.push(`| ${s} | sync-core ÷ Dexie | ${f(t.vsDexie.median, 3)} | [${f(t.vsDexie.ci95[0], 3)}, ${f(t.vsDexie.ci95[1], 3)}] | ${want.dexie ? `≥ ${want.dexie}: ${verdict(t.vsDexie.median >= want.dexie)}` : "—"} |`);
  }
  out.push("", "Rows held after the first trial (the same-semantics check: sync-core and Dexie must agree):", "");
  for (const [s, c] of Object.entries(r.counts)) {
    out.push(`- ${s}: sync-core ${JSON.stringify(c["sync-core"])}; Dexie ${JSON.stringify(c.dexie)}`);
  }
  const fr = r.firstRender;
  out.push("", "### Time to first render from cache (open + widgets of one 48-widget dashboard + newest snapshot of each)", "");
  out.push("| sync-core | raw floor (same database: open + index getAll + 48 reverse cursors) | ratio (median of pairs) | 95 % CI | target ≤ 1.3 |", "|---:|---:|---:|---|---|");
  out.push(`| ${f(fr.syncCoreMs)} ms | ${f(fr.rawMs)} ms | ${f(fr.ratio.median, 2)} | [${f(fr.ratio.ci95[0], 2)}, ${f(fr.ratio.ci95[1], 2)}] | ${verdict(fr.ratio.median <= 1.3)} |`);
  if (fr.rawSpread) {
    const row = (name, x) => `| ${name} | ${f(x.min)} | ${f(x.p25)} | ${f(x.median)} | ${f(x.p75)} | ${f(x.p90)} | ${f(x.max)} |`;
    out.push("", "Spread over the pairs (ms):", "", "| side | min | p25 | median | p75 | p90 | max |", "|---|---:|---:|---:|---:|---:|---:|");
    out.push(row("raw floor", fr.rawSpread), row("sync-core", fr.syncCoreSpread));
  }
  out.push("", "### renameQuery → durable commit", "");
  out.push(`${r.renames.n} renames: p50 ${f(r.renames.p50)} ms, p95 ${f(r.renames.p95)} ms, max ${f(r.renames.max)} ms.`);
  if (r.repeatPulls) {
    const rp = r.repeatPulls;
    out.push("", "### A pull on an open client that has pulled before (one empty page, warm database of the first render)", "");
    out.push("| first pull of a new client (loads the held index) | next pull of the same client | ratio (median of pairs) | 95 % CI |", "|---:|---:|---:|---|");
    out.push(`| ${f(rp.firstMs)} ms | ${f(rp.nextMs)} ms | ${f(rp.ratio.median, 2)} | [${f(rp.ratio.ci95[0], 2)}, ${f(rp.ratio.ci95[1], 2)}] |`);
    out.push("", `${rp.n} pairs, each on a client of its own.`);
  }
  out.push("", `### Memory during a ${r.config.pages * r.config.pageSize}-item cold start`, "");
  out.push("| contender | JS heap before | peak JS heap | wasm memory after | CDP samples |", "|---|---:|---:|---:|---:|");
  for (const [c, m] of Object.entries(r.memory)) {
    out.push(`| ${c} | ${mb(m.baseHeap)} | ${mb(m.peakHeap)} | ${c === "sync-core" ? `${mb(m.wasmAfter)} (before: ${mb(m.wasmBefore)})` : "—"} | ${m.samples} |`);
  }
  if (r.profile) {
    out.push("", `### Where sync-core's cold start goes (one CPU profile, ${f(r.profile.ms, 0)} ms wall, self time)`, "");
    out.push("| share of samples | ≈ ms | function |", "|---:|---:|---|");
    for (const p of r.profile.top) out.push(`| ${f(p.pct)} % | ${f(p.ms, 0)} | \`${p.name.slice(0, 100)}\` |`);
  }
  const z = r.size;
  out.push("", "### Bundle size", "");
  out.push("| what | raw | gzip -9 | brotli q11 |", "|---|---:|---:|---:|");
  for (const p of z.perFile) out.push(`| pkg/${p.file} | ${kb(p.raw)} | ${kb(p.gzip)} | ${kb(p.brotli)} |`);
  out.push(`| **all files, each compressed** | ${kb(z.total.raw)} | ${kb(z.total.gzip)} | ${kb(z.total.brotli)} |`);
  out.push(`| wasm + package JS minified by esbuild | ${kb(z.shipped.total.raw)} | ${kb(z.shipped.total.gzip)} | ${kb(z.shipped.total.brotli)} |`);
  out.push("", `Target ≤ 100 KB gzip: ${verdict(z.shipped.total.gzip <= 100 * 1024)}.`, "");
  out.push(`Wasm sections (bytes): ${Object.entries(z.sections).map(([k, v]) => `${k} ${v}`).join(", ")}; ${z.functionCount} function bodies.`, "");
  if (z.named) {
    out.push(
      `Per-function sizes come from an unstripped build of the same release profile (\`cargo build --profile sizeprof\`, names kept; before wasm-bindgen, so its code section is ${kb(z.named.codeBytes)} against ${kb(z.sections.code ?? 0)} shipped).`,
      "",
      "| crate | code bytes |",
      "|---|---:|",
    );
    for (const [c, b] of z.named.crates) out.push(`| ${c} | ${b} |`);
    if (z.named.gzip) {
      out.push(
        "",
        `What groups of functions cost the compressed wasm: gzip -9 of the unstripped build without custom sections (${kb(z.named.gzip.base)}) minus the same with the group's bodies replaced by \`unreachable\` (\`bench/size.mjs\`, \`withoutBodies\`). Each group is measured alone; groups overlap, so they do not add up.`,
        "",
        "| group | gzip share |",
        "|---|---:|",
      );
      for (const s of z.named.gzip.shares) out.push(`| ${s.label} | ${kb(s.bytes)} |`);
    }
    out.push("", "| bytes | largest functions |", "|---:|---|");
    for (const fn of z.named.top) out.push(`| ${fn.bytes} | \`${fn.name.slice(0, 120).replace(/\|/g, "\\|")}\` |`);
  }
  if (z.twiggy) out.push("", "`twiggy top -n 25`:", "", "```", z.twiggy.trim(), "```");
  return `${out.join("\n")}\n`;
}
