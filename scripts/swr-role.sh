#!/usr/bin/env bash
# Checks Huawei Cloud SWR access keys: derives the long-term login key as Huawei documents it
# (lowercase hex HMAC-SHA256 keyed by the secret key over the access key), logs in with it
# through `docker login` (into a throw-away docker config), and prints the SWR_* lines for
# .updater.env. It creates nothing, so a re-run changes nothing.
#
#   SWR_SECRET_KEY=... scripts/swr-role.sh --region cn-north-4 --organization my-org --access-key AK
set -euo pipefail

readonly PROG=${0##*/}
region=""
organization=""
access_key=${SWR_ACCESS_KEY:-}
dry_run=false

usage() {
  cat <<USAGE
usage: $PROG --region REGION --organization ORG [--access-key AK] [--dry-run]

Derives the SWR login key from the access key AK and the secret key, checks it with
docker login swr.REGION.myhuaweicloud.com (user REGION@AK), and prints SWR_REGION,
SWR_ORGANIZATION, SWR_ACCESS_KEY and SWR_SECRET_KEY for .updater.env.

  --region REGION      e.g. cn-north-4, ap-southeast-1
  --organization ORG   the SWR organisation the images are in
  --access-key AK      the access key (default: \$SWR_ACCESS_KEY)
  --dry-run            derive the key, print the docker login it would run, run nothing
  -h, --help           this help

The secret key is read from SWR_SECRET_KEY, or asked for on a terminal; never pass it as an
argument. The login uses a temporary docker config: ~/.docker/config.json is not touched.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --region) need_value "$@"; region=$2; shift 2 ;;
      --organization | --org) need_value "$@"; organization=$2; shift 2 ;;
      --access-key) need_value "$@"; access_key=$2; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ -n $region ]] || die_usage "--region is required (e.g. cn-north-4)"
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die_usage "--region '$region' is not a Huawei Cloud region id (e.g. cn-north-4)"
  [[ -n $organization ]] || die_usage "--organization is required (the SWR organisation of the images)"
  [[ $organization =~ ^[a-z][a-z0-9._-]{0,63}$ ]] || die_usage "--organization '$organization' is not an SWR organisation name"
  [[ -n $access_key ]] || die_usage "--access-key (or SWR_ACCESS_KEY) is required"
  [[ $access_key =~ ^[A-Z0-9]{10,64}$ ]] || die_usage "--access-key '$access_key' does not look like an access key (upper-case letters and digits)"
}

read_secret_key() {
  secret_key=${SWR_SECRET_KEY:-}
  if [[ -z $secret_key ]]; then
    [[ -t 0 ]] || die_usage "set SWR_SECRET_KEY (the secret key of $access_key), or run on a terminal to be asked"
    IFS= read -rsp "Secret key of $access_key: " secret_key
    printf '\n' >&2
    [[ -n $secret_key ]] || die_usage "no secret key given"
  fi
}

# login_key: hex(HMAC-SHA256(key = SK, message = AK)), as Huawei documents it.
login_key() {
  local digest
  digest=$(printf '%s' "$access_key" | openssl dgst -sha256 -hmac "$secret_key") || return 1
  digest=${digest##* }
  [[ $digest =~ ^[0-9a-f]{64}$ ]] || return 1
  printf '%s' "$digest"
}

main() {
  parse_args "$@"
  need_cli openssl "install OpenSSL (Debian/Ubuntu: apt-get install openssl)"
  need_cli docker "install Docker: https://docs.docker.com/engine/install/"
  local secret_key
  read_secret_key

  local key
  key=$(login_key) || fail "derive the login key (openssl dgst -sha256 -hmac)" "openssl gave no SHA-256 digest"
  local host=swr.$region.myhuaweicloud.com user=$region@$access_key
  local step="docker login $host as $user"
  if $dry_run; then
    info "dry run: would call: docker login --username $user --password-stdin $host"
  else
    info "$step"
    local config
    config=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: the directory is known
    trap "rm -rf '$config'" EXIT
    DOCKER_CONFIG=$config run "$step" docker login --username "$user" --password-stdin "$host" <<<"$key"
    info "docker: ${out:-login accepted}"
  fi

  $dry_run && info "dry run: nothing was checked; a real run prints:"
  info "paste into .updater.env:"
  env_line SWR_REGION "$region"
  env_line SWR_ORGANIZATION "$organization"
  env_line SWR_ACCESS_KEY "$access_key"
  env_line SWR_SECRET_KEY "$secret_key"
}

main "$@"
