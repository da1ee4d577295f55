#!/usr/bin/env bash
# `make test-demo`: builds the package and the demo page (`make www`) and the reference server,
# then runs the demo's Playwright tests (tests/e2e/demo*.test.mjs) in headless Chromium. The
# tests start and stop their own sync-server on DEMO_TEST_PORT (default 18798) and write
# screenshots to tests/e2e/test-results/ (and docs/demo.png with UPDATE_DEMO_PNG=1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
log() { printf '[test-demo] %s\n' "$*"; }

log "building the package and the page (make www)"
make --no-print-directory www
log "building sync-server"
cargo build --quiet -p sync-server
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
log "playwright tests (headless chromium)"
cd tests/e2e
DEMO_E2E=1 node --test --test-concurrency=1 --test-reporter=spec demo*.test.mjs
