// Summary of a CDP CPU profile for the report: self time per function, largest first.

/**
 * The step of the pull path a named wasm function belongs to (first match wins). Only a build
 * that keeps function names has them (`CARGO_PROFILE_RELEASE_STRIP=none make pkg`; the shipped
 * build is stripped, and all its functions are one group).
 */
const WASM_PHASES = [
  ["digest (canonical JSON + SHA-256)", /sha2::|canonical::/],
  ["privacy stripping", /privacy::/],
  ["planning (planner, retention, cache)", /planner::|snapshot_retention|state_cache|item_meta|apply_plan|cached_reads|integrity::/],
  ["parsing the page (serde_json de, wire_page)", /serde_json::de|serde_json::read|wire_page|protocol::pull|Deserialize|deserialize/],
  ["building records (serde_json ser, records.rs)", /serde_json::ser|records::|format_escaped|Serialize|serialize/],
  ["allocation", /dlmalloc|__rdl_|__rust_alloc|__rust_dealloc|raw_vec|RawVec/],
  ["maps (BTreeMap)", /btree/],
];

function wasmGroup(name) {
  if (/^\$?func\d+$|^wasm-function/.test(name)) return "wasm (sync-core engine, all functions)";
  const phase = WASM_PHASES.find(([, re]) => re.test(name));
  return `wasm: ${phase ? phase[0] : "other"}`;
}

/**
 * Self time per function of a CDP CPU profile, largest first. Wasm functions of the stripped
 * release build show as `$func123`; they are grouped as "wasm (sync-core engine)". With a
 * build that keeps names, wasm time is grouped by pull step instead (`WASM_PHASES`).
 */
export function summarizeProfile(profile, wallMs) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const groups = new Map();
  for (const [id, count] of counts) {
    const frame = byId.get(id).callFrame;
    const wasm = frame.url.startsWith("wasm://") || frame.url.endsWith(".wasm") || /^\$?func\d+$|^wasm-function/.test(frame.functionName);
    const file = frame.url.split("/").pop() || "";
    const name = wasm ? wasmGroup(frame.functionName) : `${frame.functionName || "(anonymous)"} ${file}`.trim();
    groups.set(name, (groups.get(name) ?? 0) + count);
  }
  return [...groups]
    .map(([name, count]) => ({ name, samples: count, pct: (100 * count) / total, ms: (wallMs * count) / total }))
    .sort((a, b) => b.samples - a.samples)
    .slice(0, 20);
}
