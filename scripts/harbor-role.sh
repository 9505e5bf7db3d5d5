#!/usr/bin/env bash
# Creates a pull-only Harbor robot account through /api/v2.0/robots, scoped to one project or
# system-level, and prints the HARBOR_* lines for .updater.env. Idempotent: an existing robot
# of that name is left as it is (its secret is shown once, when created; --refresh-secret
# issues a new one).
#
#   HARBOR_ADMIN_PASSWORD=... scripts/harbor-role.sh --url https://harbor.example.com --project NAME
#   HARBOR_ADMIN_PASSWORD=... scripts/harbor-role.sh --url https://harbor.example.com --system
set -euo pipefail

readonly PROG=${0##*/}
url=""
project=""
system=false
robot=berth
admin_user="admin"
insecure=false
refresh_secret=false
dry_run=false

usage() {
  cat <<USAGE
usage: $PROG --url URL (--project NAME | --system) [--name ROBOT] [--admin-user USER]
       [--insecure] [--refresh-secret] [--dry-run]

Creates (if missing) a robot account that can only pull and list (repository pull and list,
artifact read and list, tag list), in one project or, with --system, in every project, and
prints HARBOR_URL, HARBOR_USERNAME and HARBOR_PASSWORD for .updater.env.

  --url URL          Harbor's address (https:// is assumed when no scheme is given)
  --project NAME     a project robot, for this project only
  --system           a system robot, reading every project (Harbor 2.2 or later)
  --name ROBOT       the robot's name (default $robot)
  --admin-user USER  a Harbor administrator (default $admin_user); the password is read from
                     HARBOR_ADMIN_PASSWORD, or asked for on a terminal
  --insecure         accept a self-signed certificate
  --refresh-secret   the robot exists: issue it a new secret (the old one stops working)
  --dry-run          print the calls that would change something, change nothing
  -h, --help         this help
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib/role.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/role.sh"

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --url) need_value "$@"; url=$2; shift 2 ;;
      --project) need_value "$@"; project=$2; shift 2 ;;
      --system) system=true; shift ;;
      --name) need_value "$@"; robot=$2; shift 2 ;;
      --admin-user) need_value "$@"; admin_user=$2; shift 2 ;;
      --insecure) insecure=true; shift ;;
      --refresh-secret) refresh_secret=true; shift ;;
      --dry-run) dry_run=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  [[ -n $url ]] || die_usage "--url is required (e.g. https://harbor.example.com)"
  [[ $url == *://* ]] || url=https://$url
  url=${url%/}
  [[ $url =~ ^https?://[^/[:space:]]+$ ]] || die_usage "--url '$url' is not http(s)://HOST[:PORT]"
  if $system; then
    [[ -z $project ]] || die_usage "--project and --system exclude each other"
  else
    [[ -n $project ]] || die_usage "give --project NAME (a project robot) or --system (a system robot)"
    [[ $project =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die_usage "--project '$project' is not a Harbor project name"
  fi
  [[ $robot =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die_usage "--name '$robot' is not a robot name (lower-case letters, digits, . _ -)"
}

work=""
cleanup() { [[ -z $work ]] || rm -rf "$work"; }

# The admin password goes to curl in a 0600 config file, never on a command line.
write_credentials() {
  local password=${HARBOR_ADMIN_PASSWORD:-}
  if [[ -z $password ]]; then
    [[ -t 0 ]] || die_usage "set HARBOR_ADMIN_PASSWORD (the password of $admin_user), or run on a terminal to be asked"
    IFS= read -rsp "Password of Harbor user $admin_user: " password
    printf '\n' >&2
    [[ -n $password ]] || die_usage "no password given for $admin_user"
  fi
  local credentials="$admin_user:$password"
  credentials=${credentials//\\/\\\\}
  credentials=${credentials//\"/\\\"}
  printf 'user = "%s"\n' "$credentials" >"$work/curl.conf"
}

# api STEP METHOD PATH [JSON]: calls Harbor; the status in $code, the body in $work/body.
code=""
api() {
  local step=$1 method=$2 path=$3 data=${4:-}
  local args=(-sS -K "$work/curl.conf" -X "$method" -H 'Accept: application/json' -o "$work/body" -w '%{http_code}')
  $insecure && args+=(-k)
  [[ $path == /api/v2.0/projects/* ]] && args+=(-H 'X-Is-Resource-Name: true')
  if [[ -n $data ]]; then
    printf '%s' "$data" >"$work/request"
    args+=(-H 'Content-Type: application/json' --data-binary "@$work/request")
  fi
  run "$step" curl "${args[@]}" "$url$path"
  code=$out
}

# harbor_error: Harbor's message from the last body, for error lines.
harbor_error() {
  jq -r '[.errors[]?.message] | join("; ")' "$work/body" 2>/dev/null || head -c 200 "$work/body"
}

expect() { # expect STEP CODE...: the last call answered one of CODE...
  local step=$1 wanted
  shift
  for wanted in "$@"; do [[ $code == "$wanted" ]] && return 0; done
  case "$code" in
    401) fail "$step" "Harbor answered 401: the user $admin_user or its password was refused" ;;
    403) fail "$step" "Harbor answered 403: $admin_user may not do this ($(harbor_error))" ;;
    *) fail "$step" "Harbor answered $code: $(harbor_error)" ;;
  esac
}

main() {
  parse_args "$@"
  need_cli curl "install curl (Debian/Ubuntu: apt-get install curl)"
  need_cli jq "install jq (Debian/Ubuntu: apt-get install jq)"
  work=$(mktemp -d)
  trap cleanup EXIT
  write_credentials

  local step="reach Harbor at $url (GET /api/v2.0/ping)"
  api "$step" GET /api/v2.0/ping
  expect "$step" 200

  step="sign in as $admin_user (GET /api/v2.0/users/current)"
  api "$step" GET /api/v2.0/users/current
  expect "$step" 200

  step="read the robot name prefix (GET /api/v2.0/configurations)"
  api "$step" GET /api/v2.0/configurations
  expect "$step" 200
  local prefix
  prefix=$(jq -r '.robot_name_prefix.value // "robot$"' "$work/body") || fail "$step" "the answer is not JSON"

  local level=system namespace="*" full_name
  if $system; then
    full_name=$prefix$robot
  else
    level=project namespace=$project full_name=$prefix$project+$robot
    step="find project $project (GET /api/v2.0/projects/$project)"
    api "$step" GET "/api/v2.0/projects/$project"
    [[ $code != 404 ]] || fail "$step" "Harbor has no project $project"
    expect "$step" 200
  fi

  step="look up robot $full_name (GET /api/v2.0/robots)"
  local page=1 robot_id="" count
  while :; do
    api "$step" GET "/api/v2.0/robots?page=$page&page_size=100"
    expect "$step" 200
    robot_id=$(jq -r --arg name "$full_name" '[.[] | select(.name == $name) | .id][0] // empty' "$work/body") \
      || fail "$step" "the answer is not a JSON list"
    count=$(jq length "$work/body")
    [[ -z $robot_id && $count -ge 100 ]] || break
    page=$((page + 1))
  done

  local secret=""
  if [[ -n $robot_id ]]; then
    info "robot $full_name exists (id $robot_id)"
    if $refresh_secret; then
      step="issue a new secret for $full_name (PATCH /api/v2.0/robots/$robot_id)"
      if $dry_run; then
        info "dry run: would call: PATCH $url/api/v2.0/robots/$robot_id"
      else
        info "$step"
        api "$step" PATCH "/api/v2.0/robots/$robot_id" '{"secret":""}'
        expect "$step" 200
        secret=$(jq -r '.secret // empty' "$work/body")
        [[ -n $secret ]] || fail "$step" "no secret in Harbor's answer"
      fi
    fi
  else
    local request
    request=$(jq -cn --arg name "$robot" --arg level "$level" --arg namespace "$namespace" '{
      name: $name, description: "Berth: pull-only", duration: -1, level: $level, disable: false,
      permissions: [{kind: "project", namespace: $namespace, access: [
        {resource: "repository", action: "pull"}, {resource: "repository", action: "list"},
        {resource: "artifact", action: "read"}, {resource: "artifact", action: "list"},
        {resource: "tag", action: "list"}]}]}')
    step="create robot $full_name (POST /api/v2.0/robots)"
    if $dry_run; then
      info "dry run: would call: POST $url/api/v2.0/robots $request"
    else
      info "$step"
      api "$step" POST /api/v2.0/robots "$request"
      [[ $code != 409 ]] || fail "$step" "Harbor answered 409: a robot of that name appeared meanwhile; run again"
      expect "$step" 201
      full_name=$(jq -r '.name // empty' "$work/body")
      secret=$(jq -r '.secret // empty' "$work/body")
      [[ -n $full_name && -n $secret ]] || fail "$step" "no name and secret in Harbor's answer"
    fi
  fi

  $dry_run && info "dry run: nothing was changed; a real run prints:"
  info "paste into .updater.env (the quotes keep the \$ of $full_name literal):"
  env_line HARBOR_URL "$url"
  printf "HARBOR_USERNAME='%s'\n" "$full_name"
  if [[ -n $secret ]]; then
    env_line HARBOR_PASSWORD "$secret"
  elif $dry_run; then
    env_line HARBOR_PASSWORD "<created on a real run>"
  else
    info "HARBOR_PASSWORD is not shown again: keep the secret printed when $full_name was created, or re-run with --refresh-secret"
  fi
}

main "$@"
