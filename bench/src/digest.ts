// Canonical JSON (object keys sorted, no whitespace) and the hex SHA-256 of a snapshot's rows,
// as PROTOCOL §6 defines the dedupe digest. Used by the Dexie contender (inside its timing) and
// by the preloaders (outside the timing).

export function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
}

const encoder = new TextEncoder();

export async function rowsDigest(rows: unknown[]): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(canonical(rows))));
  let hex = "";
  for (const b of hash) hex += b.toString(16).padStart(2, "0");
  return hex;
}
