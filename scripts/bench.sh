#!/usr/bin/env bash
# Berth's benchmark: one table of figures, each beside its target with pass or miss.
#
#   scripts/bench.sh           full run: release build of the daemon (scripts/build.sh --release
#                              --daemon-only: the cloud credential helper is not measured), then
#                              check cycles at N = 100 and 1,000, berth serve memory at 100 and
#                              1,000 services, dashboard p50/p99 and SSE delay at 200, WASM sizes
#   scripts/bench.sh --smoke   N = 20 with the debug build that exists (scripts/test.sh runs
#                              this after the other tests): proves the benchmark still runs;
#                              its figures are printed, not judged
#
# Needs what scripts/setup.sh installs: docker-registry, skopeo, busybox-static, wrk, brotli.
# The release build is most of a first run's time; docs/BENCHMARKS.md says what is measured.
set -euo pipefail

cd "$(dirname "$0")/.."
smoke=false
[[ ${1:-} == --smoke ]] && smoke=true

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
site="$target_dir/site"

if $smoke; then
  # The debug berth and site from scripts/build.sh; built here if they are missing.
  [[ -x $target_dir/debug/berth && -f $site/pkg/berth.wasm ]] || scripts/build.sh
  cargo build -p bench
  exec "$target_dir/debug/bench" --smoke --berth "$target_dir/debug/berth" --site "$site"
fi

echo "bench: release build (scripts/build.sh --release --daemon-only; the first one takes a while)" >&2
started=$SECONDS
scripts/build.sh --release --daemon-only
# The bench binary links the engine in release too; cargo reuses the release dependencies.
cargo build --release -p bench
echo "bench: built in $((SECONDS - started)) s; measuring" >&2
started=$SECONDS
"$target_dir/release/bench" --berth "$target_dir/release/berth" --site "$site" --release-site
echo "bench: measured in $((SECONDS - started)) s" >&2
