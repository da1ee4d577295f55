#!/usr/bin/env bash
# The floor under a size budget (bench/size-floor.py says what it measures): builds the release
# wasm with v0 symbol names kept, in its own target directory (the shipped build is untouched),
# runs wasm-bindgen on it as the package build does, then measures. Needs what `make pkg` needs
# (wasm-bindgen CLI, wasm-opt); takes about a minute on a warm cache.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET="$ROOT/target/size-floor"
RUSTFLAGS="-C symbol-mangling-version=v0" CARGO_TARGET_DIR="$TARGET" cargo build --quiet --lib -p sync-core \
  --target wasm32-unknown-unknown --config 'profile.sizeprof.inherits="release"' \
  --config 'profile.sizeprof.strip="none"' --profile sizeprof
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
wasm-bindgen --target web --keep-debug --out-dir "$OUT" "$TARGET/wasm32-unknown-unknown/sizeprof/sync_core.wasm"
python3 bench/size-floor.py "$OUT/sync_core_bg.wasm" scripts/optimize-wasm.sh
