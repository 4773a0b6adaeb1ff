#!/bin/sh
# restore-drill, step 1 (the AWS CLI's image): download the newest dump
# under s3://$BUCKET/$PREFIX/ and check it against its SHA-256 file.
#
# Environment: BUCKET, PREFIX (database/<stack>); WORK (default /work);
# S3_ENDPOINT_URL to use another S3 endpoint (tests).
set -eu
work=${WORK:-/work}
cd "$work"

s3() {
  if [ -n "${S3_ENDPOINT_URL:-}" ]; then
    aws --endpoint-url "$S3_ENDPOINT_URL" s3 "$@"
  else
    aws s3 "$@"
  fi
}

# Timestamps sort as text: the last .dump listed is the newest.
latest=$(s3 ls "s3://$BUCKET/$PREFIX/" | awk '{print $4}' | grep '\.dump$' | sort | tail -n 1)
if [ -z "$latest" ]; then
  echo "restore-drill: no dump under s3://$BUCKET/$PREFIX/" >&2
  exit 1
fi
s3 cp --only-show-errors "s3://$BUCKET/$PREFIX/$latest" latest.dump
s3 cp --only-show-errors "s3://$BUCKET/$PREFIX/$latest.sha256" latest.dump.sha256
want=$(cut -d' ' -f1 latest.dump.sha256)
got=$(sha256sum latest.dump | cut -d' ' -f1)
if [ "$want" != "$got" ]; then
  echo "restore-drill: $latest has SHA-256 $got, its checksum file says $want" >&2
  exit 1
fi
printf '%s\n' "$latest" >LATEST
echo "restore-drill: fetched $latest"
