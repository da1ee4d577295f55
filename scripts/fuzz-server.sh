#!/usr/bin/env bash
# `make fuzz-server` (a `make test` step) and `make fuzz-server-long` / `make fuzz`: runs
# schemathesis against docs/openapi.yaml and a throwaway reference server (in-memory database,
# seeded demo tenant, fixed cursor key, no admin API, no generator), and fails on any 5xx, any
# status, content type or body the document does not allow.
#
# Two passes. "identity": the identity headers and the token are fuzzed like everything else
# (their examples in docs/openapi.yaml are the demo identity tnt_demo / usr_alice / dev_fuzz
# with `Bearer tok_alice`, so the examples and coverage phases also get past authentication).
# "authenticated": those four headers are pinned to the demo identity with `-H`, so every
# request reaches the paging, push and authoring logic with fuzzed parameters and bodies.
#
#   scripts/fuzz-server.sh            short budget: FUZZ_MAX_EXAMPLES (default 100) per operation
#   scripts/fuzz-server.sh --long     FUZZ_LONG_SECONDS (default 300) per pass
#
# Knobs: FUZZ_SERVER_PORT (18799), FUZZ_SEED (schemathesis prints the seed of every run, so a
# failure can be replayed), ST (the `st` command; default: the venv install-deps.sh makes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT=${FUZZ_SERVER_PORT:-18799}
URL="http://127.0.0.1:$PORT"
MODE=short
[ "${1:-}" = "--long" ] && MODE=long

log() { printf '[fuzz-server] %s\n' "$*"; }

VENV=${SCHEMATHESIS_VENV:-$HOME/.cache/sync-core/schemathesis}
ST=${ST:-}
if [ -z "$ST" ]; then
  if [ -x "$VENV/bin/st" ]; then ST="$VENV/bin/st"; else ST=$(command -v st || true); fi
fi
[ -n "$ST" ] || { log "schemathesis (st) not found: run make deps"; exit 1; }

WORK=$(mktemp -d -t sync-server-fuzz.XXXXXX)
THROWAWAY_CLEANUP='rm -rf "$WORK"'
# shellcheck source=scripts/throwaway-server.sh
. "$ROOT/scripts/throwaway-server.sh"
start_throwaway_server "$URL" FUZZ_SERVER_PORT sync-server-fuzz --port "$PORT" \
  --cursor-key "sync-core-fuzz-cursor-key" --seed-demo --no-generator

# One worker: with two, CPython 3.11's shared AST recursion counter (python/cpython#106905)
# sometimes aborts hypothesis' `ast.parse` in the coverage phase with "AST constructor
# recursion depth mismatch", a runtime error of the fuzzer, not of the server.
ARGS=(
  run docs/openapi.yaml --url "$URL"
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance
  --workers 1 --request-timeout 30 --no-color
  --generation-database none --report-dir "$WORK"
)
[ -n "${FUZZ_SEED:-}" ] && ARGS+=(--seed "$FUZZ_SEED")
if [ "$MODE" = long ]; then
  ARGS+=(--max-time "${FUZZ_LONG_SECONDS:-300}")
else
  ARGS+=(--max-examples "${FUZZ_MAX_EXAMPLES:-100}")
fi
AUTHENTICATED=(
  -H "X-Tenant-Id: tnt_demo" -H "X-User-Id: usr_alice" -H "X-Device-Id: dev_fuzz"
  -H "Authorization: Bearer tok_alice"
)
t0=$(date +%s)
log "pass 1/2 (identity fuzzed): $ST ${ARGS[*]}"
"$ST" "${ARGS[@]}"
log "pass 2/2 (authenticated as usr_alice): $ST ${ARGS[*]} ${AUTHENTICATED[*]}"
"$ST" "${ARGS[@]}" "${AUTHENTICATED[@]}"
log "passed in $(($(date +%s) - t0)) s"
# A request that crashed a handler would have shown as a 5xx above; a panic that did not
# reach a response (a background task) only shows in the log.
if grep -q 'panicked' "$SERVER_LOG"; then
  log "the server log shows a panic"
  exit 1
fi
