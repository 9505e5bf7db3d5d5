#!/usr/bin/env bats
# ecr-role.sh against a recording aws stub.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

ARN=arn:aws:iam::123456789012:role/berth-ecr-read

setup() {
  stub_commands aws
  answer aws 'sts get-caller-identity *' 0 '123456789012\tarn:aws:iam::123456789012:user/ops\n'
}

role_missing() {
  answer aws 'iam get-role *' 254 '' 'An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name berth-ecr-read cannot be found.\n'
  answer aws 'iam get-role-policy *' 254 '' 'An error occurred (NoSuchEntity) when calling the GetRolePolicy operation: not found\n'
  answer aws 'iam create-role *' 0 "$ARN\n"
  answer aws 'iam put-role-policy *' 0
}

role_present() {
  answer aws 'iam get-role *' 0 "$ARN\n"
  answer aws 'iam get-role-policy *' 0 'berth-ecr-read\n'
}

@test "creates the role and its read-only policy, in order, and prints AWS_ROLE_ARN" {
  role_missing
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "AWS_ROLE_ARN=$ARN" ]
  called_in_order "aws sts get-caller-identity" "aws iam get-role --role-name berth-ecr-read" \
    "aws iam create-role --role-name berth-ecr-read" "aws iam get-role-policy --role-name berth-ecr-read --policy-name berth-ecr-read" \
    "aws iam put-role-policy --role-name berth-ecr-read --policy-name berth-ecr-read"
  # the trust policy names the account; the policy grants exactly the read actions
  grep -q '"Principal":{"AWS":"arn:aws:iam::123456789012:root"}' "$STUB_LOG"
  local policy
  policy=$(grep 'put-role-policy' "$STUB_LOG")
  for action in GetAuthorizationToken DescribeRepositories DescribeImages ListImages BatchGetImage GetDownloadUrlForLayer; do
    [[ $policy == *"\"ecr:$action\""* ]]
  done
  [[ $policy != *Put* && $policy != *Delete* ]]
}

@test "a re-run against the existing role changes nothing and prints the same line" {
  role_present
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "AWS_ROLE_ARN=$ARN" ]
  not_called 'create-role|put-role-policy'
  [[ $stderr == *"role berth-ecr-read exists"* ]]
}

@test "create, then re-run: the second run only looks" {
  role_missing
  run "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 0 ]
  grep -q 'create-role' "$STUB_LOG"
  forget_answers; clear_calls
  answer aws 'sts get-caller-identity *' 0 '123456789012\tarn:aws:iam::123456789012:user/ops\n'
  role_present
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "AWS_ROLE_ARN=$ARN" ]
  not_called 'create-role|put-role-policy'
  [ "$(wc -l <"$STUB_LOG")" -eq 3 ]
}

@test "a role without the policy gets only the policy" {
  answer aws 'iam get-role *' 0 "$ARN\n"
  answer aws 'iam get-role-policy *' 254 '' 'An error occurred (NoSuchEntity) when calling the GetRolePolicy operation\n'
  answer aws 'iam put-role-policy *' 0
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 0 ]
  not_called 'create-role'
  called_in_order "aws iam get-role " "aws iam get-role-policy" "aws iam put-role-policy"
}

@test "--dry-run prints the calls it would make and makes none that change state" {
  role_missing
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh" --dry-run --role-name ci-reader --trust-principal arn:aws:iam::123456789012:role/host
  [ "$status" -eq 0 ]
  [ "$output" = "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci-reader" ]
  not_called 'create-role|put-role-policy'
  [[ $stderr == *"dry run: would call: aws iam create-role --role-name ci-reader"* ]]
  [[ $stderr == *'"Principal":{"AWS":"arn:aws:iam::123456789012:role/host"}'* ]]
  [[ $stderr == *"dry run: would call: aws iam put-role-policy --role-name ci-reader"* ]]
}

@test "an access error names the step and the AWS message" {
  answer aws 'iam get-role *' 254 '' 'An error occurred (AccessDenied) when calling the GetRole operation: User ops is not authorized\n'
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "look up role berth-ecr-read (aws iam get-role)" failed'*AccessDenied* ]]
  not_called 'create-role'
}

@test "a failed create names its step and prints nothing to paste" {
  role_missing
  forget_answers
  answer aws 'sts get-caller-identity *' 0 '123456789012\tarn:aws:iam::123456789012:user/ops\n'
  answer aws 'iam get-role *' 254 '' 'An error occurred (NoSuchEntity)\n'
  answer aws 'iam create-role *' 254 '' 'An error occurred (LimitExceeded) when calling the CreateRole operation\n'
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "create role berth-ecr-read (aws iam create-role)" failed'*LimitExceeded* ]]
}

@test "no credentials: the account step fails with the CLI's message" {
  forget_answers
  answer aws 'sts get-caller-identity *' 253 '' 'Unable to locate credentials. You can configure credentials by running "aws configure".\n'
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "read the AWS account (aws sts get-caller-identity)" failed: Unable to locate credentials'* ]]
}

@test "without the aws CLI it says how to install it" {
  PATH=$(path_without aws) run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh"
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for aws" failed: aws is not installed; install the AWS CLI v2'* ]]
}

@test "usage on --help, and a bad argument is named" {
  run "$SCRIPTS_DIR/ecr-role.sh" --help
  [ "$status" -eq 0 ]
  [[ $output == usage:* ]]
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh" --role-name 'bad name'
  [ "$status" -eq 2 ]
  [[ $stderr == *"--role-name 'bad name' is not a valid IAM role name"* ]]
  run --separate-stderr "$SCRIPTS_DIR/ecr-role.sh" --frobnicate
  [ "$status" -eq 2 ]
  [[ $stderr == *"unknown argument '--frobnicate'"* ]]
}
