#!/usr/bin/env bats
# swr-role.sh with a recording docker stub (only `docker login` is called).

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

AK=AKIAEXAMPLE0123456789
export SWR_SECRET_KEY='sk/Example+Secret=Key$1'

setup() {
  stub_commands docker
}

# what Huawei documents: lowercase hex HMAC-SHA256, key SK, message AK (computed independently)
expected_key() {
  python3 -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[2].encode(), sys.argv[1].encode(), hashlib.sha256).hexdigest())' "$AK" "$SWR_SECRET_KEY"
}

@test "derives the documented login key, checks it with docker login, prints the four lines" {
  answer docker 'login *' 0 'Login Succeeded\n'
  run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region ap-southeast-1 --organization org --access-key "$AK"
  [ "$status" -eq 0 ]
  [ "$output" = "SWR_REGION=ap-southeast-1
SWR_ORGANIZATION=org
SWR_ACCESS_KEY=$AK
SWR_SECRET_KEY='sk/Example+Secret=Key\$1'" ]
  [ "$(calls)" = "docker login --username ap-southeast-1@$AK --password-stdin swr.ap-southeast-1.myhuaweicloud.com
  stdin: $(expected_key)" ]
}

@test "the login key for a fixed AK/SK is the known lowercase hex digest" {
  answer docker 'login *' 0 'Login Succeeded\n'
  SWR_SECRET_KEY=secret run "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key AKIATEST01
  [ "$status" -eq 0 ]
  grep -qx '  stdin: f88702612e3f4704a5606df042f5fe7b6e7e36ab7613d87fc98b1c31a1ef654c' "$STUB_LOG"
}

@test "a re-run does the same check and prints the same lines (nothing is created)" {
  answer docker 'login *' 0 'Login Succeeded\n'
  run "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK"
  local first=$output
  run "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK"
  [ "$status" -eq 0 ]
  [ "$output" = "$first" ]
  [ "$(grep -c '^docker login' "$STUB_LOG")" -eq 2 ]
}

@test "the login does not touch the user's docker config" {
  answer docker 'login *' 0 'Login Succeeded\n'
  HOME=$BATS_TEST_TMPDIR/home run "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK"
  [ "$status" -eq 0 ]
  [ ! -e "$BATS_TEST_TMPDIR/home/.docker" ]
}

@test "a refused login names the step and prints nothing to paste" {
  answer docker 'login *' 1 '' 'Error response from daemon: Get "https://swr.cn-north-4.myhuaweicloud.com/v2/": unauthorized: authentication required\n'
  run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *"step \"docker login swr.cn-north-4.myhuaweicloud.com as cn-north-4@$AK\" failed"*unauthorized* ]]
  [[ $stderr != *"$SWR_SECRET_KEY"* ]]
}

@test "--dry-run calls nothing" {
  run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK" --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$STUB_LOG" ]
  [[ $stderr == *"dry run: would call: docker login --username cn-north-4@$AK --password-stdin swr.cn-north-4.myhuaweicloud.com"* ]]
}

@test "bad or missing inputs are named" {
  run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region moon-1 --organization org --access-key "$AK"
  [ "$status" -eq 2 ]
  [[ $stderr == *"--region 'moon-1' is not a Huawei Cloud region id"* ]]
  run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --access-key "$AK"
  [ "$status" -eq 2 ]
  [[ $stderr == *"--organization is required"* ]]
  SWR_ACCESS_KEY='' run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org
  [ "$status" -eq 2 ]
  [[ $stderr == *"--access-key (or SWR_ACCESS_KEY) is required"* ]]
  SWR_SECRET_KEY='' run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK" </dev/null
  [ "$status" -eq 2 ]
  [[ $stderr == *"set SWR_SECRET_KEY"* ]]
  PATH=$(path_without openssl) run --separate-stderr "$SCRIPTS_DIR/swr-role.sh" --region cn-north-4 --organization org --access-key "$AK"
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for openssl" failed: openssl is not installed'* ]]
}
