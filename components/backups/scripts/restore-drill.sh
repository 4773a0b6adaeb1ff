#!/bin/sh
# restore-drill, step 2 (PostgreSQL's image): restore the fetched dump into
# a throwaway server started in $WORK, then check what a real restore
# needs: the migrations table is there, each of $DRILL_TABLES holds rows,
# and the data is fresh: the newest $FRESH_TABLE.$FRESH_COLUMN is at most
# $FRESH_MAX_HOURS older than the dump (a dump of a database nobody writes
# to any more, such as the old instance after a point-in-time restore,
# fails here). Logs how long the restore took; the Job's duration is what
# the RestoreDrillSlow alert compares with the RTO. Fails loudly otherwise.
#
# Environment: DRILL_TABLES (space-separated); FRESH_TABLE, FRESH_COLUMN,
# FRESH_MAX_HOURS (0: no freshness check); RESTORE_JOBS (default 2);
# WORK (default /work).
set -eu
started=$(date +%s)
work=${WORK:-/work}
data="$work/pgdata"
sock="$work/run"
mkdir -p "$sock"
rm -rf "$data"
initdb --pgdata="$data" --username=drill --auth=trust --no-sync >/dev/null
pg_ctl --pgdata="$data" --wait --log="$work/server.log" \
  --options="-c listen_addresses='' -c unix_socket_directories=$sock -c fsync=off -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=256MB" start >/dev/null
stop() { pg_ctl --pgdata="$data" --mode=immediate stop >/dev/null 2>&1 || true; }
trap stop EXIT

export PGHOST="$sock" PGUSER=drill PGDATABASE=postgres PGTZ=UTC
createdb restored
fail() {
  echo "restore-drill: FAILED: $*" >&2
  exit 1
}
# wal_level=minimal: the restore writes its tables without WAL, so the
# scratch volume holds the dump and the data, not a WAL copy of it.
pg_restore --no-owner --no-privileges --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname=restored "$work/latest.dump" ||
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
if [ "${FRESH_MAX_HOURS:-0}" -gt 0 ]; then
  ts=$(sed 's/\.dump$//' "$work/LATEST")
  [ "$(q "SELECT to_regclass('public.\"$FRESH_TABLE\"') IS NOT NULL")" = t ] || fail "freshness table $FRESH_TABLE is missing"
  age=$(q "SELECT COALESCE(GREATEST(0, floor(extract(epoch FROM to_timestamp('$ts', 'YYYYMMDD\"T\"HH24MISS\"Z\"') - max(\"$FRESH_COLUMN\")::timestamptz)))::bigint, -1) FROM public.\"$FRESH_TABLE\"")
  # (A row of the dump's own second counts as 0 s old.)
  [ "$age" -ge 0 ] || fail "$FRESH_TABLE.$FRESH_COLUMN has no value"
  [ "$age" -le $((FRESH_MAX_HOURS * 3600)) ] ||
    fail "the newest $FRESH_TABLE.$FRESH_COLUMN is $((age / 3600)) h older than the dump (at most $FRESH_MAX_HOURS h): the backup job dumps a database nobody writes to (after a point-in-time restore, docs/RESTORE.md)"
  echo "restore-drill: the newest $FRESH_TABLE.$FRESH_COLUMN is $age s older than the dump"
fi
echo "restore-drill: $(cat "$work/LATEST") restores: $migrations migrations applied, in $(($(date +%s) - started)) s"
