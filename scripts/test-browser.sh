#!/usr/bin/env bash
# Browser half of `make test`: starts a throwaway reference server on 127.0.0.1, runs the
# wasm-bindgen browser suites in each headless browser against it, and always stops it.
#
# Only the integration test targets `web_window` and `web_worker` run in the browser. Without
# `--test`, `wasm-pack test` would also build the library's own `#[test]` unit tests and the
# native `tests/engine/` target for wasm32; those belong to `cargo test` on the host.
#
# The tests find the server through SYNC_SERVER_URL and its admin token through
# SYNC_ADMIN_TOKEN, both read at compile time (`option_env!`); cargo rebuilds the test crates
# when they change. The page of wasm-bindgen-test-runner has a random loopback port, so the
# server is told to accept admin calls from any port of 127.0.0.1 / localhost.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT=${TEST_SERVER_PORT:-18787}
BROWSERS=${BROWSERS:-chrome firefox}
WEB_TESTS=${WEB_TESTS:-web_window web_worker}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
export SYNC_SERVER_URL="http://127.0.0.1:$PORT"
export SYNC_ADMIN_TOKEN=${SYNC_ADMIN_TOKEN:-sync-core-browser-tests-admin-token}

log() { printf '[test-browser] %s\n' "$*"; }

# shellcheck source=scripts/throwaway-server.sh
. "$ROOT/scripts/throwaway-server.sh"
start_throwaway_server "$SYNC_SERVER_URL" TEST_SERVER_PORT sync-server-test --port "$PORT" \
  --cursor-key "sync-core-browser-tests-cursor-key" \
  --admin --admin-allow-origin 'http://127.0.0.1:*' --admin-allow-origin 'http://localhost:*' \
  --seed-demo --no-generator

# One wasm-pack run per (browser, suite): a failure in the window suite must not hide the
# worker suite's results. (wasm-pack hands extra arguments to `cargo build` too, so cargo's
# --no-fail-fast cannot be used.) Only the first run of a browser compiles anything.
FAILED=()
for browser in $BROWSERS; do
  for suite in $WEB_TESTS; do
    log "wasm-pack test --headless --$browser -- --test $suite"
    t0=$(date +%s)
    if wasm-pack --log-level warn test --headless "--$browser" -- --test "$suite"; then
      log "$browser/$suite: passed in $(($(date +%s) - t0)) s"
    else
      log "$browser/$suite: FAILED after $(($(date +%s) - t0)) s"
      FAILED+=("$browser/$suite")
    fi
  done
done

if [ ${#FAILED[@]} -gt 0 ]; then
  log "failed in: ${FAILED[*]}"
  exit 1
fi
