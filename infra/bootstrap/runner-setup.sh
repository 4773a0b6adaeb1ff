#!/usr/bin/env bash
# One ephemeral GitHub Actions runner: the delivery runners' user data
# (infra/bootstrap/runner.go puts the variables above this script). It
# runs as root at first boot, registers the instance for exactly one job
# (--ephemeral), runs it as an unprivileged user that cannot reach the
# instance metadata service, and powers off; the instance terminates on
# shutdown and its Auto Scaling group starts a fresh one. No job ever sees
# another job's files, credentials or processes.
#
# Inputs (environment): REPOSITORY (owner/name), RUNNER_VERSION, LABELS,
# TOKEN_SECRET (the Secrets Manager secret holding the GitHub credential
# that may create registration tokens), REGION; RUNNER_SHA256 optional (else
# the checksum published in the release's notes). Tests replace the
# commands and URLs through GITHUB_API, GITHUB_URL, RUNNER_ROOT,
# RUNNER_USER, INSTANCE_ID, SKIP_PACKAGES, FAIL_PAUSE and NO_POWEROFF.
set -euo pipefail

: "${REPOSITORY:?}" "${RUNNER_VERSION:?}" "${LABELS:?}" "${TOKEN_SECRET:?}" "${REGION:?}"
RUNNER_SHA256=${RUNNER_SHA256:-}
GITHUB_API=${GITHUB_API:-https://api.github.com}
GITHUB_URL=${GITHUB_URL:-https://github.com}
RUNNER_ROOT=${RUNNER_ROOT:-/opt/actions-runner}
RUNNER_USER=${RUNNER_USER:-runner}

finish() {
  status=$?
  [ "$status" -eq 0 ] || echo "runner-setup: failed ($status); powering off, the group starts another instance" >&2
  if [ "${NO_POWEROFF:-}" != 1 ]; then
    # A failure right after boot would otherwise make the group replace
    # the instance in a tight loop.
    [ "$status" -eq 0 ] || sleep "${FAIL_PAUSE:-60}"
    poweroff
  fi
}
trap finish EXIT

if [ "${SKIP_PACKAGES:-}" != 1 ]; then
  # git for checkout, ICU for the runner's .NET, nftables for the rule below.
  dnf install -y -q git jq tar gzip libicu nftables
fi
id "$RUNNER_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$RUNNER_USER"

if [ -z "${INSTANCE_ID:-}" ]; then
  imds=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $imds" http://169.254.169.254/latest/meta-data/instance-id)
fi

# The runner application at its pinned version, checked against its
# SHA-256 before anything of it runs.
tarball="actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz"
work=$(mktemp -d)
curl -fsSL -o "$work/$tarball" "$GITHUB_URL/actions/runner/releases/download/v${RUNNER_VERSION}/$tarball"
if [ -z "$RUNNER_SHA256" ]; then
  RUNNER_SHA256=$(curl -fsS "$GITHUB_API/repos/actions/runner/releases/tags/v${RUNNER_VERSION}" | jq -r .body |
    sed -n 's/.*<!-- BEGIN SHA linux-x64 -->\([0-9a-f]\{64\}\)<!-- END SHA linux-x64 -->.*/\1/p')
fi
if [ -z "$RUNNER_SHA256" ]; then
  echo "runner-setup: no SHA-256 for $tarball (set runnerSha256 in the bootstrap config)" >&2
  exit 1
fi
echo "$RUNNER_SHA256  $work/$tarball" | sha256sum -c --quiet -
mkdir -p "$RUNNER_ROOT"
tar -xzf "$work/$tarball" -C "$RUNNER_ROOT"
chown -R "$RUNNER_USER:" "$RUNNER_ROOT"

# A registration token (one hour, registration only) from the credential
# in Secrets Manager; the credential itself stays in this root shell.
credential=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$TOKEN_SECRET" --query SecretString --output text)
registration=$(curl -fsS -X POST -H "Authorization: Bearer $credential" -H 'Accept: application/vnd.github+json' \
  "$GITHUB_API/repos/$REPOSITORY/actions/runners/registration-token" | jq -r .token)
unset credential
if [ -z "$registration" ] || [ "$registration" = null ]; then
  echo "runner-setup: GitHub gave no registration token for $REPOSITORY" >&2
  exit 1
fi

# Jobs authenticate to AWS with their own OIDC roles; the instance role
# (and this user data) is none of their business.
if [ "${SKIP_NFT:-}" != 1 ]; then
  nft add table inet runner
  nft add chain inet runner out '{ type filter hook output priority 0; policy accept; }'
  nft add rule inet runner out meta skuid "$RUNNER_USER" ip daddr 169.254.169.254 reject
fi

cd "$RUNNER_ROOT"
runuser -u "$RUNNER_USER" -- ./config.sh --unattended --ephemeral --replace \
  --url "$GITHUB_URL/$REPOSITORY" --token "$registration" --name "$INSTANCE_ID" --labels "$LABELS"
unset registration
runuser -u "$RUNNER_USER" -- ./run.sh
