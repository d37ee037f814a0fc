#!/usr/bin/env bash
# The soak of docs/reliability.md: a server on the demo catalog in its own PostgreSQL, driven for
# MINUTES (default 30) by `RecSys.Bench soak` with mixed traffic, play events, a reload a minute, a
# training every 5 minutes and a 20-second database stop every 10 minutes; prints the soak's JSON.
#   bench/soak/run.sh [minutes]        (as root: it runs PostgreSQL as the postgres user)
# SOAK_ARGS adds options of the soak command (e.g. "--reload-seconds 20 --train-seconds 60").
set -euo pipefail
minutes=${1:-30}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGROOT=${PGROOT:-/tmp/recsys-soak-pg}
PGPORT=${PGPORT:-55434}
PORT=${PORT:-8200}
store=${STORE:-/tmp/recsys-soak-store}
token=soak-token-$$-$RANDOM
db="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
as_pg=(runuser -u postgres --)
pg_start="cd $PGROOT && ${as_pg[*]} $PGBIN/pg_ctl -D $PGROOT/data -l $PGROOT/server.log -w -t 60 -o '-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGROOT' start"
pg_stop="cd $PGROOT && ${as_pg[*]} $PGBIN/pg_ctl -D $PGROOT/data -m fast -w -t 60 stop"

[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql-15)" >&2; exit 1; }
id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -f "$PGROOT/data/postmaster.pid" ] && "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT" "$store" "${bin:-}"
}
trap cleanup EXIT
rm -rf "$PGROOT" "$store"; mkdir -p "$PGROOT"; chown postgres: "$PGROOT"; chmod 700 "$PGROOT"
"${as_pg[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --locale=C >"$PGROOT/initdb.log"
# From a folder the postgres user can enter (pg_ctl starts the server in the current one).
sh -c "$pg_start" >/dev/null || { cat "$PGROOT/server.log" >&2; exit 1; }

cd "$root"
# Built into a folder of its own, so builds in the checkout during a long run cannot replace its files.
bin=$(mktemp -d /tmp/recsys-soak-bin.XXXX)
dotnet build bench/RecSys.Bench -c Release -o "$bin" -v q -nologo -clp:ErrorsOnly >/dev/null
recsys() { dotnet "$bin/recsys.dll" "$@"; }
recsys db init --db "$db" >&2
recsys db import --db "$db" --input demo >&2
dotnet "$bin/recsys.dll" serve --db "$db" --port "$PORT" --storage "$store" \
  --admin-token "$token" --schedule '' >"$store.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { tail -20 "$store.log" >&2; exit 1; }
dotnet "$bin/RecSys.Bench.dll" soak --minutes "$minutes" --url "http://127.0.0.1:$PORT" --pid "$server" \
  --admin-token "$token" --events --db-stop "$pg_stop" --db-start "$pg_start" ${SOAK_ARGS:-}
