// Bundle size of what the package ships (wasm + wasm-bindgen glue + TS wrapper): raw, gzip -9
// and brotli (quality 11), per file and in total, plus the minified bundle an app's bundler
// makes of the JS; and a per-function size breakdown of the wasm — `twiggy top` when twiggy is
// installed, and always our own reading of the code section against the `name` section.
import { execFileSync } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
// The package as the benchmark installed it from pkg/sync-core-<version>.tgz: the same files
// the run measured, even if someone rebuilds pkg/ meanwhile.
const PKG = here("./node_modules/sync-core/");

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

function leb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos];
    pos += 1;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

function readName(buf, pos) {
  const [len, p] = leb(buf, pos);
  return [buf.subarray(p, p + len).toString("utf8"), p + len];
}

function lebBytes(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** The sections of a module as `{id, body}` (body without the id and size). */
function sectionsOf(buf) {
  const out = [];
  let pos = 8;
  while (pos < buf.length) {
    const [size, start] = leb(buf, pos + 1);
    out.push({ id: buf[pos], body: buf.subarray(start, start + size) });
    pos = start + size;
  }
  return out;
}

/**
 * The module without its custom sections and with the bodies of the functions `drop(index)`
 * picks (code-section order) replaced by `unreachable`: gzip -9 of it against gzip -9 of the
 * module with none dropped is what those functions cost the compressed wasm. A function's raw
 * size says little about that: the copies of one generic compress against each other.
 */
function withoutBodies(buf, drop) {
  const parts = [buf.subarray(0, 8)];
  for (const { id, body } of sectionsOf(buf)) {
    if (id === 0) continue;
    let out = body;
    if (id === 10) {
      let [count, p] = leb(body, 0);
      const bodies = [lebBytes(count)];
      for (let i = 0; i < count; i += 1) {
        const [len, q] = leb(body, p);
        bodies.push(drop(i) ? Buffer.from([3, 0, 0, 0x0b]) : body.subarray(p, q + len));
        p = q + len;
      }
      out = Buffer.concat(bodies);
    }
    parts.push(Buffer.from([id]), lebBytes(out.length), out);
  }
  return Buffer.concat(parts);
}

/**
 * What each group of functions costs the gzip of the wasm (`withoutBodies`), on the unstripped
 * build: a group's share is measured alone, so groups that overlap (the sync-core closures
 * include serde calls inlined into them) do not add up.
 */
const SHARE_GROUPS = [
  ["sync-core, all its functions", /sync_core::/],
  ["sync-core async state machines (`{{closure}}`)", /sync_core::.*\{\{closure\}\}/],
  // What a wasm core without I/O would keep at least: the engine's and the protocol's own
  // functions that are not async (legacy names do not say whether a generic one was
  // instantiated over the browser's store; bench/size-floor.py can tell).
  ["sync-core planning logic (engine, protocol; not async)", /^<?sync_core::(engine|protocol)::(?!.*\{\{closure\}\})/],
  ["serde_json (Value, its maps, the writer)", /serde_json::/],
  ["serde-wasm-bindgen", /serde_wasm_bindgen::/],
  ["serde, all (derives, serde_json, serde-wasm-bindgen)", /serde|__FieldVisitor|__Visitor/],
  ["js-sys, wasm-bindgen, web-sys", /^<?(js_sys|wasm_bindgen|wasm_bindgen_futures|web_sys)::/],
  ["idb", /^<?idb::/],
  ["B-tree maps", /btree::/],
  ["hash maps", /hashbrown::/],
  ["std sorts", /slice::sort::/],
  ["float formatting", /flt2dec|fmt::float|bignum|zmij/],
  ["core::fmt", /core::fmt::/],
  ["allocator (dlmalloc)", /dlmalloc|__rdl_|__rust_alloc|__rust_dealloc/],
  ["sha2", /sha2::/],
];

function gzipShares(buf, names) {
  const base = gzipSync(withoutBodies(buf, () => false), { level: 9 }).length;
  const shares = SHARE_GROUPS.map(([label, re]) => {
    const without = withoutBodies(buf, (i) => re.test(names[i] ?? ""));
    return { label, bytes: base - gzipSync(without, { level: 9 }).length };
  });
  return { base, shares };
}

/** Function body sizes by name, largest first, plus section sizes. */
export function wasmFunctions(buf) {
  let pos = 8;
  let imported = 0;
  const bodies = [];
  const names = new Map();
  const sections = {};
  const SECTION = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, start] = leb(buf, pos + 1);
    const end = start + size;
    let label = SECTION[id] ?? `section${id}`;
    if (id === 0) label = `custom:${readName(buf, start)[0]}`;
    sections[label] = (sections[label] ?? 0) + (end - pos);
    if (id === 2) {
      let [count, p] = leb(buf, start);
      for (let i = 0; i < count; i += 1) {
        [, p] = readName(buf, p);
        [, p] = readName(buf, p);
        const kind = buf[p];
        p += 1;
        if (kind === 0) {
          imported += 1;
          [, p] = leb(buf, p);
        } else if (kind === 1) {
          p += 1;
          const flags = buf[p];
          [, p] = leb(buf, p + 1);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 2) {
          const flags = buf[p];
          [, p] = leb(buf, p + 1);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 3) p += 2;
        else [, p] = leb(buf, p + 1);
      }
    } else if (id === 10) {
      let [count, p] = leb(buf, start);
      for (let i = 0; i < count; i += 1) {
        const [len, q] = leb(buf, p);
        bodies.push(q + len - p);
        p = q + len;
      }
    } else if (id === 0 && readName(buf, start)[0] === "name") {
      let p = readName(buf, start)[1];
      while (p < end) {
        const sub = buf[p];
        const [len, q] = leb(buf, p + 1);
        if (sub === 1) {
          let [count, r] = leb(buf, q);
          for (let i = 0; i < count; i += 1) {
            let index;
            let name;
            [index, r] = leb(buf, r);
            [name, r] = readName(buf, r);
            names.set(index, name);
          }
        }
        p = q + len;
      }
    }
    pos = end;
  }
  const inOrder = bodies.map((bytes, i) => ({ name: names.get(i + imported) ?? `func[${i + imported}]`, bytes }));
  const functions = [...inOrder].sort((a, b) => b.bytes - a.bytes);
  return { functions, inOrder, sections, named: names.size > 0 };
}

const SIZEPROF = here("../target/wasm32-unknown-unknown/sizeprof/sync_core.wasm");
const ESCAPES = { $LT$: "<", $GT$: ">", $RF$: "&", $BP$: "*", $C$: ",", $u20$: " ", $u27$: "'", $u5b$: "[", $u5d$: "]", $u7b$: "{", $u7d$: "}", $u7e$: "~", $LP$: "(", $RP$: ")", $SP$: "@" };

/** Legacy Rust symbol (`_ZN…17h<hash>E`) to a path; other names are returned as they are. */
export function demangle(name) {
  const m = /^_ZN(.*)E$/.exec(name);
  if (!m) return name;
  const parts = [];
  let rest = m[1];
  while (rest.length > 0) {
    const len = /^(\d+)/.exec(rest);
    if (!len) break;
    const n = Number(len[1]);
    parts.push(rest.slice(len[1].length, len[1].length + n));
    rest = rest.slice(len[1].length + n);
  }
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
  return parts
    .join("::")
    .replace(/\$[A-Za-z0-9]+\$/g, (e) => ESCAPES[e] ?? e)
    .replace(/\.\./g, "::");
}

/** The crate a (demangled) function belongs to, for the per-crate totals. */
function crateOf(name) {
  const v0 = /^_R\w*?Cs\w+?_(\d+)([a-z_0-9]+)/.exec(name);
  if (v0) return v0[2].slice(0, Number(v0[1]));
  // `<impl a::T for b::U>` / `<&mut a::T as b::Tr>`: the first path names the crate.
  const m = /([a-z_][a-z0-9_]*)::/.exec(name);
  return m ? m[1] : "(other)";
}

/**
 * Function sizes from the unstripped build of the same release profile (the shipped wasm is
 * stripped of names): `cargo build --profile sizeprof`, which bench/run.sh refreshes before a
 * full run (a quick run reads whatever the last full run built).
 */
async function namedBreakdown() {
  let buf;
  try {
    buf = await readFile(SIZEPROF);
  } catch {
    return null;
  }
  const { functions, inOrder, sections } = wasmFunctions(buf);
  const named = functions.map((f) => ({ name: demangle(f.name), bytes: f.bytes }));
  const gzip = gzipShares(buf, inOrder.map((f) => demangle(f.name)));
  const crates = {};
  for (const f of named) crates[crateOf(f.name)] = (crates[crateOf(f.name)] ?? 0) + f.bytes;
  return {
    codeBytes: sections.code,
    top: named.slice(0, 25),
    crates: Object.entries(crates).sort((a, b) => b[1] - a[1]).slice(0, 15),
    gzip,
  };
}

function twiggyTop(wasm) {
  for (const bin of [process.env.TWIGGY, join(process.env.HOME ?? "", ".cargo/bin/twiggy"), "twiggy"]) {
    if (!bin) continue;
    try {
      return execFileSync(bin, ["top", "-n", "25", wasm], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      // next candidate
    }
  }
  return null;
}

export async function bundleReport(dir = "dist") {
  const wasmPath = join(PKG, "wasm/sync_core_bg.wasm");
  const files = ["wasm/sync_core_bg.wasm", "wasm/sync_core.js"];
  // JS snippets wasm-bindgen emits for inline `#[wasm_bindgen(module = …)]` code, if any.
  for (const f of (await readdir(join(PKG, "wasm"), { recursive: true })).sort()) if (f.startsWith("snippets/") && f.endsWith(".js")) files.push(`wasm/${f}`);
  for (const f of (await readdir(join(PKG, "dist"))).sort()) if (f.endsWith(".js")) files.push(`dist/${f}`);
  const perFile = [];
  const all = [];
  for (const f of files) {
    const buf = await readFile(join(PKG, f));
    all.push(buf);
    perFile.push({ file: f, ...sizes(buf) });
  }
  // Per-file compression over-counts small files; the sum is what HTTP transfers file by file.
  const total = perFile.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip, brotli: a.brotli + f.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  const wasm = await readFile(wasmPath);
  const minJs = await readFile(here(`./${dir}/sync-core.min.js`));
  const shipped = { wasm: sizes(wasm), minifiedJs: sizes(minJs) };
  shipped.total = {
    raw: shipped.wasm.raw + shipped.minifiedJs.raw,
    gzip: shipped.wasm.gzip + shipped.minifiedJs.gzip,
    brotli: shipped.wasm.brotli + shipped.minifiedJs.brotli,
  };
  const breakdown = wasmFunctions(wasm);
  return {
    perFile,
    total,
    shipped,
    functions: breakdown.functions.slice(0, 25),
    functionCount: breakdown.functions.length,
    namedFunctions: breakdown.named,
    sections: breakdown.sections,
    named: await namedBreakdown(),
    twiggy: twiggyTop(SIZEPROF) ?? twiggyTop(wasmPath),
  };
}
