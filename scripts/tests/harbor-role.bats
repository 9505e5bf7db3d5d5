#!/usr/bin/env bats
# harbor-role.sh against a loopback server that implements Harbor's robots endpoints
# (fixtures/harbor_server.py), with real curl.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

export HARBOR_ADMIN_PASSWORD='Harbor12345'

# start_harbor ARG...: the fixture on a free 127.0.0.1 port; sets HARBOR and REQUESTS.
start_harbor() {
  local port_file=$BATS_TEST_TMPDIR/harbor.port
  REQUESTS=$BATS_TEST_TMPDIR/harbor.requests
  rm -f "$port_file"
  : >"$REQUESTS"
  python3 "$BATS_TEST_DIRNAME/fixtures/harbor_server.py" "$port_file" "$REQUESTS" "$@" 3>&- &
  HARBOR_PID=$!
  local tries=0
  until [[ -s $port_file ]]; do
    ((tries++ < 100)) || { echo "the Harbor fixture did not start" >&2; return 1; }
    sleep 0.05
  done
  HARBOR=http://127.0.0.1:$(cat "$port_file")
}

teardown() {
  if [[ -n ${HARBOR_PID:-} ]]; then kill "$HARBOR_PID" 2>/dev/null || true; wait "$HARBOR_PID" 2>/dev/null || true; fi
}

# the env file line reads back as the literal robot name
env_value() { (set -a; eval "$1"; printf '%s' "${!2}"); }

@test "creates a project robot that can only pull, and prints the three lines with robot\$ quoted" {
  start_harbor --project proj
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [ "${lines[0]}" = "HARBOR_URL=$HARBOR" ]
  [ "${lines[1]}" = "HARBOR_USERNAME='robot\$proj+berth'" ]
  [[ ${lines[2]} =~ ^HARBOR_PASSWORD=[0-9a-f]{32}$ ]]
  [ "$(env_value "${lines[1]}" HARBOR_USERNAME)" = 'robot$proj+berth' ]
  [ "$(cat "$REQUESTS")" = "GET /api/v2.0/ping
GET /api/v2.0/users/current
GET /api/v2.0/configurations
GET /api/v2.0/projects/proj
GET /api/v2.0/robots?page=1&page_size=100
POST /api/v2.0/robots" ]
  # pull-only: nothing but pull, read and list, in project proj only
  local body
  body=$(cat "$REQUESTS.bodies")
  [ "$(jq -r '.level' <<<"$body")" = project ]
  [ "$(jq -r '.permissions[0].namespace' <<<"$body")" = proj ]
  [ "$(jq -r '[.permissions[].access[].action] | unique | join(",")' <<<"$body")" = "list,pull,read" ]
}

@test "a re-run finds the robot and changes nothing" {
  start_harbor --project proj
  run "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj
  [ "$status" -eq 0 ]
  : >"$REQUESTS"
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj
  [ "$status" -eq 0 ]
  [ "$output" = "HARBOR_URL=$HARBOR
HARBOR_USERNAME='robot\$proj+berth'" ]
  [[ $stderr == *"robot robot\$proj+berth exists (id 1)"* ]]
  [[ $stderr == *"--refresh-secret"* ]]
  lacks "$REQUESTS" -E -- '^(POST|PATCH)'
}

@test "a system robot, under a custom name prefix" {
  start_harbor --prefix 'bot-'
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --system --name reader
  [ "$status" -eq 0 ]
  [ "${lines[1]}" = "HARBOR_USERNAME='bot-reader'" ]
  lacks "$REQUESTS" -- 'projects/'
}

@test "--refresh-secret gives an existing robot a new secret" {
  start_harbor --project proj --robot berth:project:proj
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj --refresh-secret
  [ "$status" -eq 0 ]
  [[ ${lines[2]} =~ ^HARBOR_PASSWORD=[0-9a-f]{32}$ ]]
  [ "$(tail -n 1 "$REQUESTS")" = "PATCH /api/v2.0/robots/1" ]
  lacks "$REQUESTS" -- '^POST'
}

@test "finds its robot on a later page of the robots list" {
  local robots=() i
  for i in $(seq 1 120); do robots+=(--robot "other$i:project:proj"); done
  start_harbor --project proj "${robots[@]}" --robot berth:project:proj
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj
  [ "$status" -eq 0 ]
  grep -q 'robots?page=2&page_size=100' "$REQUESTS"
  lacks "$REQUESTS" -- '^POST'
}

@test "--dry-run reads but does not create" {
  start_harbor --project proj
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj --dry-run
  [ "$status" -eq 0 ]
  [[ $stderr == *"dry run: would call: POST $HARBOR/api/v2.0/robots"* ]]
  [[ $output == *"HARBOR_PASSWORD='<created on a real run>'"* ]]
  lacks "$REQUESTS" -- '^POST'
}

@test "a wrong admin password names the sign-in step and is not echoed" {
  start_harbor --project proj
  HARBOR_ADMIN_PASSWORD=wrong run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project proj
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "sign in as admin (GET /api/v2.0/users/current)" failed: Harbor answered 401'* ]]
  [[ $stderr != *wrong* ]]
}

@test "an unknown project names the step" {
  start_harbor --project proj
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$HARBOR" --project nope
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "find project nope (GET /api/v2.0/projects/nope)" failed: Harbor has no project nope'* ]]
}

@test "an unreachable Harbor names the first step" {
  start_harbor
  local dead=$HARBOR
  teardown; HARBOR_PID=""
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url "$dead" --project proj
  [ "$status" -eq 1 ]
  [[ $stderr == *"step \"reach Harbor at $dead (GET /api/v2.0/ping)\" failed"* ]]
}

@test "bad or missing inputs are named, and a missing curl or jq is explained" {
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url https://h.example.com
  [ "$status" -eq 2 ]
  [[ $stderr == *"give --project NAME (a project robot) or --system (a system robot)"* ]]
  run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url https://h.example.com --project p --system
  [ "$status" -eq 2 ]
  [[ $stderr == *"--project and --system exclude each other"* ]]
  HARBOR_ADMIN_PASSWORD='' run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url https://h.example.com --project p </dev/null
  [ "$status" -eq 2 ]
  [[ $stderr == *"set HARBOR_ADMIN_PASSWORD"* ]]
  PATH=$(path_without jq) run --separate-stderr "$SCRIPTS_DIR/harbor-role.sh" --url https://h.example.com --project p
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for jq" failed: jq is not installed; install jq'* ]]
}
