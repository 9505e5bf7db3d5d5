#!/usr/bin/env bash
# Creates a GCP service account that can read one registry (roles/artifactregistry.reader for
# Artifact Registry, roles/storage.objectViewer for GCR), a key for it, and prints the GCP_*
# lines for .updater.env. Idempotent: the account and its role are created only when missing,
# and a key file already written for the account is used again instead of a new key.
#
#   scripts/gcp-role.sh --registry HOST [--project ID] [--sa-name NAME] [--key-file PATH] [--dry-run]
set -euo pipefail

readonly PROG=${0##*/}
registry=""
project=""
sa_name=berth-registry-read
key_file=""
dry_run=false

usage() {
  cat <<USAGE
usage: $PROG --registry HOST [--project ID] [--sa-name NAME] [--key-file PATH] [--dry-run]

Creates (if missing) the service account NAME in project ID with read access to the registry
HOST, writes a JSON key for it to PATH (if PATH does not hold one already), and prints
GCP_REGISTRY_URL, GCP_PROJECT and GCP_SERVICE_ACCOUNT_JSON for .updater.env.

  --registry HOST   LOCATION-docker.pkg.dev (Artifact Registry: roles/artifactregistry.reader)
                    or gcr.io, us.gcr.io, eu.gcr.io, asia.gcr.io (GCR: roles/storage.objectViewer)
  --project ID      the project (default: gcloud config get-value project)
  --sa-name NAME    the service account (default $sa_name)
  --key-file PATH   where the key is kept, mode 0600 (default ./<sa-name>-key.json)
  --dry-run         print the calls that would change something, change nothing
  -h, --help        this help

Uses the gcloud CLI, logged in (gcloud auth login) with rights to manage IAM in the project.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --registry) need_value "$@"; registry=${2#https://}; registry=${registry%/}; shift 2 ;;
      --project) need_value "$@"; project=$2; shift 2 ;;
      --sa-name) need_value "$@"; sa_name=$2; shift 2 ;;
      --key-file) need_value "$@"; key_file=$2; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ -n $registry ]] || die_usage "--registry is required (e.g. europe-west1-docker.pkg.dev or gcr.io)"
  [[ $sa_name =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die_usage "--sa-name '$sa_name' is not a service account id (6-30 of a-z, 0-9, -)"
  [[ -z $project || $project =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ || $project == *:* ]] || die_usage "--project '$project' is not a project id"
  key_file=${key_file:-./$sa_name-key.json}
}

# role_for HOST: the read role for the registry's kind.
role_for() {
  if [[ $1 =~ ^[a-z0-9-]+-docker\.pkg\.dev$ ]]; then echo roles/artifactregistry.reader
  elif [[ $1 =~ ^([a-z]+\.)?gcr\.io$ ]]; then echo roles/storage.objectViewer
  else die_usage "--registry '$1' is neither LOCATION-docker.pkg.dev nor a gcr.io host"
  fi
}

# compact_json FILE: the key on one line (the env file is line-based), checked to be JSON.
compact_json() {
  python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$1"
}

# key_email FILE: the client_email of a key file.
key_email() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("client_email", ""))' "$1"
}

main() {
  parse_args "$@"
  local role
  role=$(role_for "$registry")
  need_cli gcloud "install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install, then run gcloud auth login"
  need_cli python3 "install python3 (it reads the key file; the gcloud CLI needs it too)"

  if [[ -z $project ]]; then
    run "read the default project (gcloud config get-value project)" gcloud config get-value project
    project=$out
    [[ -n $project && $project != "(unset)" ]] || fail "read the default project (gcloud config get-value project)" "no default project: pass --project"
  fi
  local email=$sa_name@$project.iam.gserviceaccount.com

  if probe "look up service account $email (gcloud iam service-accounts describe)" 'NOT_FOUND|does not exist|not found' \
    gcloud iam service-accounts describe "$email" --project "$project" --format 'value(email)'; then
    info "service account $email exists"
  else
    change "create service account $sa_name (gcloud iam service-accounts create)" \
      gcloud iam service-accounts create "$sa_name" --project "$project" --display-name "Berth registry reader"
  fi

  run "look up $role for $email (gcloud projects get-iam-policy)" \
    gcloud projects get-iam-policy "$project" --flatten 'bindings[].members' \
    --filter "bindings.role=$role AND bindings.members=serviceAccount:$email" --format 'value(bindings.role)'
  if [[ -n $out ]]; then
    info "$email already has $role"
  else
    change "grant $role to $email (gcloud projects add-iam-policy-binding)" \
      gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$email" --role "$role" \
      --condition None --format none
  fi

  local key_json=""
  if [[ -f $key_file ]]; then
    local owner
    owner=$(key_email "$key_file" 2>/dev/null) || fail "read the key file $key_file" "it is not a JSON key"
    [[ $owner == "$email" ]] || fail "read the key file $key_file" "it is a key of ${owner:-nobody}, not of $email; pass another --key-file"
    info "using the key already in $key_file"
  else
    local dir
    dir=$(dirname "$key_file")
    [[ -d $dir ]] || fail "create a key for $email" "the directory of --key-file ($dir) does not exist"
    (umask 077 && change "create a key for $email in $key_file (gcloud iam service-accounts keys create)" \
      gcloud iam service-accounts keys create "$key_file" --iam-account "$email" --project "$project")
    $dry_run || [[ -s $key_file ]] || fail "create a key for $email in $key_file (gcloud iam service-accounts keys create)" "no key was written"
  fi
  if [[ -f $key_file ]]; then
    chmod 600 "$key_file"
    key_json=$(compact_json "$key_file") || fail "read the key file $key_file" "it is not valid JSON"
  fi

  $dry_run && info "dry run: nothing was changed; a real run prints:"
  info "paste into .updater.env:"
  env_line GCP_REGISTRY_URL "$registry"
  env_line GCP_PROJECT "$project"
  env_line GCP_SERVICE_ACCOUNT_JSON "${key_json:-<created on a real run>}"
}

main "$@"
