#!/usr/bin/env bats
# docr-role.sh with recording curl and docker stubs.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

export DO_TOKEN=dop_v1_0123456789abcdef0123456789abcdef

setup() {
  stub_commands curl docker
}

registry_answer() { # registry_answer HTTP_CODE [BODY]
  answer curl '*https://api.digitalocean.com/v2/registry' "http:$1" "${2:-}"
}

@test "checks the token with the API, then docker login, and prints the two lines" {
  registry_answer 200 '{"registry":{"name":"myreg","storage_usage_bytes":0,"region":"fra1"}}'
  answer docker 'login *' 0 'Login Succeeded\n'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "DO_REGISTRY=myreg
DO_TOKEN=$DO_TOKEN" ]
  called_in_order "curl -sS -H @" "docker login --username berth --password-stdin registry.digitalocean.com"
  grep -qx "  stdin: $DO_TOKEN" "$STUB_LOG"
  # the token never appears on a command line
  [ "$(grep -c -- "$DO_TOKEN" "$STUB_LOG")" -eq 1 ]
}

@test "a re-run makes the same two checks and prints the same lines" {
  registry_answer 200 '{"registry":{"name":"myreg"}}'
  answer docker 'login *' 0 'Login Succeeded\n'
  run "$SCRIPTS_DIR/docr-role.sh" --registry myreg
  local first=$output
  run "$SCRIPTS_DIR/docr-role.sh" --registry registry.digitalocean.com/myreg
  [ "$status" -eq 0 ]
  [ "$output" = "$first" ]
  [ "$(grep -c '^curl' "$STUB_LOG")" -eq 2 ]
  [ "$(grep -c '^docker login' "$STUB_LOG")" -eq 2 ]
}

@test "a rejected token names the API step and skips docker login" {
  registry_answer 401 '{"id":"unauthorized","message":"Unable to authenticate you"}'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "check the token with the DigitalOcean API (GET https://api.digitalocean.com/v2/registry)" failed: DigitalOcean answered 401'* ]]
  [[ $stderr != *"$DO_TOKEN"* ]]
  not_called '^docker'
}

@test "an account without a registry, and a registry that is not the account's, are named" {
  registry_answer 404 '{"id":"not_found","message":"The resource you were accessing could not be found."}'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 1 ]
  [[ $stderr == *"this account has no container registry"* ]]
  forget_answers
  registry_answer 200 '{"registry":{"name":"myreg"}}'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh" --registry other
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "match --registry other" failed: the token'"'"'s account has the registry myreg, not other'* ]]
}

@test "a refused docker login names its step" {
  registry_answer 200 '{"registry":{"name":"myreg"}}'
  answer docker 'login *' 1 '' 'Error response from daemon: login attempt to https://registry.digitalocean.com/v2/ failed with status: 401 Unauthorized\n'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "docker login registry.digitalocean.com" failed'*401* ]]
}

@test "--dry-run asks the API but does not log in" {
  registry_answer 200 '{"registry":{"name":"myreg"}}'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh" --dry-run
  [ "$status" -eq 0 ]
  not_called '^docker'
  [[ $stderr == *"dry run: would call: docker login --username berth --password-stdin registry.digitalocean.com"* ]]
}

@test "a network failure names the step; missing inputs and CLIs are named" {
  answer curl '*' 6 '' 'curl: (6) Could not resolve host: api.digitalocean.com\n'
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check the token with the DigitalOcean API'*'Could not resolve host'* ]]
  DO_TOKEN='' DIGITALOCEAN_ACCESS_TOKEN='' run --separate-stderr "$SCRIPTS_DIR/docr-role.sh" </dev/null
  [ "$status" -eq 2 ]
  [[ $stderr == *"set DO_TOKEN"* ]]
  run --separate-stderr "$SCRIPTS_DIR/docr-role.sh" --registry 'My Reg'
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry 'My Reg' is not a DOCR registry name"* ]]
  PATH=$(path_without curl) run --separate-stderr "$SCRIPTS_DIR/docr-role.sh"
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for curl" failed: curl is not installed'* ]]
}
