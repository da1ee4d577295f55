#!/usr/bin/env bash
# `make demo`: seeds data/demo.db once, then serves it with the reference sync server in the
# foreground (Ctrl-C stops it). Delete data/demo.db to start over with fresh demo data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT=${DEMO_PORT:-8787}
DB=${DEMO_DB:-data/demo.db}
URL="http://127.0.0.1:$PORT"
SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/sync-server"

log() { printf '[demo] %s\n' "$*"; }

log "building sync-server"
cargo build --quiet -p sync-server

mkdir -p "$(dirname "$DB")"
if [ ! -f "$DB" ]; then
  log "seeding $DB"
  "$SERVER_BIN" seed --db "$DB"
else
  log "using existing $DB (delete it to reseed)"
fi

cat <<EOF

  sync-server: $URL   (admin API on, loopback only; Ctrl-C stops it)
  database:    $DB

  Demo identities in tenant tnt_demo (bearer token = tok_ + the name after usr_):
    usr_alice  manager, every property     Bearer tok_alice
    usr_bob    front desk, one property    Bearer tok_bob
    usr_u3, usr_u4                         Bearer tok_u3, tok_u4

  Page through Alice's data:
    curl -s -H 'X-Tenant-Id: tnt_demo' -H 'X-User-Id: usr_alice' -H 'X-Device-Id: dev_curl' \\
         -H 'Authorization: Bearer tok_alice' '$URL/internal/sync/pull?pageSize=100'
  then repeat with &cursor=<nextCursor> until "drained": true.

EOF

exec "$SERVER_BIN" serve --db "$DB" --port "$PORT" --admin
