#!/usr/bin/env bash
# Creates a service principal with AcrPull on one Azure container registry and prints the
# AZURE_* lines for .updater.env. Idempotent: an existing principal and role assignment are
# left as they are (the secret is shown once, when created; --reset-secret issues a new one).
#
#   scripts/acr-role.sh --registry NAME [--sp-name NAME] [--reset-secret] [--dry-run]
set -euo pipefail

readonly PROG=${0##*/}
registry=""
sp_name=""
reset_secret=false
dry_run=false

usage() {
  cat <<USAGE
usage: $PROG --registry NAME [--sp-name NAME] [--reset-secret] [--dry-run]

Creates (if missing) a service principal with the AcrPull role on the registry NAME
(NAME.azurecr.io) only, and prints AZURE_REGISTRY, AZURE_TENANT_ID, AZURE_CLIENT_ID and
AZURE_CLIENT_SECRET for .updater.env.

  --registry NAME   the registry name, or its login server NAME.azurecr.io
  --sp-name NAME    the service principal (default berth-acr-pull-<registry>)
  --reset-secret    the principal exists: issue it a new secret (the old one stops working)
  --dry-run         print the calls that would change something, change nothing
  -h, --help        this help

Uses the az CLI, logged in (az login) to the subscription that holds the registry.
USAGE
}

info() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die_usage() { printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }
fail() { printf '%s: error: step "%s" failed: %s\n' "$PROG" "$1" "$2" >&2; exit 1; }

need_cli() {
  command -v "$1" >/dev/null 2>&1 || fail "check for $1" "$1 is not installed; $2"
}

# run STEP CMD...: runs CMD; its output in $out. On failure, names STEP and CMD's error.
out=""
run() {
  local step=$1 errors
  shift
  errors=$(mktemp)
  if out=$("$@" 2>"$errors"); then
    rm -f "$errors"
    return 0
  fi
  local message
  message=$(tail -n 3 "$errors" | tr '\n' ' ')
  rm -f "$errors"
  fail "$step" "${message:-$1 exited non-zero}"
}

# probe STEP PATTERN CMD...: 0 and $out when CMD succeeds, 1 when its error matches PATTERN
# (the thing does not exist), else fails STEP.
probe() {
  local step=$1 pattern=$2 errors status=0
  shift 2
  errors=$(mktemp)
  out=$("$@" 2>"$errors") || status=$?
  local message
  message=$(tail -n 3 "$errors" | tr '\n' ' ')
  rm -f "$errors"
  ((status == 0)) && return 0
  [[ $message =~ $pattern ]] && return 1
  fail "$step" "${message:-$1 exited with status $status}"
}

# change STEP CMD...: a call that changes something; under --dry-run only printed.
change() {
  if $dry_run; then
    info "dry run: would call: ${*:2}"
    out=""
    return 0
  fi
  info "$1"
  run "$@"
}

need_value() { [[ $# -ge 2 && -n $2 ]] || die_usage "$1 needs a value"; }

# env_line KEY VALUE: the line for .updater.env, quoted so that the file reads it back as is.
env_line() {
  local value=$2
  if [[ $value =~ ^[A-Za-z0-9_./:@,=+-]*$ ]]; then
    printf '%s=%s\n' "$1" "$value"
  elif [[ $value != *\'* ]]; then
    printf "%s='%s'\n" "$1" "$value"
  else
    value=${value//\\/\\\\}; value=${value//\"/\\\"}; value=${value//\$/\\\$}; value=${value//\`/\\\`}
    printf '%s="%s"\n' "$1" "$value"
  fi
}

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --registry) need_value "$@"; registry=${2%.azurecr.io}; shift 2 ;;
      --sp-name) need_value "$@"; sp_name=$2; shift 2 ;;
      --reset-secret) reset_secret=true; shift ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ -n $registry ]] || die_usage "--registry is required (the NAME of NAME.azurecr.io)"
  [[ $registry =~ ^[A-Za-z0-9]{5,50}$ ]] || die_usage "--registry '$registry' is not an ACR name (5-50 letters and digits)"
  registry=${registry,,}
  sp_name=${sp_name:-berth-acr-pull-$registry}
}

main() {
  parse_args "$@"
  need_cli az "install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli, then run az login"

  run "read the Azure tenant (az account show)" az account show --query tenantId -o tsv
  local tenant=$out
  [[ -n $tenant ]] || fail "read the Azure tenant (az account show)" "no tenant id in the answer; run az login"

  run "find registry $registry (az acr show)" az acr show --name "$registry" --query id -o tsv
  local scope=$out
  [[ -n $scope ]] || fail "find registry $registry (az acr show)" "no registry named $registry in this subscription"

  run "look up service principal $sp_name (az ad sp list)" \
    az ad sp list --display-name "$sp_name" --query '[0].appId' -o tsv
  local app_id=$out secret=""
  if [[ -z $app_id ]]; then
    change "create service principal $sp_name with AcrPull on $registry (az ad sp create-for-rbac)" \
      az ad sp create-for-rbac --name "$sp_name" --role AcrPull --scopes "$scope" --query '[appId,password]' -o tsv
    read -r app_id secret <<<"$(tr '\n' ' ' <<<"$out")" || true
    if ! $dry_run && [[ -z $app_id || -z $secret ]]; then
      fail "create service principal $sp_name with AcrPull on $registry (az ad sp create-for-rbac)" "no appId and password in the answer"
    fi
  else
    info "service principal $sp_name exists: $app_id"
    run "look up AcrPull on $registry for $sp_name (az role assignment list)" \
      az role assignment list --assignee "$app_id" --scope "$scope" --role AcrPull --query 'length(@)' -o tsv
    if [[ ${out:-0} =~ ^[1-9] ]]; then
      info "$sp_name already has AcrPull on $registry"
    else
      change "grant AcrPull on $registry to $sp_name (az role assignment create)" \
        az role assignment create --assignee "$app_id" --role AcrPull --scope "$scope" -o none
    fi
    if $reset_secret; then
      change "issue a new secret for $sp_name (az ad sp credential reset)" \
        az ad sp credential reset --id "$app_id" --query password -o tsv
      secret=$out
    fi
  fi

  $dry_run && info "dry run: nothing was changed; a real run prints:"
  info "paste into .updater.env:"
  env_line AZURE_REGISTRY "$registry"
  env_line AZURE_TENANT_ID "$tenant"
  env_line AZURE_CLIENT_ID "${app_id:-<created on a real run>}"
  if [[ -n $secret ]]; then
    env_line AZURE_CLIENT_SECRET "$secret"
  elif $dry_run; then
    env_line AZURE_CLIENT_SECRET "<created on a real run>"
  else
    info "AZURE_CLIENT_SECRET is not shown again: keep the one printed when $sp_name was created, or re-run with --reset-secret"
  fi
}

main "$@"
