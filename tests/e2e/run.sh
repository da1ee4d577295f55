#!/usr/bin/env bash
# `make test-pkg`: builds the npm package (wasm-pack + tsc), packs it, installs the tarball in
# the separate consumer project, type-checks and Vite-builds that, then runs the Playwright
# tests in headless Chromium against a throwaway reference server. Always stops the server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT=${TEST_PKG_PORT:-18797}
export SYNC_SERVER_URL="http://127.0.0.1:$PORT"
export SYNC_ADMIN_TOKEN=${SYNC_ADMIN_TOKEN:-sync-core-e2e-admin-token}
log() { printf '[test-pkg] %s\n' "$*"; }
NPM_FLAGS=(--no-audit --no-fund --loglevel=error)

log "building the package (wasm-pack, tsc, npm pack)"
make --no-print-directory pkg

log "consumer: install the tarball, type-check, vite build"
(
  cd tests/consumer
  rm -rf node_modules/sync-core
  npm install "${NPM_FLAGS[@]}" --no-package-lock
  npx tsc --noEmit
  npx vite build --logLevel warn
)

log "e2e dependencies"
(cd tests/e2e && npm ci "${NPM_FLAGS[@]}")

# The admin token comes from SYNC_ADMIN_TOKEN (exported above; harness.mjs sends it).
# shellcheck source=scripts/throwaway-server.sh
. "$ROOT/scripts/throwaway-server.sh"
start_throwaway_server "$SYNC_SERVER_URL" TEST_PKG_PORT sync-server-pkg --port "$PORT" \
  --cursor-key "sync-core-e2e-cursor-key" --admin --seed-demo --no-generator

log "playwright tests (headless chromium)"
cd tests/e2e
# Only the package suites: other files here (demo.test.mjs) have their own runner.
node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec \
  ${E2E_TESTS:-exports.test.mjs consumer.test.mjs token.test.mjs status.test.mjs deadletters.test.mjs pauses.test.mjs pauses-unit.test.mjs api.test.mjs leader.test.mjs forwarding.test.mjs quota.test.mjs connection.test.mjs panic.test.mjs budget.test.mjs offline.test.mjs latest.test.mjs safety.test.mjs crash.test.mjs replicas.test.mjs}
