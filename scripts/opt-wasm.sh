#!/usr/bin/env bash
# Runs binaryen's wasm-opt over the wasm-bindgen output of the package build (pkg/package.json
# build:wasm, after `wasm-pack build --no-opt`), in place. Usage: scripts/opt-wasm.sh FILE.wasm
#
# Why these passes and not -Os/-Oz: measured 2026-12-04 with binaryen 108 (Debian 12, what
# `make deps` installs) on the "z" release build, gzip -9 of the wasm (issue 13, size cuts):
#   no wasm-opt                                   842.7 KB raw / 279.6 KB gzip
#   --strip-debug --strip-producers               837.3 KB / 278.8 KB
#   -O1                                           809.8 KB / 275.9 KB
#   -O2 / -Os / -Oz                               775.6 / 769.4 / 763.4 KB raw, but 309.5 /
#                                                 307.2 / 307.7 KB gzip (+28 to +30 KB)
#   --reorder-functions alone                     837.4 KB / 302.0 KB gzip (+22 KB)
#   -O1 --inlining-optimizing                     784.5 KB / 312.2 KB gzip
#   this pipeline                                 800.9 KB / 273.6 KB gzip (-6.0 KB)
# -O2 and above sort functions by use count (--reorder-functions) and inline: smaller raw,
# but related code no longer sits together and gzip loses more than the raw bytes gain. The
# pipeline below keeps rustc's function order: -O1, dead-argument elimination, duplicate
# function elimination, -O1 again to clean up after them.
# Debian's binaryen 108 does not enable the wasm features rustc's output uses by itself, so
# they are named; newer binaryen accepts the same flags.
set -euo pipefail

WASM=${1:?usage: scripts/opt-wasm.sh FILE.wasm}
command -v wasm-opt >/dev/null ||
  { echo "opt-wasm: wasm-opt (binaryen) not found: run make deps" >&2; exit 1; }

wasm-opt \
  --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -O1 --dae-optimizing --duplicate-function-elimination -O1 \
  --strip-debug --strip-producers --strip-target-features \
  "$WASM" -o "$WASM.opt"
mv "$WASM.opt" "$WASM"
