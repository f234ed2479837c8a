#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#   tools/pg-cluster.sh start DIR [--durable]
#                                   initdb + pg_ctl start on 127.0.0.1, on a free port below 32768;
#                                   writes the connection URL to DIR/url and the settings to
#                                   DIR/settings
#   tools/pg-cluster.sh stop DIR    stops the cluster started for DIR and removes its data
#   tools/pg-cluster.sh stop-immediate DIR
#                                   pg_ctl stop -m immediate (a crash, as far as clients can
#                                   tell), keeping the data
#   tools/pg-cluster.sh start-again DIR [--durable]
#                                   starts the cluster stopped that way: same data, same port
#                                   (crash recovery first); fails if the port was taken meanwhile
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
usage="usage: $0 start DIR [--durable] | stop DIR | stop-immediate DIR | start-again DIR [--durable]"
if [[ -z "$command" || -z "$dir" || ( -n "$mode" && "$mode" != "--durable" ) ]]; then
  echo "$usage" >&2
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
  rm -f "$dir/data_dir" "$dir/url" "$dir/port" "$dir/settings"
}

# pg_start DATA PORT: the cluster in DATA/pgdata on 127.0.0.1:PORT with $settings.
pg_start() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$1/pgdata" -l "$1/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$2 -c unix_socket_directories=$1 \
        -c max_connections=200 $settings" start >/dev/null 2>&1
}

# The data directory of the cluster started for DIR; fails when there is none.
data_of() {
  if [[ ! -f "$dir/data_dir" || ! -f "$dir/port" ]]; then
    echo "pg-cluster: no cluster was started for $dir" >&2
    exit 1
  fi
  cat "$dir/data_dir"
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
      if pg_start "$data" "$port"; then
        started=$port
        break
      fi
    done
    if [[ -z "$started" ]]; then
      echo "pg-cluster: PostgreSQL did not start" >&2
      tail -20 "$data/server.log" >&2 || true
      exit 1
    fi
    echo "$started" >"$dir/port"
    echo "postgresql://almanac:$password@127.0.0.1:$started/postgres" >"$dir/url"
    echo "max_connections=200 ${settings//-c /}" >"$dir/settings"
    echo "PostgreSQL on 127.0.0.1:$started (data in $data)"
    ;;
  stop)
    stop
    ;;
  stop-immediate)
    data=$(data_of)
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/pgdata" -m immediate -w -t 60 stop >/dev/null
    ;;
  start-again)
    data=$(data_of)
    port=$(cat "$dir/port")
    if ! pg_start "$data" "$port"; then
      echo "pg-cluster: PostgreSQL did not start again on port $port" >&2
      tail -20 "$data/server.log" >&2 || true
      exit 1
    fi
    ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
