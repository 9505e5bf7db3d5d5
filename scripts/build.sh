#!/usr/bin/env bash
# Builds the dashboard's WASM + JS + CSS into <target>/site/pkg, the `berth` binary, and
# beside it `berth-credential-helper` (the cloud logins: ECR, ACR with Entra, GCP keys).
#
#   scripts/build.sh                     debug build (what the tests use)
#   scripts/build.sh --release           release build: size-optimised WASM (profile wasm-release)
#   scripts/build.sh --profile image-test  no optimisation, no debug info: the cheapest cold
#                                        build, for the container-image test
#   scripts/build.sh ... --daemon-only   no credential helper (the benchmark measures the daemon)
#
# This does what `cargo leptos build` does, with the tools setup.sh installs: cargo for both
# targets, then wasm-bindgen. Both sides get LEPTOS_OUTPUT_NAME=berth from .cargo/config.toml.
set -euo pipefail

cd "$(dirname "$0")/.."
release=false
profile=dev
helper=true
while (($#)); do
  case "$1" in
    --release) release=true ;;
    --profile) profile=${2:?--profile needs a cargo profile name}; shift ;;
    --daemon-only) helper=false ;;
    *) echo "usage: scripts/build.sh [--release | --profile NAME] [--daemon-only]" >&2; exit 2 ;;
  esac
  shift
done
if $release && [[ $profile != dev ]]; then
  echo "scripts/build.sh: --release and --profile $profile name two profiles; give one" >&2
  exit 2
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
site="$target_dir/site"
mkdir -p "$site/pkg"

if $release; then
  wasm_profile=wasm-release server_flags=(--release)
elif [[ $profile == dev ]]; then
  wasm_profile=debug server_flags=()
else
  wasm_profile=$profile server_flags=(--profile "$profile")
fi

# The WASM gets a target folder of its own: its dependency graph shares nothing with the
# server's, and a separate folder lets the two builds run at the same time. They do, so the
# WASM's crates compile while the server's build runs one rustc at a time (its own crate).
wasm_target_dir="$target_dir/wasm"
mkdir -p "$wasm_target_dir"
wasm="$wasm_target_dir/wasm32-unknown-unknown/$wasm_profile/frontend.wasm"
# Release: no function names and no producers section; they are a third of the WASM's size
# and only serve a debugger (the debug build keeps them).
bindgen_flags=()
if $release; then
  bindgen_flags=(--remove-name-section --remove-producers-section)
fi
build_site() {
  cargo build -p frontend --lib --target wasm32-unknown-unknown --target-dir "$wasm_target_dir" \
    --profile "$( [[ $wasm_profile == debug ]] && echo dev || echo "$wasm_profile")"
  echo "build: wasm-bindgen -> $site/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name berth "${bindgen_flags[@]}" "$wasm"
  mv -f "$site/pkg/berth_bg.wasm" "$site/pkg/berth.wasm"
  # No wasm-opt: binaryen 116's -Oz/-Os make this WASM smaller raw but 12-13 KB larger after
  # brotli, which is what a browser downloads (measured with scripts/bench.sh).
  cp style/main.css "$site/pkg/berth.css"
}

# The WASM side writes to a log (two cargo progress bars on one terminal garble each other);
# the log is shown if it fails.
site_log="$wasm_target_dir/build-site.log"
echo "build: WASM (frontend, profile $wasm_profile) in the background, log: $site_log"
(set -e; build_site) >"$site_log" 2>&1 &
site_pid=$!
# Whatever ends this script ends the background build too (its cargo first: killing the
# subshell alone would leave cargo running).
trap 'pkill -P "$site_pid" 2>/dev/null || true; kill "$site_pid" 2>/dev/null || true' EXIT

echo "build: server (berth)"
cargo build -p server --bin berth "${server_flags[@]}"
if $helper; then
  # A cargo run of its own: built together, the cloud SDKs' features (chrono's, hyper-rustls')
  # would be unified into the daemon's dependencies, and the daemon would differ from the
  # one `berth` built alone, which tests and the benchmark use.
  echo "build: berth-credential-helper"
  cargo build -p credential-helper --bin berth-credential-helper "${server_flags[@]}"
fi

if wait "$site_pid"; then
  echo "build: WASM and site done ($site/pkg)"
else
  cat "$site_log" >&2
  echo "build: FAILED: the WASM side (frontend, wasm-bindgen); its log is above" >&2
  exit 1
fi
