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

TGZ=pkg/sync-core-0.1.0.tgz
[[ -f "$TGZ" ]] || { echo "bench: $TGZ missing: run make pkg first" >&2; exit 1; }
# npm does not notice that a file: tarball changed, so the installed copy is replaced whenever
# the tarball differs from the one installed last (its checksum is kept beside it).
STAMP=bench/node_modules/.sync-core-tgz.sha256
SUM=$(sha256sum "$TGZ" | cut -d' ' -f1)
if [[ ! -d bench/node_modules/sync-core || ! -x bench/node_modules/.bin/tsc || "$(cat "$STAMP" 2>/dev/null)" != "$SUM" ]]; then
  log "dependencies (sync-core from $TGZ, dexie 4, esbuild, playwright-core)"
  rm -rf bench/node_modules/sync-core
  (cd bench && npm install --no-audit --no-fund --loglevel=error --no-package-lock)
  echo "$SUM" >"$STAMP"
else
  log "dependencies up to date (sync-core from $TGZ, sha256 ${SUM:0:12})"
fi
log "type-check of the page (tsc)"
(cd bench && node_modules/.bin/tsc -p tsconfig.json)

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
