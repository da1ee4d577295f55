// Test-only, part of this consumer app and never of the package: makes the package's wasm
// instance trap on demand, so the e2e tests can prove how a Rust panic (a WebAssembly trap in
// the release build) reaches the app — without the package exporting any test hook
// (PROTOCOL §9.11).
//
// It wraps `WebAssembly.instantiate`/`instantiateStreaming` so the instance the wasm-bindgen
// glue keeps has its exported functions wrapped. When armed, a wrapper calls the module's own
// allocator with an invalid alignment first: wasm-bindgen's `__wbindgen_malloc` then aborts
// (`malloc_failure` → `std::process::abort`),
// which in the release build is a real `unreachable` trap inside the shipped module — the
// same `WebAssembly.RuntimeError` a panic produces, thrown from the same call sites:
// - "sync": during the next call of a `SyncCore` method (export `synccore_*`);
// - "async": during the first wasm call after that method returned, i.e. when the microtask
//   that polls its future enters the module — where an engine panic after an await surfaces.

export type TrapMode = "sync" | "async";

let armed: TrapMode | "next" | null = null;
let malloc: ((size: number, align: number) => number) | null = null;

function trap(): never {
  armed = null;
  if (!malloc) throw new Error("trap switch: no wasm-bindgen allocator found among the module's exports");
  malloc(8, 3);
  throw new Error("trap switch: the allocator did not trap");
}

/**
 * wasm-bindgen's allocator `__wbindgen_malloc(size, align)`. The CLI renames its internal
 * exports in order (`__wbindgen_export` is the allocator, `…export2` realloc, `…export3`
 * free, as the glue's `passStringToWasm0(…, wasm.__wbindgen_export, wasm.__wbindgen_export2)`
 * shows); older CLIs keep the name. Two parameters, or it is not the allocator. If a future
 * CLI names it otherwise, `trap()` fails loudly instead of testing nothing.
 */
function allocator(exports: WebAssembly.Exports): ((size: number, align: number) => number) | null {
  for (const name of ["__wbindgen_malloc", "__wbindgen_export"]) {
    const f = exports[name];
    if (typeof f === "function" && f.length === 2) return f as (size: number, align: number) => number;
  }
  return null;
}

function isSyncCore(exports: WebAssembly.Exports): boolean {
  return Object.keys(exports).some((k) => k.startsWith("synccore_"));
}

function wrap(exports: WebAssembly.Exports): WebAssembly.Exports {
  malloc = allocator(exports);
  const wrapped: Record<string, WebAssembly.ExportValue> = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== "function") {
      wrapped[name] = value;
      continue;
    }
    const method = name.startsWith("synccore_");
    const real = value as (...args: unknown[]) => unknown;
    wrapped[name] = function (this: unknown, ...args: unknown[]) {
      if (armed === "next" || (armed === "sync" && method)) trap();
      const result = real.apply(this, args);
      if (armed === "async" && method) armed = "next";
      return result;
    } as WebAssembly.ExportValue;
  }
  return wrapped;
}

type Instantiated = WebAssembly.WebAssemblyInstantiatedSource;

/** `{instance, module}` with the instance's functions wrapped (other modules untouched). The
 * glue takes `{instance, module}` from either call, so an `Instance` result (instantiating a
 * compiled `Module`) is returned in that shape too. */
function patched(source: Instantiated | WebAssembly.Instance, module: unknown): Instantiated | WebAssembly.Instance {
  const instance = source instanceof WebAssembly.Instance ? source : source.instance;
  if (!isSyncCore(instance.exports)) return source;
  const fake = { exports: wrap(instance.exports) } as WebAssembly.Instance;
  const compiled = source instanceof WebAssembly.Instance ? (module as WebAssembly.Module) : source.module;
  return { instance: fake, module: compiled };
}

const realInstantiate = WebAssembly.instantiate.bind(WebAssembly) as (
  ...a: unknown[]
) => Promise<Instantiated | WebAssembly.Instance>;
const realStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
(WebAssembly as { instantiate: unknown }).instantiate = async (...args: unknown[]) =>
  patched(await realInstantiate(...args), args[0]);
(WebAssembly as { instantiateStreaming: unknown }).instantiateStreaming = async (
  ...args: Parameters<typeof WebAssembly.instantiateStreaming>
) => patched(await realStreaming(...args), undefined);

/** Makes the module trap at the next matching call (see the module comment). */
export function armTrap(mode: TrapMode): void {
  armed = mode;
}
