#!/usr/bin/env bash
# The container image on the real engine: builds the Dockerfile through deploy/berth-compose.yml,
# starts it the way a user would, and checks what a user would notice: /healthz answers from
# inside the container, the dashboard renders, the health check passes, the process is not
# root, and the docker CLI and compose plugin in the image reach the engine through the socket.
#
# No registry can be reached here, so the base images are made locally: a Debian root file
# system from debootstrap, brought in with `docker import` (the builder's also gets this
# machine's Rust toolchain and wasm-bindgen), and handed to the Dockerfile as build arguments.
# They are kept between runs and remade only when their recipe changes or they are older than
# BERTH_BASE_MAX_AGE_DAYS (default 30).
#
#   scripts/tests/image.sh
#
# Environment: BERTH_IMAGE_PROFILE (cargo profile of the image build: image-test, the default
# and the cheapest cold build, or release, or dev), BERTH_DEBIAN_MIRROR (default http://deb.debian.org/debian). Under CI=true a missing
# prerequisite fails; otherwise the test is skipped with a message naming scripts/setup.sh.
set -euo pipefail
# Base images are made inside $(...): their failures must stop the test too.
shopt -s inherit_errexit

readonly PROG=scripts/tests/image.sh
cd "$(dirname "$0")/../.."
readonly REPO=$PWD

readonly BUILDER_SUITE=bookworm RUNTIME_SUITE=trixie
# What the builder stage needs besides Rust; the Dockerfile installs only what is missing.
readonly BUILDER_PACKAGES=ca-certificates,gcc,g++,libc6-dev,make,pkg-config,python3
# ca-certificates: the bundle this machine's extra CAs are compared against (see add_host_cas).
readonly RUNTIME_PACKAGES=ca-certificates
readonly MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly MAX_AGE_DAYS=${BERTH_BASE_MAX_AGE_DAYS:-30}
readonly PROFILE=${BERTH_IMAGE_PROFILE:-image-test}
# Bump when the way a base image is made changes, so kept images are remade.
readonly RECIPE_VERSION=1

say() { printf '\033[1m%s:\033[0m %s\n' "$PROG" "$*"; }
fail() {
  say "FAILED: $*" >&2
  exit 1
}
ci() { [[ ${CI:-} == true ]]; }

# missing WHAT WHY: under CI a failure; otherwise a skip, said out loud.
missing() {
  if ci; then
    fail "$1 is missing ($2); run scripts/setup.sh"
  fi
  say "SKIPPED: $2: $1 is missing; run scripts/setup.sh to install it"
  exit 0
}

sudo_cmd=()
check_prerequisites() {
  local tool
  for tool in docker debootstrap curl python3 rustc rustup wasm-bindgen tar; do
    command -v "$tool" >/dev/null || missing "$tool" "building and running the image"
  done
  docker info >/dev/null 2>&1 || missing "a running Docker engine" "building and running the image"
  docker compose version >/dev/null 2>&1 || missing "the docker compose plugin" "building the image with BuildKit"
  if [[ $(id -u) != 0 ]]; then
    sudo -n true 2>/dev/null || missing "root (or passwordless sudo) for debootstrap" "making the base images"
    sudo_cmd=(sudo -n)
  fi
  [[ -S /var/run/docker.sock ]] || missing "/var/run/docker.sock" "mounting the engine into Berth's container"
}

# --- base images ---------------------------------------------------------------------------

workdir=""
project=""
cleanup() {
  if [[ -n $project ]]; then
    compose down --volumes --remove-orphans >/dev/null 2>&1 || true
    # Its layers stay in the build cache; the tag would only pile up.
    docker image rm "${BERTH_IMAGE:-}" >/dev/null 2>&1 || true
  fi
  if [[ -n $workdir ]]; then
    "${sudo_cmd[@]}" rm -rf "$workdir"
  fi
}
trap cleanup EXIT

# image_is_current TAG: the tag exists and is younger than MAX_AGE_DAYS.
image_is_current() {
  local created age_days
  created=$(docker image inspect --format '{{.Created}}' "$1" 2>/dev/null) || return 1
  age_days=$((($(date +%s) - $(date -d "$created" +%s)) / 86400))
  ((age_days < MAX_AGE_DAYS))
}

# debootstrap_rootfs SUITE PACKAGES DIR: a minimal Debian root file system in DIR.
debootstrap_rootfs() {
  local suite=$1 packages=$2 dir=$3 log
  log="$workdir/debootstrap-$suite.log"
  say "debootstrap $suite (minbase${packages:+, with $packages}) from $MIRROR"
  if ! "${sudo_cmd[@]}" debootstrap --variant=minbase ${packages:+"--include=$packages"} \
    "$suite" "$dir" "$MIRROR" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    fail "debootstrap $suite from $MIRROR (log above)"
  fi
  # As in Debian's own images: the updates and security suites too, and no package caches.
  "${sudo_cmd[@]}" tee "$dir/etc/apt/sources.list" >/dev/null <<EOF
deb $MIRROR $suite main
deb $MIRROR $suite-updates main
deb ${MIRROR%/debian}/debian-security $suite-security main
EOF
  "${sudo_cmd[@]}" find "$dir/var/cache/apt/archives" "$dir/var/lib/apt/lists" -type f -delete
  add_host_cas "$dir"
}

# The CA bundle this machine trusts: on a network that inspects TLS, its extra CA is what lets
# cargo reach crates.io, in the build as on the host.
host_ca_bundle() {
  printf '%s' "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
}

# add_host_cas DIR: the certificates this machine trusts that Debian's bundle lacks, added the
# Debian way (/usr/local/share/ca-certificates), so every later update-ca-certificates, such
# as the one when the Dockerfile installs ca-certificates, keeps them.
add_host_cas() {
  local dir=$1 added
  [[ -r $(host_ca_bundle) ]] || return 0
  added=$("${sudo_cmd[@]}" python3 - "$(host_ca_bundle)" "$dir" <<'PY'
import os, re, sys
host_bundle, root = sys.argv[1], sys.argv[2]
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
image_bundle = os.path.join(root, "etc/ssl/certs/ca-certificates.crt")
known = set(pem.findall(open(image_bundle).read())) if os.path.exists(image_bundle) else set()
if not known:
    for folder, _, files in os.walk(os.path.join(root, "usr/share/ca-certificates")):
        for name in files:
            known.update(pem.findall(open(os.path.join(folder, name)).read()))
target = os.path.join(root, "usr/local/share/ca-certificates")
os.makedirs(target, exist_ok=True)
extra = [cert for cert in pem.findall(open(host_bundle).read()) if cert not in known]
for number, cert in enumerate(extra):
    with open(os.path.join(target, f"host-ca-{number}.crt"), "w") as out:
        out.write(cert + "\n")
print(len(extra))
PY
  )
  if ((added > 0)) && [[ -x $dir/usr/sbin/update-ca-certificates ]]; then
    "${sudo_cmd[@]}" chroot "$dir" update-ca-certificates >/dev/null 2>&1 \
      || fail "update-ca-certificates in the $dir root file system"
  fi
  say "trusted in the base image too: $added CA certificate(s) of this machine beyond Debian's"
}

# import_rootfs DIR TAG RECIPE [--change ...]: DIR as image TAG, its recipe kept as a label.
import_rootfs() {
  local dir=$1 tag=$2 recipe=$3
  shift 3
  "${sudo_cmd[@]}" tar -C "$dir" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' \
    --exclude='./sys/*' -cf - . \
    | docker import --change "LABEL berth.test.base-recipe=\"$recipe\"" "$@" - "$tag" >/dev/null
  # Older versions of this base are no longer used by anything the test builds.
  docker image ls --format '{{.Repository}}:{{.Tag}}' "${tag%:*}" | grep -vxF "$tag" \
    | xargs -r docker image rm >/dev/null 2>&1 || true
}

# recipe_tag REPOSITORY RECIPE: REPOSITORY:<first 12 hex digits of the recipe's hash>.
recipe_tag() {
  printf '%s:%s' "$1" "$(printf '%s' "$2" | sha256sum | cut -c1-12)"
}

# runtime_base: a minimal Debian, as debian:trixie-slim would be (with the CA bundle).
runtime_base() {
  local recipe tag dir
  recipe="v$RECIPE_VERSION $RUNTIME_SUITE minbase $RUNTIME_PACKAGES $MIRROR $(sha256sum <"$(host_ca_bundle)" | cut -c1-12)"
  tag=$(recipe_tag berth-test-base/runtime "$recipe")
  if image_is_current "$tag"; then
    say "runtime base $tag: kept from an earlier run" >&2
  else
    dir="$workdir/runtime-rootfs"
    debootstrap_rootfs "$RUNTIME_SUITE" "$RUNTIME_PACKAGES" "$dir" >&2
    import_rootfs "$dir" "$tag" "$recipe" --change 'CMD ["bash"]'
    say "runtime base $tag: made" >&2
  fi
  printf '%s' "$tag"
}

# builder_base: minimal Debian with a C toolchain, this machine's Rust toolchain (with the
# wasm32 target) and wasm-bindgen, laid out as in the rust:1 images (RUSTUP_HOME=/usr/local/rustup,
# CARGO_HOME=/usr/local/cargo), so the Dockerfile cannot tell it from rust:1-bookworm.
builder_base() {
  local sysroot toolchain bindgen recipe tag dir proxy
  sysroot=$(rustc --print sysroot)
  toolchain=$(basename "$sysroot")
  bindgen=$(command -v wasm-bindgen)
  recipe="v$RECIPE_VERSION $BUILDER_SUITE minbase $BUILDER_PACKAGES $MIRROR $(sha256sum <"$(host_ca_bundle)" | cut -c1-12) $(rustc -vV | tr '\n' ' ') $toolchain $(wasm-bindgen --version)"
  tag=$(recipe_tag berth-test-base/builder "$recipe")
  if image_is_current "$tag"; then
    say "builder base $tag: kept from an earlier run" >&2
    printf '%s' "$tag"
    return
  fi
  dir="$workdir/builder-rootfs"
  debootstrap_rootfs "$BUILDER_SUITE" "$BUILDER_PACKAGES" "$dir" >&2
  say "adding the Rust toolchain $toolchain (without its docs) and $(wasm-bindgen --version)" >&2
  "${sudo_cmd[@]}" mkdir -p "$dir/usr/local/rustup/toolchains" "$dir/usr/local/cargo/bin"
  tar -C "$(dirname "$sysroot")" --exclude="$toolchain/share/doc" -cf - "$toolchain" \
    | "${sudo_cmd[@]}" tar -C "$dir/usr/local/rustup/toolchains" -xf -
  "${sudo_cmd[@]}" cp "$(readlink -f "$(command -v rustup)")" "$dir/usr/local/cargo/bin/rustup"
  for proxy in cargo rustc rustdoc cargo-clippy clippy-driver cargo-fmt rustfmt; do
    "${sudo_cmd[@]}" ln -sf rustup "$dir/usr/local/cargo/bin/$proxy"
  done
  "${sudo_cmd[@]}" cp "$bindgen" "$dir/usr/local/cargo/bin/wasm-bindgen"
  "${sudo_cmd[@]}" tee "$dir/usr/local/rustup/settings.toml" >/dev/null <<EOF
version = "12"
default_toolchain = "$toolchain"
profile = "minimal"
auto_self_update = "disable"
EOF
  import_rootfs "$dir" "$tag" "$recipe" \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]'
  say "builder base $tag: made" >&2
  printf '%s' "$tag"
}

# --- the image, started with deploy/berth-compose.yml ---------------------------------------

compose() {
  COMPOSE_BAKE=false docker compose --project-name "$project" -f "$REPO/deploy/berth-compose.yml" "$@"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A user's setup: an env file, and a compose project in the stacks folder.
write_project() {
  mkdir -p "$workdir/project" "$workdir/stacks/demo"
  cat >"$workdir/stacks/demo/compose.yml" <<'EOF'
services:
  web:
    image: registry.example.invalid/demo/web:1.0.0
EOF
  cat >"$workdir/project/.updater.env" <<EOF
COMPOSE_FILE_PATH_DEMO=$workdir/stacks/demo/compose.yml
CHECK_INTERVAL=1h
UPDATE_MODE=notify
DISCOVER_FROM_LABELS=false
ADMIN_EMAIL=$ADMIN_EMAIL
ADMIN_PASSWORD=$ADMIN_PASSWORD
EOF
  # The container's user is not this one: it reads the env file and the stacks as "others".
  chmod -R a+rX "$workdir/project" "$workdir/stacks"
  chmod a+x "$workdir"
}

# wait_for_health CONTAINER: the engine's own health check verdict; the first check runs one
# interval (30 s) after the start, so this waits up to 240 s.
wait_for_health() {
  local container=$1 status="" waited=0
  while ((waited < 240)); do
    status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$container")
    [[ $status == healthy || $status == unhealthy ]] && break
    [[ $(docker inspect --format '{{.State.Running}}' "$container") == true ]] || break
    sleep 2
    waited=$((waited + 2))
  done
  say "health status after ${waited} s: ${status:-none}"
  if [[ $status != healthy ]]; then
    compose logs --tail 40 berth >&2 || true
    docker inspect --format '{{json .State.Health}}' "$container" >&2 || true
    fail "the container's health check did not pass (status '${status:-none}')"
  fi
}

# check_dashboard PORT: the dashboard renders through the published port: the login page
# when login is required (then logged in with the env file's admin), else the overview.
check_dashboard() {
  local base="http://127.0.0.1:$1" jar="$workdir/cookies" page="$workdir/page.html" landed
  landed=$(curl -sS -L -c "$jar" -b "$jar" -o "$page" -w '%{http_code} %{url_effective}' "$base/")
  if [[ $landed == "200 $base/login"* ]]; then
    grep -q 'type="password"' "$page" \
      || fail "GET / led to /login, which has no password field: $(head -c 300 "$page")"
    say "dashboard: / sends a visitor without a session to the login page, which renders"
    landed=$(curl -sS -L -c "$jar" -b "$jar" -o "$page" -w '%{http_code} %{url_effective}' \
      --data-urlencode "email=$ADMIN_EMAIL" --data-urlencode "password=$ADMIN_PASSWORD" \
      --data-urlencode "next=/" "$base/login")
  fi
  [[ $landed == "200 $base/" ]] || fail "the overview did not render: GET / ended at '$landed'"
  grep -q '<title>Berth</title>' "$page" || fail "the overview has no Berth title: $(head -c 300 "$page")"
  grep -q '/pkg/berth.js' "$page" || fail "the overview does not load /pkg/berth.js (no hydration)"
  say "dashboard: the overview renders"
  local asset type
  for asset in berth.js berth.wasm berth.css; do
    type=$(curl -fsS -o /dev/null -w '%{content_type}' "$base/pkg/$asset") \
      || fail "the site folder is not served: GET /pkg/$asset failed"
    say "site: /pkg/$asset served ($type)"
  done
  [[ $(curl -fsS -o /dev/null -w '%{content_type}' "$base/pkg/berth.wasm") == application/wasm ]] \
    || fail "/pkg/berth.wasm is not served as application/wasm"
}

# check_doctor CONTAINER: `berth doctor` inside the container reaches the engine through the
# socket, runs the compose plugin, and reads the stacks folder at the host's path.
check_doctor() {
  local report subject status
  report=$(docker exec "$1" berth doctor --json) || true
  for subject in "docker engine" "compose CLI" "compose file $workdir/stacks/demo/compose.yml"; do
    status=$(SUBJECT=$subject python3 -c '
import json, os, sys
report = json.load(sys.stdin)
print(next((c["status"] + ": " + c["detail"] for c in report["checks"] if c["subject"] == os.environ["SUBJECT"]), "absent"))
' <<<"$report") || fail "berth doctor --json gave no JSON report: $report"
    [[ $status == ok:* ]] || fail "berth doctor in the container: $subject: $status"
    say "doctor in the container: $subject: $status"
  done
}

# check_helper CONTAINER: the cloud credential helper sits beside berth, where berth looks for
# it, and runs; asked for a GCP login without a key, it names the missing key.
check_helper() {
  local said
  said=$(docker exec "$1" /opt/berth/berth-credential-helper --version) \
    || fail "no runnable /opt/berth/berth-credential-helper in the image"
  say "credential helper in the image: $said"
  said=$(docker exec "$1" sh -c 'echo gcr.io | /opt/berth/berth-credential-helper gcp get 2>&1') \
    && fail "the credential helper logged in to GCP with no key: $said"
  [[ $said == *"missing configuration key GCP_SERVICE_ACCOUNT_JSON"* ]] \
    || fail "the credential helper without a key said: $said"
}

# check_user CONTAINER: neither `docker exec` nor the running `berth serve` is root.
check_user() {
  local uid processes process_uid
  uid=$(docker exec "$1" id -u) || fail "docker exec id -u in the container"
  ((uid != 0)) || fail "docker exec runs as root in the image"
  processes=$(docker top "$1" -o pid,uid,args) || fail "docker top on the container"
  process_uid=$(awk '$3 == "berth" && $4 == "serve" {print $2; exit}' <<<"$processes")
  [[ -n $process_uid && $process_uid != 0 && $process_uid != root ]] \
    || fail "berth serve runs as '${process_uid:-?}' (docker top: $(tr '\n' ';' <<<"$processes"))"
  say "non-root: docker exec id -u = $uid; berth serve runs as uid $process_uid"
}

main() {
  check_prerequisites
  workdir=$(mktemp -d /var/tmp/berth-image-test.XXXXXX)
  local started builder runtime seconds
  started=$(date +%s)
  runtime=$(runtime_base)
  builder=$(builder_base)
  say "base images ready in $(($(date +%s) - started)) s"

  project="berth-image-test-$$"
  ADMIN_EMAIL=admin@image-test.invalid
  ADMIN_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  write_project
  BERTH_PORT=$(free_port)
  DOCKER_GID=$(stat -c %g /var/run/docker.sock)
  export BERTH_IMAGE="berth-test/berth:$project" BERTH_BUILDER_IMAGE=$builder \
    BERTH_RUNTIME_IMAGE=$runtime BERTH_CARGO_PROFILE=$PROFILE BERTH_PORT BERTH_BIND=127.0.0.1 \
    BERTH_ENV_FILE="$workdir/project/.updater.env" BERTH_STACKS_DIR="$workdir/stacks" DOCKER_GID \
    BERTH_REVISION BERTH_CREATED
  BERTH_REVISION=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
  BERTH_CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

  say "building the image (cargo profile $PROFILE)"
  docker image rm "$BERTH_IMAGE" >/dev/null 2>&1 || true
  started=$(date +%s)
  # compose can exit 0 on a failed build, so the image itself is what counts.
  if ! compose --progress plain build >"$workdir/build.log" 2>&1 \
    || ! docker image inspect "$BERTH_IMAGE" >/dev/null 2>&1; then
    tail -n 60 "$workdir/build.log" >&2
    fail "building the Dockerfile (log above)"
  fi
  seconds=$(($(date +%s) - started))
  say "image built in $seconds s (cargo profile $PROFILE): $(($(docker image inspect --format '{{.Size}}' "$BERTH_IMAGE") / 1000000)) MB"

  if ! compose up -d --no-build >"$workdir/up.log" 2>&1; then
    cat "$workdir/up.log" >&2
    fail "docker compose up with deploy/berth-compose.yml"
  fi
  local container
  container=$(compose ps -q berth)
  [[ -n $container ]] || fail "compose up started no berth container"
  wait_for_health "$container"

  local health
  health=$(docker exec "$container" curl -fsS http://127.0.0.1:8080/healthz) \
    || fail "/healthz did not answer inside the container"
  [[ $health == *'"status":"ok"'* ]] || fail "/healthz inside the container answered: $health"
  say "/healthz inside the container: $health"

  local published
  published=$(docker port "$container" 8080/tcp)
  [[ $published == "127.0.0.1:$BERTH_PORT" ]] \
    || fail "port 8080 is published on '$published', not on 127.0.0.1:$BERTH_PORT only"
  check_dashboard "$BERTH_PORT"
  check_user "$container"

  docker exec "$container" test -s /data/berth.db || fail "no database at /data/berth.db"
  local compose_version
  compose_version=$(docker exec "$container" docker compose version --short) \
    || fail "docker compose does not run in the container"
  say "in the container: docker compose $compose_version, engine $(docker exec "$container" docker version --format '{{.Server.Version}}')"
  check_doctor "$container"
  check_helper "$container"

  if ! compose down --volumes >"$workdir/down.log" 2>&1; then
    cat "$workdir/down.log" >&2
    fail "docker compose down"
  fi
  docker image rm "$BERTH_IMAGE" >/dev/null
  project=""
  say "the image builds, runs as non-root, turns healthy and serves the dashboard"
  # The plain closing line a CI log reader counts (this is the last step of scripts/test.sh).
  echo "image: 1 passed, 0 failed"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
