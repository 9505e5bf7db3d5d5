#!/usr/bin/env bash
# The REST API against its own OpenAPI document: start a real `berth serve` on a free port
# with a temporary env file and SQLite database, create a write token with
# `berth token create`, and run schemathesis against /api/v1/openapi.json with it. Fails on
# any server error and on any response that breaks the document (status, content type,
# schema), then stops the server.
#
#   scripts/tests/schemathesis.sh PATH/TO/berth
#
# Under CI=true a missing schemathesis fails; otherwise the run is skipped with a message.
# SCHEMATHESIS_MAX_EXAMPLES (default 25) bounds the cases per operation.
set -euo pipefail

readonly PROG=scripts/tests/schemathesis.sh
berth=${1:?usage: $PROG PATH/TO/berth}
berth=$(realpath "$berth")
cd "$(dirname "$0")/../.."

say() { printf '\033[1m%s:\033[0m %s\n' "$PROG" "$*"; }

for tool in schemathesis curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [[ ${CI:-} == true ]]; then
      say "FAILED: $tool is missing; run scripts/setup.sh"
      exit 1
    fi
    say "SKIPPED: $tool is missing; run scripts/setup.sh to install it"
    exit 0
  fi
done
[[ -x $berth ]] || { say "FAILED: $berth is not an executable berth binary"; exit 1; }

work=$(mktemp -d -t berth-schemathesis.XXXXXX)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# No compose file and no label discovery: the server manages nothing, so no request
# schemathesis makes can touch a container on this host.
cat >"$work/.updater.env" <<ENV
LISTEN_ADDR=127.0.0.1:$port
DATABASE_URL=sqlite://$work/berth.db
DISCOVER_FROM_LABELS=false
CHECK_INTERVAL=6h
ENV

token=$("$berth" --env-file "$work/.updater.env" token create schemathesis --scope write)
"$berth" --env-file "$work/.updater.env" serve >"$work/serve.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { say "FAILED: berth serve exited:"; cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null || { say "FAILED: berth serve did not answer /healthz:"; cat "$work/serve.log"; exit 1; }
say "berth serve is up on $base; running $(schemathesis --version)"

# /events is an endless SSE stream: the integration tests read it, schemathesis cannot.
# SCHEMATHESIS_EXTRA: more schemathesis options, split on spaces.
read -ra extra <<<"${SCHEMATHESIS_EXTRA:-}"
status=0
schemathesis run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,ignored_auth,unsupported_method \
  --exclude-path /events \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --max-time 110 \
  --request-timeout 20 \
  --workers 1 \
  --seed 8 "${extra[@]}" \
  --report junit --report-dir "$work/report" || status=$?

if [[ $status -ne 0 ]]; then
  say "FAILED (exit $status); the server's log:"
  tail -n 50 "$work/serve.log"
  exit "$status"
fi
say "OK: no server error and no response outside the document"
