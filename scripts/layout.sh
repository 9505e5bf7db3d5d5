#!/usr/bin/env bash
# Makes server/layout/hot-functions.order anew: the functions `berth serve` runs, which the
# release build links first and together, so a running Berth keeps about 6 MB of code resident
# instead of 14 (why and how: bench/src/layout.rs). Run it after updating dependencies or Rust,
# when scripts/bench.sh shows the binary has less than 90% of the listed functions.
#
# Two passes over the same workload: callgrind lists every function that runs; then, linked
# in that order, berth runs natively under perf, and the functions it still faults on outside
# the order (code valgrind's CPU never takes) are added. Each new order rebuilds the server
# crate and relinks berth (its build script reads the file): 9 minutes on 2 cores from an
# empty target folder, most of it the first release build.
#
# Needs what scripts/setup.sh installs (valgrind, linux-perf, docker-registry, skopeo).
set -euo pipefail

cd "$(dirname "$0")/.."
for tool in valgrind perf; do
  command -v "$tool" >/dev/null || { echo "scripts/layout.sh: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
order=server/layout/hot-functions.order
bench=("$target_dir/release/bench" --berth "$target_dir/release/berth" --site "$target_dir/site")

scripts/build.sh --release --daemon-only
cargo build --release -p bench
"${bench[@]}" --layout "$order"
cargo build --release -p server --bin berth
"${bench[@]}" --layout-faults "$order"
cargo build --release -p server --bin berth
echo "layout: $(grep -vc '^#' "$order") functions in $order; commit it with the change that made it"
