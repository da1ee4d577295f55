# Sourced (not run) by scripts/test-browser.sh, tests/e2e/run.sh and scripts/fuzz-server.sh:
# one way to start a throwaway reference server on 127.0.0.1 for a test step and to always
# stop it, printing the end of its log when the step failed.
#
# Needs `ROOT` and `log` from the caller. `start_throwaway_server URL KNOB LOG_PREFIX
# SERVE_ARGS...` refuses a port something already answers on (it would silently take the
# place of ours; KNOB names the variable that moves the port), builds the server, starts
# `sync-server serve --db :memory: --host 127.0.0.1 SERVE_ARGS...`, and waits up to 30 s for
# `/healthz`. It sets SERVER_PID and SERVER_LOG and traps EXIT; THROWAWAY_CLEANUP, if set,
# is a command run on exit too (after the server is stopped).

throwaway_server_stop() {
  local rc=$?
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${SERVER_LOG:-}" ]; then
    if [ "$rc" -ne 0 ]; then
      log "failed; last lines of the sync-server log ($SERVER_LOG):"
      tail -n 80 "$SERVER_LOG" | sed 's/^/  | /' >&2 || true
    else
      rm -f "$SERVER_LOG"
    fi
  fi
  if [ -n "${THROWAWAY_CLEANUP:-}" ]; then
    eval "$THROWAWAY_CLEANUP" || true
  fi
  exit "$rc"
}

start_throwaway_server() {
  local url=$1 knob=$2 prefix=$3
  shift 3
  SERVER_PID=
  SERVER_LOG=$(mktemp -t "$prefix.XXXXXX.log")
  trap throwaway_server_stop EXIT
  trap 'exit 130' INT TERM
  if curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; then
    log "something already answers on $url; stop it or set $knob"
    exit 1
  fi
  log "building sync-server"
  cargo build --quiet -p sync-server
  "${CARGO_TARGET_DIR:-$ROOT/target}/debug/sync-server" serve --db :memory: --host 127.0.0.1 \
    "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "sync-server exited before it became healthy"; exit 1; }
    sleep 0.1
  done
  curl -fsS -o /dev/null --max-time 2 "$url/healthz" ||
    { log "sync-server not healthy after 30 s"; exit 1; }
  log "sync-server up at $url (pid $SERVER_PID)"
}
