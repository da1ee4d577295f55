// Summary of a CDP CPU profile for the report: self time per function, largest first.

/**
 * Self time per function of a CDP CPU profile, largest first. Wasm functions of the stripped
 * release build show as `$func123`; they are grouped as "wasm (sync-core engine)".
 */
export function summarizeProfile(profile, wallMs) {
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
