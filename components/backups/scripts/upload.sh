#!/bin/sh
# database-backup, step 2 (the AWS CLI's image): upload the dump, its
# checksum and its table of contents under s3://$BUCKET/$PREFIX/, encrypted
# with the backup key, then read the dump back, streamed (no second copy on
# the scratch volume), and compare checksums. S3 cannot do the comparison
# itself: a multipart upload's SHA-256 is a checksum of its parts'
# checksums, which depends on the CLI's part size. The
# dump is uploaded last: an S3 object appears whole or not at all, so a
# failed run leaves nothing under the dump's name.
#
# Environment: BUCKET, PREFIX (database/<stack>), KMS_KEY_ID; WORK (default
# /work); S3_ENDPOINT_URL to use another S3 endpoint (tests).
set -eu
work=${WORK:-/work}
cd "$work"
ts=$(cat TIMESTAMP)
dump="$ts.dump"

s3() {
  if [ -n "${S3_ENDPOINT_URL:-}" ]; then
    aws --endpoint-url "$S3_ENDPOINT_URL" s3 "$@"
  else
    aws s3 "$@"
  fi
}

put() {
  if [ -n "${KMS_KEY_ID:-}" ]; then
    s3 cp --only-show-errors --sse aws:kms --sse-kms-key-id "$KMS_KEY_ID" "$1" "s3://$BUCKET/$PREFIX/$1"
  else
    s3 cp --only-show-errors "$1" "s3://$BUCKET/$PREFIX/$1"
  fi
}

put "$dump.sha256"
put "$dump.toc"
put "$dump"

# Verify: the object read back has the checksum computed before upload.
want=$(cut -d' ' -f1 "$dump.sha256")
got=$(s3 cp --only-show-errors "s3://$BUCKET/$PREFIX/$dump" - | sha256sum | cut -d' ' -f1)
if [ "$want" != "$got" ]; then
  echo "database-backup: s3://$BUCKET/$PREFIX/$dump reads back with SHA-256 $got, want $want" >&2
  exit 1
fi
echo "database-backup: uploaded and verified s3://$BUCKET/$PREFIX/$dump"
