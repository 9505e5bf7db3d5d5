#!/usr/bin/env bash
# Sets up what running needs, builds Berth in release mode, and starts `berth serve` on its
# embedded defaults: SQLite file berth.db next to .updater.env, dashboard on 127.0.0.1:8080.
# Extra arguments go to `berth`, e.g. scripts/run.sh --env-file /etc/berth/.updater.env
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh --run
scripts/build.sh --release
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec "$target_dir/release/berth" "$@" serve
