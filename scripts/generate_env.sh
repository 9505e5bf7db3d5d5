#!/usr/bin/env bash
# Writes Berth's .updater.env from the containers running on this host.
#
#   scripts/generate_env.sh                         interactive: pick a registry from a menu
#   scripts/generate_env.sh --registry ecr --yes    unattended
#
# It reads the running containers (docker ps / docker inspect), keeps those whose image belongs
# to the chosen registry, detects what the image references tell (account, region, project,
# organisation, ...), groups the services by compose project from their compose labels, and
# writes COMPOSE_FILE_PATH_<PROJECT> and <REG>_REPOSITORY_MAP_<PROJECT> lines. The file is
# written atomically with mode 0600. On a re-run every credential, and every other key already
# set in the file, is kept.
set -euo pipefail

readonly PROG=${0##*/}
readonly DEFAULT_ALLOW_TAGS='regexp:^(?=.{1,25}$)(v[0-9]+(\.[0-9]+){0,2}(-[a-z0-9]+)?|B[0-9]+|[0-9]{4}(-[0-9]{2}){5}|[a-z0-9]{7,15}|test-[a-z0-9-]+|prod|dev|qa|uat|stage|staging|latest|develop|(rel|release|stage|prod|dev|qa|uat)-v?[0-9]+(\.[0-9]+){0,2}(-[a-z0-9]+)?)$'
readonly DEFAULT_CHECK_INTERVAL=300
# Public registries that are never a Harbor.
readonly NOT_HARBOR='^(ghcr\.io|quay\.io|public\.ecr\.aws|mcr\.microsoft\.com|registry\.k8s\.io|registry\.gitlab\.com|docker\.elastic\.co|nvcr\.io|lscr\.io|gallery\.ecr\.aws|cgr\.dev)$'

registry=""
dockerhub_type=""
output=".updater.env"
only=""
assume_yes=false

usage() {
  cat <<EOF
usage: $PROG [--registry NAME] [--dockerhub-type TYPE] [--output PATH] [--only PREFIX] [--yes]

Writes a commented .updater.env for Berth from the containers running on this host.

  --registry NAME        ecr | acr | gcp | dockerhub | harbor | swr | docr
                         (also: aws, azure, gcr, hub, do). Without it, a menu asks.
  --dockerhub-type TYPE  public | private | both (Docker Hub only). Without it, a menu asks.
  --output PATH          the file to write (default: ./.updater.env)
  --only PREFIX          keep only images whose reference starts with PREFIX, e.g.
                         europe-west1-docker.pkg.dev/my-proj, when several registries of the
                         same kind run here (default: the one most containers use)
  --yes                  do not ask before updating an existing file (with Docker Hub and
                         no --dockerhub-type: both)
  -h, --help             this help

Re-running keeps every credential and every other key already set in the file.
EOF
}

info() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
die_usage() { printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

# --- arguments -----------------------------------------------------------------------------

normalize_registry() {
  case "${1,,}" in
    ecr | aws) echo ecr ;;
    acr | azure) echo acr ;;
    gcp | gcr | gar | artifact-registry) echo gcp ;;
    dockerhub | docker-hub | hub | docker.io) echo dockerhub ;;
    harbor) echo harbor ;;
    swr | huawei) echo swr ;;
    docr | do | digitalocean) echo docr ;;
    *) return 1 ;;
  esac
}

need_value() { [[ $# -ge 2 && -n $2 ]] || die_usage "$1 needs a value"; }

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --registry) need_value "$@"
        registry=$(normalize_registry "$2") || die_usage "--registry '$2' is not one of ecr, acr, gcp, dockerhub, harbor, swr, docr"
        shift 2 ;;
      --dockerhub-type) need_value "$@"
        case "${2,,}" in public | private | both) dockerhub_type=${2,,} ;;
          *) die_usage "--dockerhub-type '$2' is not one of public, private, both" ;; esac
        shift 2 ;;
      --output) need_value "$@"; output=$2; shift 2 ;;
      --only) need_value "$@"; only=$2; shift 2 ;;
      -y | --yes) assume_yes=true; shift ;;
      *) die_usage "unknown argument '$1'" ;;
    esac
  done
  if [[ -n $dockerhub_type && -n $registry && $registry != dockerhub ]]; then
    die_usage "--dockerhub-type only applies to --registry dockerhub"
  fi
}

# --- menus ---------------------------------------------------------------------------------

ask() { # prompt: reads one answer from stdin; fails on end of input
  local prompt=$1 answer
  printf '%s' "$prompt" >&2
  IFS= read -r answer || die "no answer on standard input to: ${prompt% }"
  printf '%s' "$answer"
}

registry_menu() {
  cat >&2 <<'EOF'
Which registry do the images you want Berth to update come from?
  1) AWS ECR
  2) Azure ACR
  3) GCP (GCR / Artifact Registry)
  4) Docker Hub
  5) Harbor
  6) Huawei SWR
  7) DigitalOcean DOCR
EOF
  local choice
  choice=$(ask "Choose 1-7: ")
  case "$choice" in
    1) registry=ecr ;; 2) registry=acr ;; 3) registry=gcp ;; 4) registry=dockerhub ;;
    5) registry=harbor ;; 6) registry=swr ;; 7) registry=docr ;;
    *) die "registry choice '$choice' is not a number from 1 to 7" ;;
  esac
}

dockerhub_menu() {
  cat >&2 <<'EOF'
Docker Hub images:
  1) public   (no credentials)
  2) private  (needs a username and a password or access token)
  3) both
EOF
  local choice
  choice=$(ask "Choose 1-3: ")
  case "$choice" in
    1) dockerhub_type=public ;; 2) dockerhub_type=private ;; 3) dockerhub_type=both ;;
    *) die "Docker Hub choice '$choice' is not a number from 1 to 3" ;;
  esac
}

# --- image references ----------------------------------------------------------------------

# split_ref REF: sets ref_host (docker.io for Docker Hub) and ref_path (no tag, no digest).
split_ref() {
  local ref=${1%%@*} first last
  last=${ref##*/}
  [[ $last == *:* ]] && ref=${ref%:*}
  first=${ref%%/*}
  if [[ $ref == */* && ($first == *.* || $first == *:* || $first == localhost) ]]; then
    ref_host=$first
    ref_path=${ref#*/}
  else
    ref_host=docker.io
    ref_path=$ref
  fi
  case "$ref_host" in index.docker.io | registry-1.docker.io) ref_host=docker.io ;; esac
  if [[ $ref_host == docker.io && $ref_path != */* ]]; then
    ref_path=library/$ref_path
  fi
}

# kind_of HOST: the registry kind an image host belongs to (or "other").
kind_of() {
  local host=${1,,}
  if [[ $host =~ ^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$ ]]; then echo ecr
  elif [[ $host =~ ^[a-z0-9]+\.azurecr\.io$ ]]; then echo acr
  elif [[ $host =~ ^([a-z]+\.)?gcr\.io$ || $host =~ ^[a-z0-9-]+-docker\.pkg\.dev$ ]]; then echo gcp
  elif [[ $host == docker.io ]]; then echo dockerhub
  elif [[ $host =~ ^swr\.[a-z0-9-]+\.myhuaweicloud\.(com|eu)$ ]]; then echo swr
  elif [[ $host == registry.digitalocean.com ]]; then echo docr
  elif [[ $host =~ $NOT_HARBOR ]]; then echo public
  else echo other
  fi
}

# identify: from ref_host/ref_path, sets ident (what the single-valued keys describe) and
# repo (the map value: the repository as that registry's keys expect it).
identify() {
  local first=${ref_path%%/*} rest=${ref_path#*/}
  case "$registry" in
    ecr | acr) ident=$ref_host; repo=$ref_path ;;
    gcp | swr) ident=$ref_host/$first; repo=$rest ;;
    harbor) ident=$ref_host; repo=$ref_path ;;
    docr) ident=$ref_host/$first; repo=$ref_path ;;
    dockerhub) ident=docker.io; repo=$ref_path ;;
  esac
}

wanted_kind() {
  case "$registry" in harbor) [[ $1 == other ]] ;; *) [[ $1 == "$registry" ]] ;; esac
}

# project_key NAME: upper-case, every non-alphanumeric as _.
project_key() {
  local key=${1^^}
  printf '%s' "${key//[^A-Z0-9]/_}"
}

# --- reading the engine --------------------------------------------------------------------

declare -a c_name=() c_service=() c_project=() c_file=() c_repo=() c_ident=() c_ref=()

read_containers() {
  command -v docker >/dev/null || die "docker is not installed (needed to read the running containers)"
  local ids
  ids=$(docker ps -q --no-trunc) || die "docker ps failed: is the Docker daemon running, and may $(id -un) use it?"
  [[ -n $ids ]] || return 0
  local tab=$'\t' format
  format="{{.Name}}${tab}{{.Config.Image}}${tab}{{index .Config.Labels \"com.docker.compose.project\"}}${tab}"
  format+="{{index .Config.Labels \"com.docker.compose.service\"}}${tab}"
  format+="{{index .Config.Labels \"com.docker.compose.project.config_files\"}}${tab}"
  format+="{{index .Config.Labels \"com.docker.compose.project.working_dir\"}}"
  local lines
  # shellcheck disable=SC2086 # one argument per container id
  lines=$(docker inspect --format "$format" $ids) || die "docker inspect of the running containers failed"
  local name image project service files workdir kind file
  while IFS=$'\t' read -r name image project service files workdir; do
    name=${name#/}
    split_ref "$image"
    kind=$(kind_of "$ref_host")
    wanted_kind "$kind" || continue
    if [[ -z $project || -z $service ]]; then
      info "skipped $name ($image): not started by docker compose (no compose labels)"
      continue
    fi
    file=${files%%,*}
    [[ -z $file || $file == /* || -z $workdir ]] || file=$workdir/$file
    [[ -n $file || -z $workdir ]] || file=$workdir/docker-compose.yml
    identify
    c_name+=("$name") c_service+=("$service") c_project+=("$project") c_file+=("$file")
    c_repo+=("$repo") c_ident+=("$ident") c_ref+=("$ref_host/$ref_path")
  done <<<"$lines"
}

# choose_ident: the registry the file describes, when containers use several of one kind.
chosen_ident=""
choose_ident() {
  local i
  if [[ -n $only ]]; then
    for i in "${!c_ref[@]}"; do
      [[ ${c_ref[$i]} == "$only"* ]] && { chosen_ident=${c_ident[$i]}; return; }
    done
    die "--only '$only': no running container of this registry has an image starting with it"
  fi
  ((${#c_ident[@]})) || return 0
  chosen_ident=$(printf '%s\n' "${c_ident[@]}" | { grep -vx skipped || true; } | sort | uniq -c | sort -k1,1nr -k2 | awk 'NR == 1 {print $2}')
  local others
  others=$(printf '%s\n' "${c_ident[@]}" | sort -u | grep -vxF -e "$chosen_ident" -e skipped | paste -sd, -) || true
  [[ -z $others ]] || info "images of $others are left out; this file is for $chosen_ident (choose another with --only)"
}

# --- grouping ------------------------------------------------------------------------------

declare -A compose_path=() repo_map=() project_names=()
detected_services=0

group_services() {
  local i key entry
  for i in "${!c_name[@]}"; do
    [[ ${c_ident[$i]} == "$chosen_ident" ]] || continue
    if [[ -n $only && ${c_ref[$i]} != "$only"* ]]; then continue; fi
    key=$(project_key "${c_project[$i]}")
    if [[ -n ${project_names[$key]:-} && ${project_names[$key]} != "${c_project[$i]}" ]]; then
      info "compose projects '${project_names[$key]}' and '${c_project[$i]}' share the key $key; their services are listed together"
    fi
    project_names[$key]=${c_project[$i]}
    [[ -n ${compose_path[$key]:-} ]] || compose_path[$key]=${c_file[$i]}
    entry="${c_service[$i]}=${c_repo[$i]}"
    case ",${repo_map[$key]:-}," in
      *",${c_service[$i]}="*) ;; # one entry per service (several replicas)
      *) repo_map[$key]=${repo_map[$key]:+${repo_map[$key]},}$entry; detected_services=$((detected_services + 1)) ;;
    esac
  done
  for key in "${!repo_map[@]}"; do # services in name order, whatever order docker listed them
    repo_map[$key]=$(tr , '\n' <<<"${repo_map[$key]}" | LC_ALL=C sort -t= -k1,1 | paste -sd, -)
  done
}

# --- the existing file ---------------------------------------------------------------------

declare -A old_line=() old_value=()
declare -a old_keys=()

read_existing() {
  [[ -f $output ]] || return 0
  [[ -r $output ]] || die "cannot read the existing $output"
  local line key re='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$'
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ $re ]] || continue
    key=${BASH_REMATCH[2]}
    [[ -n ${old_line[$key]+set} ]] || old_keys+=("$key")
    old_line[$key]=${line#"${line%%[![:space:]]*}"}
    old_value[$key]=$(unquote "${BASH_REMATCH[3]}")
  done <"$output"
}

unquote() {
  local value=${1#"${1%%[![:space:]]*}"}
  case "$value" in
    \'*) value=${value#\'}; value=${value%%\'*} ;;
    \"*) value=${value#\"}; value=${value%\"*} ;;
    *) value=${value%% #*}; value=${value%"${value##*[![:space:]]}"} ;;
  esac
  printf '%s' "$value"
}

is_set() { [[ -n ${old_value[$1]:-} ]]; }

# quote VALUE: the value as the env file should hold it.
quote() {
  local value=$1
  if [[ $value =~ ^[A-Za-z0-9_./:@,=+-]*$ ]]; then
    printf '%s' "$value"
  elif [[ $value != *\'* ]]; then
    printf "'%s'" "$value"
  else
    value=${value//\\/\\\\}; value=${value//\"/\\\"}; value=${value//\$/\\\$}; value=${value//\`/\\\`}
    printf '"%s"' "$value"
  fi
}

# --- writing -------------------------------------------------------------------------------

declare -A written=()
out_fd=3

emit() { printf '%s\n' "$@" >&"$out_fd"; }

# put KEY VALUE: the kept line when the key is already set, else KEY=VALUE.
put() {
  local key=$1 value=$2
  written[$key]=1
  if is_set "$key"; then emit "${old_line[$key]}"; else emit "$key=$(quote "$value")"; fi
}

# put_new KEY VALUE: always the new value (what this run chose or detected as authoritative).
put_new() { written[$1]=1; emit "$1=$(quote "$2")"; }

# secret KEY HINT: the kept line, or a commented placeholder.
secret() {
  local key=$1 hint=$2
  written[$key]=1
  if is_set "$key"; then emit "${old_line[$key]}"; else emit "# $key=$hint"; fi
}

# detected KEY VALUE HINT: kept if set, else the detected value, else a commented placeholder.
detected() {
  local key=$1 value=$2 hint=$3
  if is_set "$key" || [[ -n $value ]]; then put "$key" "$value"; else written[$key]=1; emit "# $key=$hint"; fi
}

# merge_map OLD NEW: NEW's entries, keeping an old entry of the same service and repository
# (with its :filter), then the old entries of services that are not running now.
merge_map() {
  local old=$1 new=$2 entry service out="" seen=","
  local -A old_entry=()
  local -a old_order=() old_entries=() new_entries=()
  IFS=, read -r -a old_entries <<<"$old"
  for entry in "${old_entries[@]}"; do
    [[ $entry == *=* ]] || continue
    service=${entry%%=*}
    old_entry[$service]=$entry
    old_order+=("$service")
  done
  IFS=, read -r -a new_entries <<<"$new"
  for entry in "${new_entries[@]}"; do
    service=${entry%%=*}
    if [[ -n ${old_entry[$service]:-} ]]; then
      local old_repo=${old_entry[$service]#*=}
      [[ ${old_repo%%:*} == "${entry#*=}" ]] && entry=${old_entry[$service]}
    fi
    out+=${out:+,}$entry; seen+="$service,"
  done
  for service in "${old_order[@]}"; do
    [[ $seen == *",$service,"* ]] && continue
    out+=${out:+,}${old_entry[$service]}; seen+="$service,"
  done
  printf '%s' "$out"
}

map_prefix() {
  case "$registry" in
    ecr) echo ECR ;; acr) echo AZURE ;; gcp) echo GCP ;; dockerhub) echo DOCKERHUB ;;
    harbor) echo HARBOR ;; swr) echo SWR ;; docr) echo DO ;;
  esac
}

registry_title() {
  case "$registry" in
    ecr) echo "AWS ECR" ;; acr) echo "Azure ACR" ;; gcp) echo "GCP (GCR / Artifact Registry)" ;;
    dockerhub) [[ $dockerhub_type == both ]] && echo "Docker Hub (public and private images)" || echo "Docker Hub ($dockerhub_type images)" ;; harbor) echo "Harbor" ;;
    swr) echo "Huawei SWR" ;; docr) echo "DigitalOcean DOCR" ;;
  esac
}

write_registry_keys() {
  local host=${chosen_ident%%/*} second=""
  [[ $chosen_ident == */* ]] && second=${chosen_ident#*/}
  case "$registry" in
    ecr)
      local account="" region=""
      if [[ $host =~ ^([0-9]{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\. ]]; then
        account=${BASH_REMATCH[1]} region=${BASH_REMATCH[3]}
      fi
      emit "# Detected from the image references. scripts/ecr-role.sh prints AWS_ROLE_ARN."
      detected AWS_ACCOUNT_ID "$account" "123456789012"
      detected AWS_REGION "$region" "us-east-1"
      secret AWS_ROLE_ARN "arn:aws:iam::${account:-123456789012}:role/berth-ecr-read"
      emit "# Or static keys instead of a role:"
      secret AWS_ACCESS_KEY_ID "<access key id>"
      secret AWS_SECRET_ACCESS_KEY "<secret access key>"
      ;;
    acr)
      emit "# Registry name (NAME of NAME.azurecr.io). scripts/acr-role.sh prints the service principal lines."
      detected AZURE_REGISTRY "${host%%.*}" "myregistry"
      secret AZURE_TENANT_ID "<tenant id>"
      secret AZURE_CLIENT_ID "<service principal app id>"
      secret AZURE_CLIENT_SECRET "<service principal secret>"
      emit "# Or the registry's admin user:"
      secret AZURE_USERNAME "<admin user>"
      secret AZURE_PASSWORD "<admin password>"
      ;;
    gcp)
      emit "# Registry host and project. scripts/gcp-role.sh prints GCP_SERVICE_ACCOUNT_JSON."
      detected GCP_REGISTRY_URL "$host" "gcr.io"
      detected GCP_PROJECT "$second" "my-project"
      secret GCP_SERVICE_ACCOUNT_JSON "'{\"type\":\"service_account\",...}'"
      emit "# Or a short-lived access token:"
      secret GCP_ACCESS_TOKEN "<gcloud auth print-access-token>"
      ;;
    dockerhub)
      emit "# public: anonymous pulls; private or both: Berth logs in."
      put_new DOCKERHUB_IMAGE_TYPE "$dockerhub_type"
      local namespaces
      namespaces=$(chosen_repos | awk -F/ '$1 != "library" {print $1}' | sort -u | paste -sd' ' -) || true
      [[ -z $namespaces ]] || emit "# Docker Hub namespaces of the running images: $namespaces"
      if [[ $dockerhub_type == public ]] && ! is_set DOCKERHUB_USERNAME; then
        emit "# No credentials needed for public images (a login raises the pull rate limit)."
      fi
      secret DOCKERHUB_USERNAME "<user>"
      secret DOCKERHUB_TOKEN "<personal access token>"
      secret DOCKERHUB_PASSWORD "<password, if no token>"
      ;;
    harbor)
      local projects
      projects=$(chosen_repos | awk -F/ '{print $1}' | sort -u | paste -sd' ' -) || true
      emit "# Harbor projects of the running images: ${projects:-none}"
      emit "# scripts/harbor-role.sh --url https://$host --project <project> prints the robot account lines."
      detected HARBOR_URL "${host:+https://$host}" "https://harbor.example.com"
      secret HARBOR_USERNAME "'robot\$berth'"
      secret HARBOR_PASSWORD "<robot secret>"
      ;;
    swr)
      local region=""
      [[ $host =~ ^swr\.([a-z0-9-]+)\. ]] && region=${BASH_REMATCH[1]}
      emit "# Region and organisation. scripts/swr-role.sh checks the AK/SK and prints the lines."
      detected SWR_REGION "$region" "cn-north-4"
      detected SWR_ORGANIZATION "$second" "my-org"
      secret SWR_ACCESS_KEY "<access key>"
      secret SWR_SECRET_KEY "<secret key>"
      emit "# Or a pre-generated long-term login key:"
      secret SWR_USERNAME "<region>@<access key>"
      secret SWR_LOGIN_KEY "<login key>"
      ;;
    docr)
      emit "# Registry name. scripts/docr-role.sh checks the token and prints the lines."
      detected DO_REGISTRY "$second" "myregistry"
      secret DO_TOKEN "<personal access token with registry read>"
      ;;
  esac
}

# chosen_repos: the repositories of the containers this file describes, one a line.
chosen_repos() {
  local i
  for i in "${!c_repo[@]}"; do
    [[ ${c_ident[$i]} == "$chosen_ident" ]] && printf '%s\n' "${c_repo[$i]}"
  done
  return 0
}

map_format_comment() {
  case "$registry" in
    ecr) echo "repository name, e.g. app" ;;
    acr) echo "repository path in the registry, e.g. team/api" ;;
    gcp) echo "path under GCP_PROJECT, e.g. repo/web (Artifact Registry) or x (GCR)" ;;
    dockerhub) echo "namespace/image, e.g. library/nginx or myuser/app" ;;
    harbor) echo "project/repository, e.g. proj/svc" ;;
    swr) echo "repository under SWR_ORGANIZATION, e.g. app" ;;
    docr) echo "registry/repository, e.g. myreg/app" ;;
  esac
}

write_file() {
  local prefix keys key map
  prefix=$(map_prefix)
  emit "# Berth configuration for $(registry_title), written by scripts/generate_env.sh."
  emit "# Re-running the script refreshes the detected values and keeps every key already set."
  emit "# KEY=VALUE per line; values in single quotes are taken literally. Keep this file private."
  emit ""
  emit "# --- Polling and tag filter ---"
  emit "# Seconds (or a duration such as 30m, 6h) between registry checks."
  put CHECK_INTERVAL "$DEFAULT_CHECK_INTERVAL"
  emit "# Only tags matching this are deployed: versions, build ids, timestamps, commits,"
  emit "# environment and release tags, at most 25 characters (the regexp: prefix takes a regex)."
  put ALLOW_TAGS "$DEFAULT_ALLOW_TAGS"
  emit ""
  emit "# --- Dashboard users (set your own; AUTH_USERS=email:password,... also works) ---"
  secret ADMIN_EMAIL "admin@example.com"
  secret ADMIN_PASSWORD "<a long password>"
  emit ""
  emit "# --- Registry: $(registry_title) ---"
  write_registry_keys
  emit ""
  emit "# --- Compose projects found running: $detected_services service(s) ---"
  emit "# COMPOSE_FILE_PATH_<PROJECT> is the compose file; ${prefix}_REPOSITORY_MAP_<PROJECT> lists"
  emit "# service=repository[:tag-filter] pairs, the repository given as $(map_format_comment)."
  emit "# A :tag-filter after a repository overrides ALLOW_TAGS for that service."
  keys=$(printf '%s\n' "${!compose_path[@]}" | sort)
  if [[ -z $keys ]]; then
    emit "# No running compose service uses this registry. Example:"
    emit "# COMPOSE_FILE_PATH_MYAPP=/srv/myapp/docker-compose.yml"
    emit "# ${prefix}_REPOSITORY_MAP_MYAPP=web=$(map_format_comment | sed 's/.*e\.g\. \([^ ]*\).*/\1/')"
  fi
  for key in $keys; do
    emit "# compose project ${project_names[$key]}"
    if [[ -n ${compose_path[$key]} ]]; then
      put_new "COMPOSE_FILE_PATH_$key" "${compose_path[$key]}"
    else
      emit "# no compose file label on its containers: set the path of its compose file"
      secret "COMPOSE_FILE_PATH_$key" "/path/to/docker-compose.yml"
    fi
    map=$(merge_map "${old_value[${prefix}_REPOSITORY_MAP_$key]:-}" "${repo_map[$key]}")
    put_new "${prefix}_REPOSITORY_MAP_$key" "$map"
  done
  local kept=()
  for key in "${old_keys[@]}"; do
    [[ -n ${written[$key]:-} ]] || kept+=("$key")
  done
  if ((${#kept[@]})); then
    emit "" "# --- Kept from the previous file ---"
    for key in "${kept[@]}"; do emit "${old_line[$key]}"; done
  fi
}

tmp_file=""
cleanup() { [[ -z $tmp_file ]] || rm -f "$tmp_file"; }

write_atomically() {
  local dir
  dir=$(dirname "$output")
  [[ -d $dir ]] || die "--output '$output': the directory $dir does not exist"
  [[ ! -e $output || -f $output ]] || die "--output '$output' exists and is not a regular file"
  trap cleanup EXIT
  tmp_file=$(umask 077 && mktemp "$dir/.updater.env.XXXXXX") || die "cannot create a temporary file in $dir"
  chmod 600 "$tmp_file"
  exec 3>"$tmp_file"
  write_file
  exec 3>&-
  mv -f "$tmp_file" "$output" || die "cannot replace $output"
  tmp_file=""
}

confirm_overwrite() {
  [[ -f $output ]] || return 0
  $assume_yes && return 0
  local answer
  answer=$(ask "Update $output (keys already set are kept)? [Y/n] ")
  case "${answer,,}" in "" | y | yes) ;; *) die "left $output unchanged" ;; esac
}

main() {
  parse_args "$@"
  [[ -n $registry ]] || registry_menu
  if [[ $registry == dockerhub && -z $dockerhub_type ]]; then
    if $assume_yes; then dockerhub_type=both; else dockerhub_menu; fi
  fi
  read_containers
  if [[ $registry == dockerhub && $dockerhub_type == private ]]; then
    # Official images (library/) are never private.
    local i
    for i in "${!c_repo[@]}"; do
      if [[ ${c_repo[$i]} == library/* ]]; then
        info "skipped ${c_name[$i]} (${c_ref[$i]}): official images are public"
        c_ident[i]=skipped
      fi
    done
  fi
  choose_ident
  group_services
  read_existing
  confirm_overwrite
  write_atomically
  local count=${#compose_path[@]}
  info "wrote $output for $(registry_title): $detected_services service(s) in $count compose project(s)"
  ((detected_services)) || info "no running compose service uses this registry; the file has examples to fill in"
}

main "$@"
