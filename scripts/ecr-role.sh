#!/usr/bin/env bash
# Creates the IAM role Berth assumes to read AWS ECR, with a read-only inline policy, and
# prints the AWS_ROLE_ARN line for .updater.env. Idempotent: what exists is left as it is.
#
#   scripts/ecr-role.sh [--role-name NAME] [--trust-principal ARN] [--dry-run]
set -euo pipefail

readonly PROG=${0##*/}
role_name=berth-ecr-read
policy_name=berth-ecr-read
trust_principal=""
dry_run=false

# What Berth needs: a login token, the repositories, their tags, digests and push times,
# and the manifests and layers a pull reads.
readonly POLICY='{"Version":"2012-10-17","Statement":[{"Sid":"BerthEcrRead","Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:DescribeRepositories","ecr:DescribeImages","ecr:ListImages","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}'

usage() {
  cat <<EOF
usage: $PROG [--role-name NAME] [--policy-name NAME] [--trust-principal ARN] [--dry-run]

Creates (if missing) the IAM role NAME (default $role_name) with an inline read-only ECR
policy (GetAuthorizationToken, DescribeRepositories, DescribeImages, ListImages,
BatchGetImage, GetDownloadUrlForLayer), then prints the AWS_ROLE_ARN line for .updater.env.

  --role-name NAME        the role (default $role_name)
  --policy-name NAME      the inline policy (default $policy_name)
  --trust-principal ARN   who may assume the role (default: the account, arn:aws:iam::<id>:root,
                          so any of its users or roles that is allowed sts:AssumeRole)
  --dry-run               print the calls that would change something, change nothing
  -h, --help              this help

Uses the aws CLI with its usual credentials (AWS_PROFILE, environment, instance role).
EOF
}

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --role-name) need_value "$@"; role_name=$2; shift 2 ;;
      --policy-name) need_value "$@"; policy_name=$2; shift 2 ;;
      --trust-principal) need_value "$@"; trust_principal=$2; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ $role_name =~ ^[A-Za-z0-9+=,.@_-]{1,64}$ ]] || die_usage "--role-name '$role_name' is not a valid IAM role name"
  [[ $policy_name =~ ^[A-Za-z0-9+=,.@_-]{1,128}$ ]] || die_usage "--policy-name '$policy_name' is not a valid IAM policy name"
  [[ -z $trust_principal || $trust_principal == arn:* ]] || die_usage "--trust-principal '$trust_principal' is not an ARN"
}

main() {
  parse_args "$@"
  need_cli aws "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"

  run "read the AWS account (aws sts get-caller-identity)" \
    aws sts get-caller-identity --query '[Account,Arn]' --output text
  local account caller partition
  read -r account caller <<<"$out"
  [[ $account =~ ^[0-9]{12}$ ]] || fail "read the AWS account (aws sts get-caller-identity)" "unexpected answer '$out'"
  partition=$(cut -d: -f2 <<<"$caller")
  [[ -n $partition ]] || partition=aws
  local principal=${trust_principal:-arn:$partition:iam::$account:root}
  local role_arn="arn:$partition:iam::$account:role/$role_name"

  if probe "look up role $role_name (aws iam get-role)" 'NoSuchEntity' \
    aws iam get-role --role-name "$role_name" --query Role.Arn --output text; then
    role_arn=$out
    info "role $role_name exists: $role_arn"
  else
    local trust
    trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'$principal'"},"Action":"sts:AssumeRole"}]}'
    change "create role $role_name (aws iam create-role)" \
      aws iam create-role --role-name "$role_name" --description "Berth: read-only access to ECR" \
      --assume-role-policy-document "$trust" --query Role.Arn --output text
    [[ -z $out ]] || role_arn=$out
  fi

  if probe "look up policy $policy_name on role $role_name (aws iam get-role-policy)" 'NoSuchEntity' \
    aws iam get-role-policy --role-name "$role_name" --policy-name "$policy_name" --query PolicyName --output text; then
    info "policy $policy_name is already on role $role_name"
  else
    change "attach policy $policy_name to role $role_name (aws iam put-role-policy)" \
      aws iam put-role-policy --role-name "$role_name" --policy-name "$policy_name" --policy-document "$POLICY"
  fi

  $dry_run && info "dry run: nothing was changed; a real run prints:"
  info "paste into .updater.env:"
  printf 'AWS_ROLE_ARN=%s\n' "$role_arn"
}

main "$@"
