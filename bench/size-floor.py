#!/usr/bin/env python3
"""What the shipped wasm would weigh without any sync-core code: the floor under a size budget.

Usage: bench/size-floor.sh (builds the module this reads), or
       size-floor.py <module.wasm> <optimize-wasm.sh>

<module.wasm> is the wasm-bindgen output of a release build with v0 symbol names kept
(`-C symbol-mangling-version=v0`, names section kept): unlike legacy names, a v0 name spells
the crates of its generic arguments, so `future_to_promise::<sync_core::…>` counts as ours.

Prints gzip -9 of two modules, each run through the package's own wasm-opt passes
(scripts/optimize-wasm.sh, which also drops what nothing reaches) and stripped of names:
  - the module as built (≈ the shipped wasm);
  - with every function whose name mentions sync-core emptied (body `unreachable`): the
    crates, the std and the wasm-bindgen glue before a single function of ours (an
    over-estimate of that floor: what tables and exports reach stays).
"""
import gzip
import importlib.util
import os
import subprocess
import sys
import tempfile


# The wasm reader of the package build's own patch script (LEB128, sections, names, limits).
_reader = importlib.util.spec_from_file_location(
    "wasm_externref_export",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "wasm-externref-export.py"),
)
wasm = importlib.util.module_from_spec(_reader)
_reader.loader.exec_module(wasm)
leb, skip_name, skip_limits = wasm.leb, wasm.skip_name, wasm.skip_limits


def uleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sections(data):
    """(id, content) of every section."""
    return [(sid, data[start:end]) for sid, start, end in wasm.sections(data)]


def imported_functions(body):
    """How many functions the import section `body` imports (they are numbered first)."""
    count, k = leb(body, 0)
    n = 0
    for _ in range(count):
        k = skip_name(body, skip_name(body, k))
        kind = body[k]
        k += 1
        if kind == 0:  # function: type index
            _, k = leb(body, k)
            n += 1
        elif kind == 1:  # table: reference type, limits
            k = skip_limits(body, k + 1)
        elif kind == 2:  # memory: limits
            k = skip_limits(body, k)
        elif kind == 3:  # global: value type, mutability
            k += 2
        else:  # tag: attribute, type index
            _, k = leb(body, k + 1)
    return n


def function_names(secs):
    names = {}
    for sid, body in secs:
        if sid != 0:
            continue
        length, k = leb(body, 0)
        if body[k:k + length] != b"name":
            continue
        k += length
        while k < len(body):
            sub = body[k]
            size, k = leb(body, k + 1)
            end = k + size
            if sub == 1:
                count, q = leb(body, k)
                for _ in range(count):
                    index, q = leb(body, q)
                    length, q = leb(body, q)
                    names[index] = body[q:q + length].decode("utf8", "replace")
                    q += length
            k = end
    return names


def emptied(data, drop):
    """The module without custom sections, the bodies of functions `drop(index)` picks
    replaced by `unreachable`."""
    secs = sections(data)
    imported = next((imported_functions(b) for s, b in secs if s == 2), 0)
    out = bytearray(data[:8])
    for sid, body in secs:
        if sid == 0:
            continue
        if sid == 10:
            count, k = leb(body, 0)
            code = bytearray(uleb(count))
            for f in range(count):
                size, k2 = leb(body, k)
                fn = body[k2:k2 + size]
                k = k2 + size
                if drop(imported + f):
                    fn = b"\x00\x00\x0b"
                code += uleb(len(fn)) + fn
            body = bytes(code)
        out += bytes([sid]) + uleb(len(body)) + body
    return bytes(out)


def shipped_gzip(module, optimize):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(module)
        subprocess.run([optimize, path], check=True, stdout=subprocess.DEVNULL)
        with open(path, "rb") as f:
            return len(gzip.compress(f.read(), 9))


def main():
    wasm, optimize = sys.argv[1], sys.argv[2]
    data = open(wasm, "rb").read()
    names = function_names(sections(data))
    kb = lambda b: f"{b / 1024:.1f} KB"
    base = shipped_gzip(emptied(data, lambda i: False), optimize)
    ours = shipped_gzip(emptied(data, lambda i: "sync_core" in names.get(i, "")), optimize)
    print("| module (each through scripts/optimize-wasm.sh, gzip -9) | gzip |")
    print("|---|---:|")
    print(f"| as built | {kb(base)} |")
    print(f"| every function whose name mentions sync-core emptied | {kb(ours)} |")

if __name__ == "__main__":
    main()
