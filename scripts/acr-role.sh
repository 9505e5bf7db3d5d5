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

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

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
