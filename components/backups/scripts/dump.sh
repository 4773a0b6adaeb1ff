#!/bin/sh
# database-backup, step 1 (PostgreSQL's image): dump the database in
# pg_dump's custom format, compressed, then prove the dump readable before
# it gets its final name. Writes to $WORK: <ts>.dump, <ts>.dump.sha256 (the
# checksum), <ts>.dump.toc (pg_restore --list), and TIMESTAMP.
#
# A dump of the hot standby can still be cancelled by a recovery conflict
# (replay waits max_standby_streaming_delay for the dump's snapshot, then
# cancels it: an ACCESS EXCLUSIVE lock of a migration): one retry, and no
# waiting forever for a table lock at the start (--lock-wait-timeout).
#
# Environment: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE
# (libpq's own); WORK (default /work); LOCK_WAIT_TIMEOUT (default 60s);
# RETRY_PAUSE seconds before the retry (default 60).
set -eu
work=${WORK:-/work}
ts=$(date -u +%Y%m%dT%H%M%SZ)
dump="$ts.dump"
cd "$work"

attempt=1
until pg_dump --format=custom --compress=6 --no-password --lock-wait-timeout="${LOCK_WAIT_TIMEOUT:-60s}" --file="$dump.partial"; do
  rm -f "$dump.partial"
  if [ "$attempt" -ge 2 ]; then
    echo "database-backup: pg_dump of database $PGDATABASE on $PGHOST as $PGUSER failed (twice)" >&2
    exit 1
  fi
  echo "database-backup: pg_dump of database $PGDATABASE on $PGHOST failed; one retry in ${RETRY_PAUSE:-60} s" >&2
  attempt=2
  sleep "${RETRY_PAUSE:-60}"
done
# Reading every entry back proves the archive whole: a truncated or
# corrupted dump fails here, not at restore time.
if ! pg_restore --list "$dump.partial" >"$dump.toc" || ! pg_restore --file=/dev/null "$dump.partial"; then
  echo "database-backup: the dump does not read back; nothing is uploaded" >&2
  rm -f "$dump.partial" "$dump.toc"
  exit 1
fi
mv "$dump.partial" "$dump"
sha256sum "$dump" >"$dump.sha256"
printf '%s\n' "$ts" >TIMESTAMP
echo "database-backup: $dump, $(wc -c <"$dump") bytes, $(grep -c 'TABLE DATA' "$dump.toc") tables"
