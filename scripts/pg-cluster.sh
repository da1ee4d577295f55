#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, in a directory of its own on a free
# loopback port, with trust authentication and fsync off (its data is thrown away).
#
#   scripts/pg-cluster.sh start DIR   initdb + start; prints the database URL (also in DIR/url)
#   scripts/pg-cluster.sh pause DIR   stop the server, keep the data (outage tests)
#   scripts/pg-cluster.sh resume DIR  start it again on the same port
#   scripts/pg-cluster.sh stop DIR    stop and delete DIR
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user that
# Debian's package creates. The binaries are Debian's (/usr/lib/postgresql/<version>/bin).
set -euo pipefail

cmd=${1:?usage: pg-cluster.sh start|pause|resume|stop DIR}
dir=${2:?usage: pg-cluster.sh start|pause|resume|stop DIR}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || {
  echo "pg-cluster: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local port
  port=$(cat "$dir/port")
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
      >"$dir/port"
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir/port"
    as_owner "$bin/initdb" -D "$dir/data" -U sync --auth=trust -E UTF8 --no-locale >/dev/null
    start
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$(cat "$dir/port")" -U sync sync
    echo "postgres://sync@127.0.0.1:$(cat "$dir/port")/sync" | tee "$dir/url"
    ;;
  pause)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    start
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "pg-cluster: unknown command $cmd" >&2
    exit 2
    ;;
esac
