# Shared by the role scripts: messages, failure with the step's name, and the call wrappers
# that make --dry-run and idempotent re-runs work. Sourced, not run; expects PROG and dry_run.
# shellcheck shell=bash disable=SC2034,SC2154  # dry_run, PROG and out belong to the sourcing script

info() { printf '%s: %s\n' "$PROG" "$*" >&2; }

die_usage() { printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

fail() { printf '%s: error: step "%s" failed: %s\n' "$PROG" "$1" "$2" >&2; exit 1; }

need_cli() {
  command -v "$1" >/dev/null 2>&1 || fail "check for $1" "$1 is not installed; $2"
}

# out holds the output of the last run/probe/change.
out=""
run() {
  local step=$1 errors
  shift
  errors=$(mktemp)
  if out=$("$@" 2>"$errors"); then
    rm -f "$errors"
    return 0
  fi
  local message
  message=$(tail -n 3 "$errors" | tr '\n' ' ')
  rm -f "$errors"
  fail "$step" "${message:-$1 exited non-zero}"
}

# probe STEP PATTERN CMD...: 0 and $out when CMD succeeds, 1 when its error matches PATTERN
# (the thing does not exist), else fails STEP.
probe() {
  local step=$1 pattern=$2 errors status=0
  shift 2
  errors=$(mktemp)
  out=$("$@" 2>"$errors") || status=$?
  local message
  message=$(tail -n 3 "$errors" | tr '\n' ' ')
  rm -f "$errors"
  ((status == 0)) && return 0
  [[ $message =~ $pattern ]] && return 1
  fail "$step" "${message:-$1 exited with status $status}"
}

# change STEP CMD...: a call that changes something; under --dry-run only printed.
change() {
  if $dry_run; then
    info "dry run: would call: ${*:2}"
    out=""
    return 0
  fi
  info "$1"
  run "$@"
}

need_value() { [[ $# -ge 2 && -n $2 ]] || die_usage "$1 needs a value"; }

# env_line KEY VALUE: the line for .updater.env, quoted so that the file reads it back as is.
env_line() {
  local value=$2
  if [[ $value =~ ^[A-Za-z0-9_./:@,=+-]*$ ]]; then
    printf '%s=%s\n' "$1" "$value"
  elif [[ $value != *\'* ]]; then
    printf "%s='%s'\n" "$1" "$value"
  else
    value=${value//\\/\\\\}; value=${value//\"/\\\"}; value=${value//\$/\\\$}; value=${value//\`/\\\`}
    printf '%s="%s"\n' "$1" "$value"
  fi
}
