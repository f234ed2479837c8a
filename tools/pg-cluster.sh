#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#   tools/pg-cluster.sh start DIR [--durable]
#                                   initdb + pg_ctl start on 127.0.0.1, on a free port below 32768;
#                                   writes the connection URL to DIR/url and the settings to
#                                   DIR/settings
#   tools/pg-cluster.sh stop DIR    stops the cluster started for DIR and removes its data
# PostgreSQL refuses to run as root: as root the cluster runs as the user "postgres" (created by
# Debian's package) or else "nobody", with its data in a temporary directory that user owns (under
# $TMPDIR, else /tmp).
# Settings for tests: fsync off (the data dies with the cluster anyway); every Almanac connection
# still sets synchronous_commit on, as in production. With --durable (the benchmark, bench/run.py):
# production-like durability instead, fsync on, full_page_writes on, synchronous_commit on and
# PostgreSQL's default shared_buffers (128MB), so that a commit waits for its WAL flush to disk.
set -euo pipefail

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
command=${1:-}
dir=${2:-}
mode=${3:-}
if [[ -z "$command" || -z "$dir" || ( -n "$mode" && "$mode" != "--durable" ) ]]; then
  echo "usage: $0 start DIR [--durable] | stop DIR" >&2
  exit 2
fi
if [[ "$mode" == "--durable" ]]; then
  settings="-c fsync=on -c full_page_writes=on -c synchronous_commit=on -c shared_buffers=128MB"
else
  settings="-c fsync=off -c full_page_writes=off -c shared_buffers=32MB"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner=()
owner=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  if id postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
  as_owner=(setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups --)
fi

stop() {
  [[ -f "$dir/data_dir" ]] || return 0
  local data
  data=$(cat "$dir/data_dir")
  if [[ -f "$data/pgdata/postmaster.pid" ]]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$dir/data_dir" "$dir/url" "$dir/settings"
}

case "$command" in
  start)
    stop  # a cluster left behind by an interrupted run
    data=$(mktemp -d "${TMPDIR:-/tmp}/almanac-pg.XXXXXX")
    echo "$data" >"$dir/data_dir"
    chown "$owner" "$data"
    chmod 700 "$data"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" >"$data/pwfile"
    chown "$owner" "$data/pwfile"
    "${as_owner[@]}" "$bindir/initdb" -D "$data/pgdata" -U almanac --pwfile="$data/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 || {
      cat "$data/initdb.log" >&2
      exit 1
    }
    rm -f "$data/pwfile"
    started=""
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 12000))
      if "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/pgdata" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data \
            -c max_connections=200 $settings" start >/dev/null 2>&1; then
        started=$port
        break
      fi
    done
    if [[ -z "$started" ]]; then
      echo "pg-cluster: PostgreSQL did not start" >&2
      tail -20 "$data/server.log" >&2 || true
      exit 1
    fi
    echo "postgresql://almanac:$password@127.0.0.1:$started/postgres" >"$dir/url"
    echo "max_connections=200 ${settings//-c /}" >"$dir/settings"
    echo "PostgreSQL on 127.0.0.1:$started (data in $data)"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start DIR [--durable] | stop DIR" >&2
    exit 2
    ;;
esac
