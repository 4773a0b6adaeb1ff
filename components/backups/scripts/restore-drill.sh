#!/bin/sh
# restore-drill, step 2 (PostgreSQL's image): restore the fetched dump into
# a throwaway server started in $WORK, then check what a real restore
# needs: the migrations table is there and each of $DRILL_TABLES holds
# rows. Fails loudly otherwise.
#
# Environment: DRILL_TABLES (space-separated); WORK (default /work).
set -eu
work=${WORK:-/work}
data="$work/pgdata"
sock="$work/run"
mkdir -p "$sock"
rm -rf "$data"
initdb --pgdata="$data" --username=drill --auth=trust --no-sync >/dev/null
pg_ctl --pgdata="$data" --wait --log="$work/server.log" \
  --options="-c listen_addresses='' -c unix_socket_directories=$sock -c fsync=off" start >/dev/null
stop() { pg_ctl --pgdata="$data" --mode=immediate stop >/dev/null 2>&1 || true; }
trap stop EXIT

export PGHOST="$sock" PGUSER=drill PGDATABASE=postgres
createdb restored
fail() {
  echo "restore-drill: FAILED: $*" >&2
  exit 1
}
pg_restore --no-owner --no-privileges --exit-on-error --dbname=restored "$work/latest.dump" ||
  fail "pg_restore of $(cat "$work/LATEST") did not complete"

q() { psql --no-psqlrc --quiet --tuples-only --no-align --dbname=restored --command="$1"; }
[ "$(q "SELECT to_regclass('public._prisma_migrations') IS NOT NULL")" = t ] ||
  fail "the migrations table _prisma_migrations is missing"
migrations=$(q "SELECT count(*) FROM public._prisma_migrations WHERE finished_at IS NOT NULL")
[ "$migrations" -gt 0 ] || fail "no finished migration in _prisma_migrations"
for table in $DRILL_TABLES; do
  [ "$(q "SELECT to_regclass('public.$table') IS NOT NULL")" = t ] || fail "table $table is missing"
  rows=$(q "SELECT count(*) FROM public.\"$table\"")
  [ "$rows" -gt 0 ] || fail "table $table is empty"
  echo "restore-drill: $table has $rows rows"
done
echo "restore-drill: $(cat "$work/LATEST") restores: $migrations migrations applied"
