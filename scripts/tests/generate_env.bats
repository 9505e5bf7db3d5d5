#!/usr/bin/env bats
# generate_env.sh against the real Docker engine: containers of a locally built busybox
# image, re-tagged with registry-shaped names and labelled as compose services.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

BASE_IMAGE=berth-test/busybox:1
IMAGES=(
  123456789012.dkr.ecr.us-east-2.amazonaws.com/app:1.0.0
  123456789012.dkr.ecr.us-east-2.amazonaws.com/worker:2
  myreg.azurecr.io/team/api:2.1
  europe-west1-docker.pkg.dev/my-proj/repo/web:3
  gcr.io/my-proj/x:1
  harbor.example.com/proj/svc:1
  swr.ap-southeast-1.myhuaweicloud.com/org/app:1
  registry.digitalocean.com/myreg/app:1
  nginx:1.25
  myuser/private:1
)

# start NAME PROJECT SERVICE IMAGE [CONFIG_FILES [WORKING_DIR]]: a labelled container.
start() {
  local labels=(--label "berth.test.run=$RUN" --label "com.docker.compose.project=$2" --label "com.docker.compose.service=$3")
  [[ -z ${5:-} ]] || labels+=(--label "com.docker.compose.project.config_files=$5")
  [[ -z ${6:-} ]] || labels+=(--label "com.docker.compose.project.working_dir=$6")
  docker run -d --name "$RUN-$1" "${labels[@]}" "$4" >/dev/null
}

setup_file() {
  docker info >/dev/null 2>&1 || { echo "the Docker engine is not reachable (needed by generate_env.bats)" >&2; return 1; }
  export RUN=bt$$
  if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    local root=$BATS_FILE_TMPDIR/rootfs
    mkdir -p "$root/bin"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sleep"
    ln -s busybox "$root/bin/sh"
    tar -C "$root" -c . | docker import -c 'CMD ["sleep","3600"]' - "$BASE_IMAGE" >/dev/null
  fi
  local image
  for image in "${IMAGES[@]}"; do docker tag "$BASE_IMAGE" "$image"; done
  start ecr-api "$RUN-shop" api "${IMAGES[0]}" /srv/shop/compose.yml,/srv/shop/override.yml /srv/shop
  start ecr-api-2 "$RUN-shop" api "${IMAGES[0]}" /srv/shop/compose.yml,/srv/shop/override.yml /srv/shop
  start ecr-worker "$RUN-shop" worker "${IMAGES[1]}" /srv/shop/compose.yml /srv/shop
  docker run -d --name "$RUN-plain" --label "berth.test.run=$RUN" "${IMAGES[0]}" >/dev/null
  start acr "$RUN-team" api "${IMAGES[2]}" /srv/team/docker-compose.yml /srv/team
  start gar "$RUN-gcp" web "${IMAGES[3]}" /srv/gcp/compose.yaml /srv/gcp
  start gcr "$RUN-gcp" x "${IMAGES[4]}" /srv/gcp/compose.yaml /srv/gcp
  start harbor-1 "$RUN-harb" svc "${IMAGES[5]}" /srv/harb/compose.yml /srv/harb
  start harbor-2 "$RUN-harb" svc2 "${IMAGES[5]}" /srv/harb/compose.yml /srv/harb
  start swr "$RUN-swr" app "${IMAGES[6]}" /srv/swr/compose.yml /srv/swr
  start docr "$RUN-do" app "${IMAGES[7]}" compose.yml "/srv/do app"
  start hub-nginx "$RUN-hub" proxy "${IMAGES[8]}" /srv/hub/compose.yml /srv/hub
  start hub-private "$RUN-hub" priv "${IMAGES[9]}" /srv/hub/compose.yml /srv/hub
}

teardown_file() {
  local ids
  ids=$(docker ps -aq --filter "label=berth.test.run=${RUN:-none}") || true
  # shellcheck disable=SC2086 # one argument per id
  [[ -z $ids ]] || docker rm -f $ids >/dev/null || true
  local image
  for image in "${IMAGES[@]}"; do docker rmi "$image" >/dev/null 2>&1 || true; done
}

setup() {
  KEY=${RUN^^}
  OUT=$BATS_TEST_TMPDIR/.updater.env
}

# value KEY: KEY's value as a shell reads the file (single quotes literal, as Berth reads them).
# shellcheck source=/dev/null
value() { (set -a; source "$OUT"; printf '%s' "${!1-<unset>}"); }

generate() { run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --output "$OUT" --yes "$@"; }

@test "ECR: account and region detected, services grouped by compose project, mode 0600" {
  generate --registry ecr
  [ "$status" -eq 0 ]
  [ "$(stat -c %a "$OUT")" = 600 ]
  grep -qx "AWS_ACCOUNT_ID=123456789012" "$OUT"
  grep -qx "AWS_REGION=us-east-2" "$OUT"
  grep -qx "COMPOSE_FILE_PATH_${KEY}_SHOP=/srv/shop/compose.yml" "$OUT"
  # two replicas of api give one entry; services in name order
  grep -qx "ECR_REPOSITORY_MAP_${KEY}_SHOP=api=app,worker=worker" "$OUT"
  # other registries' projects are not in the file
  lacks "$OUT" -- "_${KEY}_TEAM\|_${KEY}_HUB\|_${KEY}_GCP"
  # the container without compose labels is named as skipped
  [[ $stderr == *"skipped $RUN-plain"*"not started by docker compose"* ]]
  # credentials are commented placeholders, to fill in
  grep -qx "# AWS_ROLE_ARN=arn:aws:iam::123456789012:role/berth-ecr-read" "$OUT"
}

@test "ALLOW_TAGS defaults to the original look-ahead form, read back literally" {
  generate --registry ecr
  [ "$status" -eq 0 ]
  [ "$(value ALLOW_TAGS)" = 'regexp:^(?=.{1,25}$)(v[0-9]+(\.[0-9]+){0,2}(-[a-z0-9]+)?|B[0-9]+|[0-9]{4}(-[0-9]{2}){5}|[a-z0-9]{7,15}|test-[a-z0-9-]+|prod|dev|qa|uat|stage|staging|latest|develop|(rel|release|stage|prod|dev|qa|uat)-v?[0-9]+(\.[0-9]+){0,2}(-[a-z0-9]+)?)$' ]
  [ "$(value CHECK_INTERVAL)" = 300 ]
}

@test "Azure ACR: the registry name and the repository path" {
  generate --registry acr
  [ "$status" -eq 0 ]
  [ "$(value AZURE_REGISTRY)" = myreg ]
  [ "$(value "AZURE_REPOSITORY_MAP_${KEY}_TEAM")" = "api=team/api" ]
  [ "$(value "COMPOSE_FILE_PATH_${KEY}_TEAM")" = /srv/team/docker-compose.yml ]
  lacks "$OUT" -- "_${KEY}_SHOP"
}

@test "GCP: Artifact Registry host and project; the GCR images are named as left out" {
  generate --registry gcp
  [ "$status" -eq 0 ]
  [ "$(value GCP_REGISTRY_URL)" = europe-west1-docker.pkg.dev ]
  [ "$(value GCP_PROJECT)" = my-proj ]
  [ "$(value "GCP_REPOSITORY_MAP_${KEY}_GCP")" = "web=repo/web" ]
  [[ $stderr == *"images of gcr.io/my-proj are left out"*--only* ]]
}

@test "GCP: --only picks GCR" {
  generate --registry gcr --only gcr.io/my-proj
  [ "$status" -eq 0 ]
  [ "$(value GCP_REGISTRY_URL)" = gcr.io ]
  [ "$(value GCP_PROJECT)" = my-proj ]
  [ "$(value "GCP_REPOSITORY_MAP_${KEY}_GCP")" = "x=x" ]
}

@test "Harbor: the host as HARBOR_URL, project/repository per service, the projects listed" {
  generate --registry harbor --only harbor.example.com
  [ "$status" -eq 0 ]
  [ "$(value HARBOR_URL)" = https://harbor.example.com ]
  [ "$(value "HARBOR_REPOSITORY_MAP_${KEY}_HARB")" = "svc=proj/svc,svc2=proj/svc" ]
  grep -qx "# Harbor projects of the running images: proj" "$OUT"
  # known public registries and the other clouds are not taken for a Harbor
  lacks "$OUT" -- "_${KEY}_SHOP\|_${KEY}_SWR\|_${KEY}_DO\b"
}

@test "Huawei SWR: region and organisation" {
  generate --registry swr
  [ "$status" -eq 0 ]
  [ "$(value SWR_REGION)" = ap-southeast-1 ]
  [ "$(value SWR_ORGANIZATION)" = org ]
  [ "$(value "SWR_REPOSITORY_MAP_${KEY}_SWR")" = "app=app" ]
}

@test "DigitalOcean: the registry; a relative compose file joins the working dir, quoted" {
  generate --registry docr
  [ "$status" -eq 0 ]
  [ "$(value DO_REGISTRY)" = myreg ]
  [ "$(value "DO_REPOSITORY_MAP_${KEY}_DO")" = "app=myreg/app" ]
  grep -qx "COMPOSE_FILE_PATH_${KEY}_DO='/srv/do app/compose.yml'" "$OUT"
}

@test "Docker Hub both: official and user images, namespaces listed" {
  generate --registry dockerhub --dockerhub-type both
  [ "$status" -eq 0 ]
  [ "$(value DOCKERHUB_IMAGE_TYPE)" = both ]
  [ "$(value "DOCKERHUB_REPOSITORY_MAP_${KEY}_HUB")" = "priv=myuser/private,proxy=library/nginx" ]
  grep -q "^# Docker Hub namespaces of the running images: .*myuser" "$OUT"
  grep -qx "# DOCKERHUB_TOKEN=<personal access token>" "$OUT"
}

@test "Docker Hub private leaves out official images; public keeps them" {
  generate --registry dockerhub --dockerhub-type private
  [ "$status" -eq 0 ]
  [ "$(value "DOCKERHUB_REPOSITORY_MAP_${KEY}_HUB")" = "priv=myuser/private" ]
  [[ $stderr == *"skipped $RUN-hub-nginx"*"official images are public"* ]]
  rm -f "$OUT"
  generate --registry dockerhub --dockerhub-type public
  [ "$(value DOCKERHUB_IMAGE_TYPE)" = public ]
  [ "$(value "DOCKERHUB_REPOSITORY_MAP_${KEY}_HUB")" = "priv=myuser/private,proxy=library/nginx" ]
}

@test "the menus: 4 then 2 is Docker Hub private" {
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --output "$OUT" <<<$'4\n2'
  [ "$status" -eq 0 ]
  [[ $stderr == *"1) AWS ECR"*"7) DigitalOcean DOCR"*"2) private"* ]]
  [ "$(value DOCKERHUB_IMAGE_TYPE)" = private ]
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --output "$OUT" <<<'9'
  [ "$status" -eq 1 ]
  [[ $stderr == *"registry choice '9' is not a number from 1 to 7"* ]]
}

@test "an existing file is updated only after a yes" {
  generate --registry ecr
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --output "$OUT" --registry acr <<<'n'
  [ "$status" -eq 1 ]
  [[ $stderr == *"left $OUT unchanged"* ]]
  grep -q '^ECR_REPOSITORY_MAP' "$OUT"
  lacks "$OUT" -- '^AZURE_REPOSITORY_MAP'
}

@test "a re-run keeps credentials, the user's own keys and values, and per-service filters" {
  generate --registry ecr
  [ "$status" -eq 0 ]
  sed -i "s|^ECR_REPOSITORY_MAP_${KEY}_SHOP=.*|ECR_REPOSITORY_MAP_${KEY}_SHOP=api=app:v*,old=gone|" "$OUT"
  sed -i "s|^CHECK_INTERVAL=.*|CHECK_INTERVAL=6h|" "$OUT"
  cat >>"$OUT" <<'ENV'
AWS_ROLE_ARN=arn:aws:iam::123456789012:role/mine
AWS_REGION=eu-west-1
export ADMIN_PASSWORD='s3cret $till'
MY_OWN_KEY="kept \"as is\""
ENV
  generate --registry ecr
  [ "$status" -eq 0 ]
  [ "$(value AWS_ROLE_ARN)" = arn:aws:iam::123456789012:role/mine ]
  [ "$(value AWS_REGION)" = eu-west-1 ]
  [ "$(value ADMIN_PASSWORD)" = 's3cret $till' ]
  [ "$(value MY_OWN_KEY)" = 'kept "as is"' ]
  [ "$(value CHECK_INTERVAL)" = 6h ]
  [ "$(value "ECR_REPOSITORY_MAP_${KEY}_SHOP")" = "api=app:v*,worker=worker,old=gone" ]
  # each key once, and no placeholder left for a key that is set
  [ "$(grep -c '^AWS_ROLE_ARN=' "$OUT")" -eq 1 ]
  lacks "$OUT" -- '^# AWS_ROLE_ARN='
  [ "$(grep -c 'ADMIN_PASSWORD=' "$OUT")" -eq 1 ]
  # and a third run changes nothing
  cp "$OUT" "$OUT.second"
  generate --registry ecr
  diff "$OUT.second" "$OUT"
}

@test "switching registries keeps the other registry's keys" {
  generate --registry ecr
  generate --registry acr
  [ "$status" -eq 0 ]
  [ "$(value "ECR_REPOSITORY_MAP_${KEY}_SHOP")" = "api=app,worker=worker" ]
  [ "$(value "AZURE_REPOSITORY_MAP_${KEY}_TEAM")" = "api=team/api" ]
}

@test "written atomically: a 0644 file becomes 0600 and no temporary file is left" {
  umask 022
  printf 'DOCKERHUB_TOKEN=tok\n' >"$OUT"
  chmod 644 "$OUT"
  generate --registry dockerhub --dockerhub-type both
  [ "$status" -eq 0 ]
  [ "$(stat -c %a "$OUT")" = 600 ]
  [ "$(value DOCKERHUB_TOKEN)" = tok ]
  [ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '.updater.env.*')" ]
}

@test "bad inputs are named" {
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --registry quay
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry 'quay' is not one of ecr, acr, gcp, dockerhub, harbor, swr, docr"* ]]
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --registry ecr --dockerhub-type public
  [ "$status" -eq 2 ]
  [[ $stderr == *"--dockerhub-type only applies to --registry dockerhub"* ]]
  run --separate-stderr "$SCRIPTS_DIR/generate_env.sh" --registry ecr --output /nonexistent/dir/.updater.env --yes
  [ "$status" -eq 1 ]
  [[ $stderr == *"the directory /nonexistent/dir does not exist"* ]]
  generate --registry ecr --only 999999999999.dkr.ecr
  [ "$status" -eq 1 ]
  [[ $stderr == *"--only '999999999999.dkr.ecr': no running container"* ]]
  run "$SCRIPTS_DIR/generate_env.sh" --help
  [ "$status" -eq 0 ]
  [[ $output == usage:* ]]
}

@test "an unreachable Docker engine is named" {
  DOCKER_HOST=unix:///nonexistent/docker.sock generate --registry ecr
  [ "$status" -eq 1 ]
  [[ $stderr == *"docker ps failed: is the Docker daemon running"* ]]
  [ ! -e "$OUT" ]
}

@test "Berth reads the file it writes (when BERTH_BIN names a berth with 'doctor')" {
  [[ -n ${BERTH_BIN:-} ]] || skip "set BERTH_BIN to a built berth binary that has the doctor command to run this"
  generate --registry ecr
  run --separate-stderr "$BERTH_BIN" doctor --env-file "$OUT"
  [[ $output == *"${KEY}_SHOP"* ]]
  [[ $output == *api* && $output == *worker* ]]
}
