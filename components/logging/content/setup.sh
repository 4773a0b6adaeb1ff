#!/bin/sh
# Applies the log data streams' ILM policy and index template to
# Elasticsearch, then Kibana's data view. Idempotent: every call is a PUT or
# an overriding POST. The elastic user's password comes from ECK's Secret
# through the environment and is handed to curl on stdin, never on a
# command line.
#
# Environment: ES_URL and ES_CA (Elasticsearch and its CA file), KIBANA_URL
# and KIBANA_CA, ES_USER and ES_PASSWORD, ILM_POLICY, INDEX_TEMPLATE and
# EXPORTER_ROLE (the names), EXPORTER_USER and EXPORTER_PASSWORD (the
# metrics exporter's user). The bodies are files under /setup.
set -eu

# curl_as_elastic CA ARGS...: curl with the elastic user's credentials.
curl_as_elastic() {
  ca=$1
  shift
  printf 'user = "%s:%s"\n' "$ES_USER" "$ES_PASSWORD" |
    curl --silent --show-error --config - --cacert "$ca" "$@"
}

# wait_for CA URL: until the URL answers 2xx, at most 10 minutes.
wait_for() {
  tries=0
  until curl_as_elastic "$1" --fail --output /dev/null "$2" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "no answer from $2 after 10 minutes" >&2
      exit 1
    fi
    sleep 10
  done
}

# send CA METHOD URL BODY [ARGS...]: one JSON call; fails on an error status.
send() {
  ca=$1 method=$2 url=$3 body=$4
  shift 4
  curl_as_elastic "$ca" --fail-with-body --request "$method" \
    --header 'Content-Type: application/json' "$@" \
    --data-binary "@$body" "$url"
  echo
}

wait_for "$ES_CA" "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=10s"
send "$ES_CA" PUT "$ES_URL/_ilm/policy/$ILM_POLICY" /setup/ilm-policy.json
send "$ES_CA" PUT "$ES_URL/_index_template/$INDEX_TEMPLATE" /setup/index-template.json
send "$ES_CA" PUT "$ES_URL/_security/role/$EXPORTER_ROLE" /setup/exporter-role.json

# The exporter's user, with its password, written to a private file
# rather than a command line.
umask 077
printf '{"password":"%s","roles":["%s"]}' "$EXPORTER_PASSWORD" "$EXPORTER_ROLE" >/tmp/exporter-user.json
send "$ES_CA" PUT "$ES_URL/_security/user/$EXPORTER_USER" /tmp/exporter-user.json
rm -f /tmp/exporter-user.json

wait_for "$KIBANA_CA" "$KIBANA_URL/api/status"
send "$KIBANA_CA" POST "$KIBANA_URL/api/data_views/data_view" /setup/data-view.json --header 'kbn-xsrf: true'
