#!/bin/sh
# app-backup (the AWS CLI's image): what the platform does not already keep
# durably. A daily copy of the uploads bucket's current objects goes under
# app/uploads/; a changed file's earlier copy becomes a noncurrent version
# there, kept (and, in production, locked) appRetentionDays. Each day's
# manifest, app/<date>/uploads-manifest.tsv (key and version ID of every
# copy as of that day), makes the uploads restorable by date
# (docs/RESTORE.md). The stack's non-secret settings and the Kubernetes
# objects' manifests (Secrets excepted) go under app/<date>/ too.
#
# Environment: BUCKET, UPLOADS_BUCKET, KMS_KEY_ID, SETTINGS (a file);
# WORK (default /work); S3_ENDPOINT_URL for another S3 endpoint (tests);
# KUBE_API (default https://kubernetes.default.svc) with the pod's service
# account token (SA_DIR); DAY (default today, UTC) for tests.
set -eu
work=${WORK:-/work}
day=${DAY:-$(date -u +%Y-%m-%d)}
out="$work/app/$day"
mkdir -p "$out"

s3() {
  if [ -n "${S3_ENDPOINT_URL:-}" ]; then
    aws --endpoint-url "$S3_ENDPOINT_URL" s3 "$@"
  else
    aws s3 "$@"
  fi
}
s3api() {
  if [ -n "${S3_ENDPOINT_URL:-}" ]; then
    aws --endpoint-url "$S3_ENDPOINT_URL" s3api "$@"
  else
    aws s3api "$@"
  fi
}

sa=${SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
api=${KUBE_API:-https://kubernetes.default.svc}
# get PATH FILE: one list from the API server, as JSON.
get() {
  printf 'header = "Authorization: Bearer %s"\n' "$(cat "$sa/token")" |
    curl --silent --show-error --fail --config - --cacert "$sa/ca.crt" --output "$2" "$api$1"
}

cp "$SETTINGS" "$out/settings.json"
for path in \
  /apis/apps/v1/deployments /apis/apps/v1/statefulsets /apis/apps/v1/daemonsets \
  /api/v1/services /api/v1/configmaps /api/v1/namespaces /api/v1/serviceaccounts \
  /apis/batch/v1/cronjobs /apis/autoscaling/v2/horizontalpodautoscalers \
  /apis/policy/v1/poddisruptionbudgets /apis/networking.k8s.io/v1/networkpolicies \
  /apis/gateway.networking.k8s.io/v1/gateways /apis/gateway.networking.k8s.io/v1/httproutes; do
  name=$(printf '%s' "$path" | tr '/' '_' | sed 's/^_//')
  get "$path" "$out/$name.json"
done

sse=""
[ -z "${KMS_KEY_ID:-}" ] || sse="--sse aws:kms --sse-kms-key-id $KMS_KEY_ID"
# shellcheck disable=SC2086 # $sse is two options
s3 sync --only-show-errors $sse "s3://$UPLOADS_BUCKET/" "s3://$BUCKET/app/uploads/"
s3api list-object-versions --bucket "$BUCKET" --prefix app/uploads/ \
  --query 'Versions[?IsLatest].[Key, VersionId]' --output text | grep -v '^None$' >"$out/uploads-manifest.tsv" || true
# shellcheck disable=SC2086
s3 cp --only-show-errors --recursive $sse "$out" "s3://$BUCKET/app/$day/"
echo "app-backup: settings, $(find "$out" -name "*.json" | wc -l) files and $(wc -l <"$out/uploads-manifest.tsv") uploads (manifest app/$day/uploads-manifest.tsv) for $day"
