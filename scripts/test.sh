#!/usr/bin/env bash
# Sets up what testing needs, then: fmt check, the unused-dependency check, clippy per
# package, every unit and integration test, and the end2end browser tests. Under CI=true a
# missing component fails.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

step "cargo fmt --check"
cargo fmt --all -- --check

step "unused dependencies (cargo machete: each crate's dependencies against its sources)"
cargo machete --skip-target-dir

step "clippy (per package: a workspace-wide build would unify ssr and hydrate in app)"
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --target-dir "$target_dir/wasm" -- -D warnings
cargo clippy -p testkit -p end2end -p bench --all-targets -- -D warnings
cargo clippy -p credential-helper --all-targets -- -D warnings

step "build (WASM, site, berth and berth-credential-helper binaries)"
scripts/build.sh

step "shell scripts (shellcheck, bats; generate_env.sh's output read back by berth doctor)"
BERTH_BIN="$target_dir/debug/berth" scripts/tests/run.sh

step "unit and integration tests"
# Two cargo runs: together, the helper's cloud SDKs would change the features of the server's
# dependencies and rebuild them. The server's cloud tests run the helper build.sh built.
cargo test -p server -p testkit -p bench
cargo test -p credential-helper

step "end2end (real Chromium over WebDriver)"
# --tests: no doc-test run, so the last closing line is a browser test binary's own
cargo test -p end2end --tests -- --test-threads=1

step "REST API against its served OpenAPI document (schemathesis, with a token)"
scripts/tests/schemathesis.sh "$target_dir/debug/berth"

step "benchmark smoke (N=20): the benchmark still runs"
scripts/bench.sh --smoke

step "the container image: Dockerfile and deploy/berth-compose.yml on the real engine"
scripts/tests/image.sh
