#!/bin/sh
# database-backup, step 1 (PostgreSQL's image): dump the database in
# pg_dump's custom format, compressed, then prove the dump readable before
# it gets its final name. Writes to $WORK: <ts>.dump, <ts>.dump.sha256 (the
# checksum), <ts>.dump.toc (pg_restore --list), and TIMESTAMP.
#
# Environment: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE
# (libpq's own); WORK (default /work).
set -eu
work=${WORK:-/work}
ts=$(date -u +%Y%m%dT%H%M%SZ)
dump="$ts.dump"
cd "$work"

if ! pg_dump --format=custom --compress=6 --no-password --file="$dump.partial"; then
  echo "database-backup: pg_dump of database $PGDATABASE on $PGHOST as $PGUSER failed" >&2
  rm -f "$dump.partial"
  exit 1
fi
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
