#!/usr/bin/env bash
# `make demo`: builds the sync-core package and the demo page, seeds data/demo.db once, then
# runs the reference sync server (snapshot generator on a 60x clock) and the page side by side
# in the foreground. Ctrl-C stops both. Delete data/demo.db to start over with fresh demo data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT=${DEMO_PORT:-8787}
WEB_PORT=${DEMO_WEB_PORT:-5173}
TIME_SCALE=${DEMO_TIME_SCALE:-60}
DB=${DEMO_DB:-data/demo.db}
URL="http://127.0.0.1:$PORT"
SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/sync-server"

log() { printf '[demo] %s\n' "$*"; }
die() { printf '[demo] error: %s\n' "$*" >&2; exit 1; }

for p in "$PORT" "$WEB_PORT"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
    die "port $p is busy (another demo running?); set DEMO_PORT / DEMO_WEB_PORT"
  fi
done

log "building the package and the page (make www)"
make --no-print-directory www
log "building sync-server"
cargo build --quiet -p sync-server

mkdir -p "$(dirname "$DB")"
# The cursor key lives beside the database, so cursors the page stored stay valid across
# restarts; the admin token is new on every start unless SYNC_ADMIN_TOKEN is set.
KEY_FILE=${DEMO_CURSOR_KEY_FILE:-$(dirname "$DB")/cursor.key}
if [ ! -s "$KEY_FILE" ]; then
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEY_FILE")
fi
export SYNC_ADMIN_TOKEN=${SYNC_ADMIN_TOKEN:-adm_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}
if [ ! -f "$DB" ]; then
  log "seeding $DB"
  "$SERVER_BIN" seed --db "$DB"
else
  log "using existing $DB (delete it to reseed)"
fi

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  log "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

"$SERVER_BIN" serve --db "$DB" --port "$PORT" --cursor-key-file "$KEY_FILE" --admin \
  --time-scale "$TIME_SCALE" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
node www/serve.mjs --port "$WEB_PORT" >/dev/null &
PIDS+=($!)

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null --max-time 1 "$URL/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null --max-time 2 "$URL/healthz" || die "sync-server did not become healthy"

PAGE="http://127.0.0.1:$WEB_PORT/"
[ "$PORT" = 8787 ] || PAGE="$PAGE?baseUrl=$URL"
cat <<EOF

  Demo page:   $PAGE
               signed in as usr_alice (manager, every property) in tnt_demo, token tok_alice;
               other users: add ?userId=usr_bob&token=tok_bob (front desk, one property)
  sync-server: $URL   (clock ${TIME_SCALE}x, snapshots keep arriving)
  admin API:   $URL/admin/…   loopback only, token $SYNC_ADMIN_TOKEN
  database:    $DB   (cursor key in $KEY_FILE)

  Try: \`kill -STOP $SERVER_PID\` (freezes the server only) and reload the page — it still shows
  everything, offline; rename a saved query, then \`kill -CONT $SERVER_PID\` and press "Sync now".
  Admin pokes (another terminal):
    A=(-H 'content-type: application/json' -H 'Authorization: Bearer $SYNC_ADMIN_TOKEN')
    curl -s "\${A[@]}" $URL/admin/queries/rename \\
         -d '{"tenantId":"tnt_demo","queryId":"<id>","name_i18n":{"default":"Renamed by admin"}}'
    curl -s "\${A[@]}" $URL/admin/revoke \\
         -d '{"tenantId":"tnt_demo","userId":"usr_alice"}'     # undo: /admin/restore

  Ctrl-C stops both.

EOF
# Returns when either process exits (or Ctrl-C); the EXIT trap stops the other one.
wait -n "${PIDS[@]}"
