#!/usr/bin/env bash
# Checks a DigitalOcean API token for the container registry: asks the DigitalOcean API which
# registry the token sees, logs in to registry.digitalocean.com with it through `docker login`
# (into a throw-away docker config), and prints the DO_* lines for .updater.env. It creates
# nothing, so a re-run changes nothing.
#
#   DO_TOKEN=dop_v1_... scripts/docr-role.sh [--registry NAME]
set -euo pipefail

readonly PROG=${0##*/}
readonly API=https://api.digitalocean.com
readonly HOST=registry.digitalocean.com
registry=""
dry_run=false

usage() {
  cat <<USAGE
usage: $PROG [--registry NAME] [--dry-run]

Checks the token with GET $API/v2/registry and docker login $HOST, and prints DO_REGISTRY
and DO_TOKEN for .updater.env.

  --registry NAME   the registry the images are in (default: the one the token's account has);
                    it must be the account's registry
  --dry-run         ask the API (it changes nothing), print the docker login instead of running it
  -h, --help        this help

The token (scope registry:read is enough) is read from DO_TOKEN or DIGITALOCEAN_ACCESS_TOKEN,
or asked for on a terminal; never pass it as an argument. The login uses a temporary docker
config: ~/.docker/config.json is not touched.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --registry) need_value "$@"; registry=${2#"$HOST/"}; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ -z $registry || $registry =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die_usage "--registry '$registry' is not a DOCR registry name (a-z, 0-9, -)"
}

read_token() {
  token=${DO_TOKEN:-${DIGITALOCEAN_ACCESS_TOKEN:-}}
  if [[ -z $token ]]; then
    [[ -t 0 ]] || die_usage "set DO_TOKEN (a DigitalOcean API token), or run on a terminal to be asked"
    IFS= read -rsp "DigitalOcean API token: " token
    printf '\n' >&2
    [[ -n $token ]] || die_usage "no token given"
  fi
  [[ $token =~ ^[A-Za-z0-9_]+$ ]] || die_usage "DO_TOKEN does not look like a DigitalOcean token (letters, digits, _)"
}

work=""
cleanup() { [[ -z $work ]] || rm -rf "$work"; }

main() {
  parse_args "$@"
  need_cli curl "install curl (Debian/Ubuntu: apt-get install curl)"
  need_cli jq "install jq (Debian/Ubuntu: apt-get install jq)"
  need_cli docker "install Docker: https://docs.docker.com/engine/install/"
  local token
  read_token
  work=$(mktemp -d)
  trap cleanup EXIT
  # the token reaches curl in a 0600 header file, never on a command line
  printf 'Authorization: Bearer %s\n' "$token" >"$work/auth"

  local step="check the token with the DigitalOcean API (GET $API/v2/registry)"
  run "$step" curl -sS -H "@$work/auth" -H 'Accept: application/json' -o "$work/body" -w '%{http_code}' "$API/v2/registry"
  case "$out" in
    200) ;;
    401) fail "$step" "DigitalOcean answered 401: the token is wrong, expired or revoked" ;;
    403) fail "$step" "DigitalOcean answered 403: the token lacks the registry:read scope" ;;
    404) fail "$step" "DigitalOcean answered 404: this account has no container registry" ;;
    *) fail "$step" "DigitalOcean answered $out: $(jq -r '.message // empty' "$work/body" 2>/dev/null || true)" ;;
  esac
  local found
  found=$(jq -r '.registry.name // empty' "$work/body" 2>/dev/null) || true
  [[ -n $found ]] || fail "$step" "no registry name in the answer"
  if [[ -n $registry && $registry != "$found" ]]; then
    fail "match --registry $registry" "the token's account has the registry $found, not $registry"
  fi
  info "the token sees registry $found"

  step="docker login $HOST"
  if $dry_run; then
    info "dry run: would call: docker login --username berth --password-stdin $HOST"
  else
    info "$step"
    mkdir -m 700 "$work/docker"
    # DOCR ignores the user name; the token is the password
    DOCKER_CONFIG=$work/docker run "$step" docker login --username berth --password-stdin "$HOST" <<<"$token"
    info "docker: ${out:-login accepted}"
  fi

  info "paste into .updater.env:"
  env_line DO_REGISTRY "$found"
  env_line DO_TOKEN "$token"
}

main "$@"
