#!/usr/bin/env bash
# The reference server's suite on both storage backends: first on SQLite (in-memory, one per
# test), then on PostgreSQL (a fresh database per test). PostgreSQL is the server named by
# SYNC_TEST_DATABASE_URL when it is set; otherwise a throwaway cluster of our own
# (scripts/pg-cluster.sh: a temporary directory, a free port), stopped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO=${CARGO:-cargo}

echo "[test-server] SQLite"
env -u SYNC_TEST_DATABASE_URL "$CARGO" test -p sync-server

if [ -z "${SYNC_TEST_DATABASE_URL:-}" ]; then
  cluster=$(mktemp -d /tmp/sync-pg.XXXXXX)
  rmdir "$cluster"
  trap 'scripts/pg-cluster.sh stop "$cluster"' EXIT
  SYNC_TEST_DATABASE_URL=$(scripts/pg-cluster.sh start "$cluster")
  # Ours to stop and start: tests/outage.rs takes the server away for a few seconds.
  SYNC_TEST_PG_CLUSTER_DIR=$cluster
  export SYNC_TEST_DATABASE_URL SYNC_TEST_PG_CLUSTER_DIR
fi
echo "[test-server] PostgreSQL ($SYNC_TEST_DATABASE_URL)"
"$CARGO" test -p sync-server
