#!/usr/bin/env bash
# `make bench` / `make bench-quick` (after `make pkg`): installs the freshly packed sync-core
# tarball and the bench dependencies, builds the named size-profiling wasm for the full run,
# then runs bench/run.mjs (headless Chromium, loopback page server). Extra arguments go to
# run.mjs (--quick, --trials N, --warmup N, --render-trials N, --renames N, --seed N).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
log() { printf '[bench] %s\n' "$*"; }

log "dependencies (sync-core from pkg/sync-core-0.1.0.tgz, dexie 4, esbuild, playwright-core)"
(
  cd bench
  rm -rf node_modules/sync-core
  npm install --no-audit --no-fund --loglevel=error --no-package-lock
  npx tsc -p tsconfig.json
)

if [[ " $* " != *" --quick "* ]]; then
  # Same release profile with symbol names kept, in its own profile directory so the shipped
  # release build is untouched: the per-function size breakdown reads it.
  log "size-profiling build (cargo --profile sizeprof: release with names)"
  cargo build --quiet --lib -p sync-core --target wasm32-unknown-unknown \
    --config 'profile.sizeprof.inherits="release"' --config 'profile.sizeprof.strip="none"' \
    --profile sizeprof
fi

cd bench
exec node run.mjs "$@"
