#!/usr/bin/env bash
# Runs binaryen's wasm-opt over the package's wasm in place (pkg/package.json `build:wasm`, after
# wasm-pack, which is told --no-opt because it would download its own binaryen: no network for
# that here). wasm-opt comes from Debian's binaryen (scripts/install-deps.sh).
#
# Why these passes (issue 13, measured on the wasm of 59e7213 with binaryen 108, gzip -9 of the
# wasm: none 293.1 KB): -O1 289.0, -Os 314.3, -Oz 315.1, -O2 317.2 KB — every level that inlines
# makes the code smaller but the gzip larger (inlined copies of one body compress worse than
# calls to it); -Os with inlining of one-caller and "flexible" functions off gives 286.0 KB
# (-7.2 KB) in 1.4 s. Binaryen 108 knows none of the wasm features Rust 1.95 turns on by
# default, so they are enabled explicitly.
set -euo pipefail
wasm="${1:?usage: optimize-wasm.sh <file.wasm>}"
command -v wasm-opt >/dev/null || {
  echo "optimize-wasm.sh: wasm-opt not found: run \`make deps\` (Debian package binaryen)" >&2
  exit 1
}
# A build that keeps its names for profiling (`CARGO_PROFILE_RELEASE_STRIP=none make pkg`, see
# BENCHMARKS.md) keeps them here too.
names=()
[ "${CARGO_PROFILE_RELEASE_STRIP:-}" = none ] && names=(--debuginfo)
wasm-opt "${names[@]}" -Os --one-caller-inline-max-function-size=0 --flexible-inline-max-function-size=0 \
  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
# Binaryen 108 writes one export wrong (see the script).
python3 "$(dirname "$0")/wasm-externref-export.py" "$wasm"
