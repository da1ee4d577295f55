// The browser's pull page decoder (src/web/idb/page_decode.rs binds it; issue 13, design item 1).
//
// Why JS: the page is parsed once, by `JSON.parse`, into the objects IndexedDB will store.
// The wasm engine plans on each item's metadata (kind, op, key, version, snapshot key and
// rows digest) and the store puts these objects as they are: no row is parsed in wasm,
// re-serialized, or parsed again here.
//
// It must refuse and keep exactly what the Rust reference decoder does
// (src/engine/pull/decoded_page.rs: protocol/pull.rs's strict parser, engine/pull/privacy.rs,
// engine/pull/item_meta.rs); tests/web/page_decode.rs compares the two on generated pages. Where
// `JSON.parse` is more lenient than serde it is checked here: bytes that are not UTF-8 and
// strings holding a lone surrogate (which serde refuses) refuse the page as invalid JSON.
// Known and kept differences: a version written `5.0` is 5 here (serde refuses it); a version
// above 2^53 - 1 is refused here as the page's error (the Rust path refuses it when the record
// is encoded); a body that is not UTF-8 is refused here as invalid JSON, where serde may first
// refuse it for its shape (it does not check bytes inside values it skips).

const KINDS = ["Dashboard", "Widget", "MetricDefinition", "WidgetSnapshot", "Query", "Projection", "DqAlertOpen"];
const KIND_NAMES = new Set(KINDS);
const KEY_FIELD = {
  Dashboard: "id",
  Widget: "id",
  MetricDefinition: "key",
  Query: "id",
  Projection: "key",
  DqAlertOpen: "id",
};
const ALERT_FIELDS = ["id", "checkKey", "severity", "observedAt"];

/** Item op codes, as `idb/page_decode.rs` reads them. */
const UPSERT = 0;
const TOMBSTONE = 1;
const APPEND = 2;
const TOO_LARGE = 3;
const RESET = 4;

/** A surrogate, raw or escaped, somewhere in the body: its strings need the lone-surrogate check. */
const SURROGATE = /[\uD800-\uDFFF]|\\u[dD][89a-fA-F]/;
/** A surrogate code unit. */
const SURROGATE_CHAR = /[\uD800-\uDFFF]/;
/** A lone surrogate in a string. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** An escaped NUL: the strings then travel as an array, not NUL-separated. */
const NUL = /\\u0000/;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Refused extends Error {
  constructor(index, reason) {
    super(reason);
    this.index = index;
  }
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
// `JSON.parse` never makes an undefined value, and no field name read here is a member of
// Object.prototype: a field is present exactly when it is not undefined (cheaper than
// hasOwnProperty on every field of every item).
const has = (o, k) => o[k] !== undefined;
const refuse = (index, reason) => {
  throw new Refused(index, reason);
};

function requireStr(index, row, field) {
  const v = row[field];
  if (!has(row, field) || typeof v !== "string" || v === "") refuse(index, `row.${field} must be a non-empty string`);
}

function requireOptStr(index, row, field) {
  if (has(row, field) && row[field] !== null && typeof row[field] !== "string") refuse(index, `row.${field} must be a string`);
}

function requireObject(index, row, field) {
  if (!has(row, field) || !isObject(row[field])) refuse(index, `row.${field} must be an object`);
}

/** protocol/pull.rs `validate_row`. */
function validateRow(index, kind, row) {
  const key = KEY_FIELD[kind];
  if (key !== undefined) requireStr(index, row, key);
  switch (kind) {
    case "Dashboard":
      requireObject(index, row, "name_i18n");
      if (has(row, "tables") && !(Array.isArray(row.tables) && row.tables.every((t) => typeof t === "string"))) {
        refuse(index, "row.tables must be an array of strings");
      }
      if (has(row, "sharedWith") && !Array.isArray(row.sharedWith)) refuse(index, "row.sharedWith must be an array");
      break;
    case "Widget":
      requireStr(index, row, "dashboardId");
      requireStr(index, row, "metricKey");
      requireOptStr(index, row, "queryId");
      if (has(row, "freshness")) {
        const f = row.freshness;
        const minutes = (name) => !has(f, name) || typeof f[name] === "number";
        if (!isObject(f) || !minutes("alertAtMinutes") || !minutes("targetMinutes")) {
          refuse(index, "row.freshness must hold numeric minutes");
        }
      }
      break;
    case "WidgetSnapshot":
      requireStr(index, row, "widgetId");
      requireStr(index, row, "generatedAt");
      requireStr(index, row, "paramsHash");
      if (!has(row, "rows") || !Array.isArray(row.rows)) refuse(index, "row.rows must be an array");
      break;
    case "Query":
      requireStr(index, row, "ownerId");
      requireObject(index, row, "name_i18n");
      break;
    case "Projection":
      requireOptStr(index, row, "lastSuccessAt");
      if (has(row, "lagMinutes") && row.lagMinutes !== null && typeof row.lagMinutes !== "number") {
        refuse(index, "row.lagMinutes must be a number");
      }
      break;
    case "DqAlertOpen":
      requireStr(index, row, "checkKey");
      requireStr(index, row, "severity");
      break;
    default:
      break;
  }
}

const EMBED = /embed/i;

/** privacy.rs `drop_embed_fields`, in place, through objects and arrays. */
function dropEmbeds(value) {
  if (Array.isArray(value)) {
    for (const v of value) dropEmbeds(v);
  } else if (isObject(value)) {
    for (const k of Object.keys(value)) {
      if (EMBED.test(k)) delete value[k];
      else dropEmbeds(value[k]);
    }
  }
}

/** privacy.rs `strip_row` (PROTOCOL §7): returns the row to keep. */
function stripRow(kind, row, userId) {
  switch (kind) {
    case "Dashboard": {
      dropEmbeds(row);
      if (has(row, "sharedWith")) {
        const kept = [];
        if (Array.isArray(row.sharedWith)) {
          for (const e of row.sharedWith) {
            if (!isObject(e)) continue;
            if (e.kind !== "user" && e.kind !== "role") continue;
            if (typeof e.id !== "string" || e.id === "") continue;
            kept.push({ kind: e.kind, id: e.id });
          }
        }
        row.sharedWith = kept;
      }
      return row;
    }
    case "Query":
      if (userId === "" || row.ownerId !== userId) delete row.sql_template;
      return row;
    case "DqAlertOpen": {
      const kept = {};
      for (const f of ALERT_FIELDS) if (has(row, f)) kept[f] = row[f];
      return kept;
    }
    default:
      return row;
  }
}

/** Code points sort like UTF-8 bytes; `sort()` compares UTF-16 units, which differs only past the BMP. */
const byCodePoint = (a, b) => {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
};

/**
 * engine/canonical.rs: keys sorted by code point, no whitespace, numbers as JavaScript writes
 * them (what `JSON.stringify` writes, and what es_number.rs writes). `surrogateFree`: no string
 * of `value` holds a surrogate (the caller checked the page's text once), so no key needs the
 * per-key check below.
 */
export function canonical(value, surrogateFree = false) {
  // When every object's keys are already in order, `JSON.stringify` writes exactly the
  // canonical text in one native call; otherwise each object's keys are sorted, once per run
  // of objects of one shape (a snapshot's rows, in the order the warehouse returned columns).
  return inCanonicalOrder(value, surrogateFree) ? JSON.stringify(value) : canonicalSorted(value);
}

/**
 * Whether every object of `value` lists its keys in canonical order. A key holding a
 * surrogate sends the value to the slow path: UTF-16 order (`<`) and code point order differ
 * there.
 */
function inCanonicalOrder(value, surrogateFree) {
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) if (!inCanonicalOrder(value[i], surrogateFree)) return false;
    return true;
  }
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i];
    if (i > 0 && !(keys[i - 1] < key)) return false;
    if (!surrogateFree && SURROGATE_CHAR.test(key)) return false;
    if (!inCanonicalOrder(value[key], surrogateFree)) return false;
  }
  return true;
}

/** `canonical`, sorting each object's keys. */
function canonicalSorted(value) {
  if (typeof value !== "object" || value === null) {
    // `String` writes a finite number as `JSON.stringify` does (`JSON.parse` makes no other).
    return typeof value === "number" ? String(value) : JSON.stringify(value);
  }
  let out;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ",";
      out += canonicalSorted(value[i]);
    }
    return `${out}]`;
  }
  const order = sortedKeys(Object.keys(value));
  out = "{";
  for (let i = 0; i < order.keys.length; i += 1) {
    if (i > 0) out += ",";
    out += `${order.quoted[i]}:${canonicalSorted(value[order.keys[i]])}`;
  }
  return `${out}}`;
}

/** The last object's keys and their canonical order: a snapshot's rows share one shape. */
let lastKeys = [];
let lastOrder = { keys: [], quoted: [] };

/** `keys` in canonical order, each also as JSON text; sorted once per run of one shape. */
function sortedKeys(keys) {
  let same = keys.length === lastKeys.length;
  for (let i = 0; same && i < keys.length; i += 1) same = keys[i] === lastKeys[i];
  if (!same) {
    const sorted = keys.slice().sort();
    if (sorted.some((k) => SURROGATE_CHAR.test(k))) sorted.sort(byCodePoint);
    lastKeys = keys;
    lastOrder = { keys: sorted, quoted: sorted.map((k) => JSON.stringify(k)) };
  }
  return lastOrder;
}

/** Whether any string of `value` (keys included) holds a lone surrogate. */
function holdsLoneSurrogate(value) {
  if (typeof value === "string") return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (isObject(value)) return Object.keys(value).some((k) => LONE_SURROGATE.test(k) || holdsLoneSurrogate(value[k]));
  return false;
}

/** UTF-8 length of a string. */
function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

/**
 * Decodes one `200 OK` pull body (`bytes`, a view the caller keeps alive for the call).
 * Returns `{refused: "json" | "shape" | "item", index, reason}` for a refused page
 * (protocol/pull.rs `PageError`), or the page: `ops` (Uint8Array, an op code per item),
 * `versions` (Float64Array, upserts), `text` (NUL-separated strings: per upsert kind and key, plus dashboardId and metricKey for a
 * Widget; per tombstone kind and id; per append widgetId, generatedAt and paramsHash; per too
 * large snapshot its widgetId; per reset its kind; `strings`, the same as an array, instead
 * when a string holds a NUL), `canon` (NUL-separated canonical JSON of
 * each kept append's `rows`), `rows` (item i's row object after privacy stripping, or
 * undefined), `nextCursor`, `drained`.
 */
export function decodePage(bytes, userId, maxSnapshotBytes) {
  let text;
  let body;
  try {
    text = decoder.decode(bytes);
    body = JSON.parse(text);
  } catch (e) {
    return { refused: "json", reason: e.message };
  }
  const surrogateFree = !SURROGATE.test(text);
  if (!surrogateFree && holdsLoneSurrogate(body)) {
    return { refused: "json", reason: "a string holds a lone surrogate" };
  }
  if (!isObject(body) || !Array.isArray(body.items) || typeof body.nextCursor !== "string" || typeof body.drained !== "boolean") {
    return { refused: "shape" };
  }
  const items = body.items;
  const n = items.length;
  const ops = new Uint8Array(n);
  const versions = new Float64Array(n);
  const rows = new Array(n);
  const strings = [];
  const canon = [];
  try {
    for (let i = 0; i < n; i += 1) {
      const item = items[i];
      if (!isObject(item)) refuse(i, "not an object");
      const kind = item.kind;
      if (typeof kind !== "string" || !has(item, "kind")) refuse(i, "missing kind");
      if (!KIND_NAMES.has(kind)) refuse(i, `unknown kind \`${kind}\``);
      const op = item.op;
      if (typeof op !== "string" || !has(item, "op")) refuse(i, "missing op");
      const versioned = kind !== "WidgetSnapshot";
      if (op === "upsert" && versioned) {
        if (!has(item, "version")) refuse(i, "upsert without version");
        const v = item.version;
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) refuse(i, "version is not a non-negative integer");
        if (!isObject(item.row) || !has(item, "row")) refuse(i, "row is not an object");
        validateRow(i, kind, item.row);
        const row = stripRow(kind, item.row, userId);
        ops[i] = UPSERT;
        versions[i] = v;
        rows[i] = row;
        strings.push(kind, row[KEY_FIELD[kind]]);
        if (kind === "Widget") strings.push(row.dashboardId, row.metricKey);
      } else if (op === "append" && kind === "WidgetSnapshot") {
        if (!isObject(item.row) || !has(item, "row")) refuse(i, "row is not an object");
        const row = item.row;
        validateRow(i, kind, row);
        if (utf8Length(JSON.stringify(row)) > maxSnapshotBytes) {
          ops[i] = TOO_LARGE;
          strings.push(row.widgetId);
        } else {
          ops[i] = APPEND;
          rows[i] = row;
          strings.push(row.widgetId, row.generatedAt, row.paramsHash);
          canon.push(canonical(row.rows, surrogateFree));
        }
      } else if (op === "tombstone" && versioned) {
        if (typeof item.id !== "string" || item.id === "" || !has(item, "id")) refuse(i, "tombstone without a string id");
        ops[i] = TOMBSTONE;
        strings.push(kind, item.id);
      } else if (op === "reset") {
        ops[i] = RESET;
        strings.push(kind);
      } else {
        refuse(i, `op \`${op}\` not allowed for ${kind}`);
      }
    }
  } catch (e) {
    if (e instanceof Refused) return { refused: "item", index: e.index, reason: e.message };
    throw e;
  }
  const nul = NUL.test(text);
  return {
    ops,
    versions,
    text: nul ? undefined : strings.join("\u0000"),
    strings: nul ? strings : undefined,
    canon: canon.join("\u0000"),
    rows,
    nextCursor: body.nextCursor,
    drained: body.drained,
  };
}
