#!/usr/bin/env bash
# The shell-script checks: shellcheck on every script under scripts/, then the bats tests in
# scripts/tests (the role scripts against recording stubs and a loopback Harbor, and
# generate_env.sh against the real Docker engine). Exits non-zero on any failure.
#
#   scripts/tests/run.sh               everything
#   scripts/tests/run.sh FILE.bats...  shellcheck, then only these bats files
#
# Under CI=true a missing tool (shellcheck, bats, docker, jq, python3, openssl, curl) fails;
# otherwise what needs it is skipped with a message naming scripts/setup.sh.
set -euo pipefail

readonly PROG=scripts/tests/run.sh
cd "$(dirname "$0")/../.."

say() { printf '\033[1m%s:\033[0m %s\n' "$PROG" "$*"; }
ci() { [[ ${CI:-} == true ]]; }

failed=false

# missing WHAT WHY: under CI a failure; otherwise a skip, said out loud.
missing() {
  if ci; then
    say "FAILED: $1 is missing ($2); run scripts/setup.sh"
    failed=true
  else
    say "SKIPPED: $2: $1 is missing; run scripts/setup.sh to install it"
  fi
}

# shell_scripts: every shell script under scripts/, by name or by shebang.
shell_scripts() {
  local file first
  while IFS= read -r -d '' file; do
    case "$file" in
      *.sh | *.bash | *.bats) printf '%s\n' "$file" ;;
      *)
        first=$(head -n 1 "$file" 2>/dev/null || true)
        [[ $first =~ ^#!.*[/[:space:]](ba)?sh([[:space:]]|$) || $first =~ ^#!.*[/[:space:]]bats([[:space:]]|$) ]] \
          && printf '%s\n' "$file"
        ;;
    esac
  done < <(find scripts -type f ! -name '*.py' -print0) | sort
}

run_shellcheck() {
  if ! command -v shellcheck >/dev/null; then
    missing shellcheck "shellcheck of scripts/"
    return
  fi
  local scripts=()
  mapfile -t scripts < <(shell_scripts)
  say "shellcheck: ${#scripts[@]} scripts"
  if shellcheck -x "${scripts[@]}"; then
    say "shellcheck: clean"
  else
    say "FAILED: shellcheck"
    failed=true
  fi
}

run_bats() {
  if ! command -v bats >/dev/null; then
    missing bats "the bats tests in scripts/tests"
    return
  fi
  local tool absent=()
  for tool in jq python3 openssl curl; do
    command -v "$tool" >/dev/null || absent+=("$tool")
  done
  if ((${#absent[@]})); then
    missing "${absent[*]}" "the bats tests in scripts/tests"
    return
  fi
  local files=("$@")
  ((${#files[@]})) || mapfile -t files < <(find scripts/tests -maxdepth 1 -name '*.bats' | sort)
  if ! docker info >/dev/null 2>&1; then
    local kept=() file
    for file in "${files[@]}"; do
      [[ ${file##*/} == generate_env.bats ]] || kept+=("$file")
    done
    if ((${#kept[@]} < ${#files[@]})); then
      missing "a reachable Docker engine" "generate_env.bats (it runs real containers)"
      files=("${kept[@]}")
    fi
  fi
  ((${#files[@]})) || return 0
  say "bats: ${files[*]}"
  if bats "${files[@]}"; then
    say "bats: passed"
  else
    say "FAILED: bats"
    failed=true
  fi
}

run_shellcheck
run_bats "$@"
if $failed; then
  say "FAILED"
  exit 1
fi
say "done"
