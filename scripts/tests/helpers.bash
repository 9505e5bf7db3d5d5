# shellcheck shell=bash
# Shared by the bats files: recording stubs on PATH, canned answers, and the call log.

SCRIPTS_DIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export SCRIPTS_DIR

# stub_commands CMD...: puts recording stubs for CMD... first on PATH, with an empty log.
stub_commands() {
  STUB_DIR=$BATS_TEST_TMPDIR/stubs
  STUB_LOG=$STUB_DIR/calls.log
  mkdir -p "$STUB_DIR/bin"
  : >"$STUB_LOG"
  local command
  for command in "$@"; do
    ln -sf "$BATS_TEST_DIRNAME/stubs/stub" "$STUB_DIR/bin/$command"
  done
  PATH=$STUB_DIR/bin:$PATH
  export STUB_DIR STUB_LOG PATH
}

# answer CMD GLOB STATUS [STDOUT [STDERR]]: CMD's answer to arguments matching GLOB.
answer() {
  printf '%s\t%s\t%s\t%s\n' "$2" "$3" "${4:-}" "${5:-}" >>"$STUB_DIR/$1.rules"
}

# forget_answers: drop every canned answer (before a re-run against a changed cloud).
forget_answers() { rm -f "$STUB_DIR"/*.rules; }

# calls: the stubs' log, one call a line. clear_calls: empty it.
calls() { cat "$STUB_LOG"; }
clear_calls() { : >"$STUB_LOG"; }

# called_in_order PREFIX...: the log has calls starting with each PREFIX, in this order.
called_in_order() {
  local prefix line=0 found
  for prefix in "$@"; do
    found=$(awk -v from="$line" -v p="$prefix" 'NR > from && index($0, p) == 1 {print NR; exit}' "$STUB_LOG")
    if [[ -z $found ]]; then
      printf 'no call starting with "%s" after line %s of the log:\n' "$prefix" "$line" >&2
      cat "$STUB_LOG" >&2
      return 1
    fi
    line=$found
  done
}

# not_called PATTERN: no call in the log matches the extended regex PATTERN.
not_called() {
  if grep -Eq -- "$1" "$STUB_LOG"; then
    printf 'unexpected call matching %s:\n' "$1" >&2
    cat "$STUB_LOG" >&2
    return 1
  fi
}

# path_without CMD...: a PATH of the usual tools but without CMD... (for "not installed").
path_without() {
  local dir=$BATS_TEST_TMPDIR/path-without tool skip command found
  mkdir -p "$dir"
  for tool in bash env cat mktemp rm tr tail head cut dirname basename grep sed awk sort uniq \
    paste id chmod mkdir stat curl jq openssl docker python3 aws az gcloud doctl; do
    skip=false
    for command in "$@"; do [[ $tool == "$command" ]] && skip=true; done
    $skip && continue
    found=$(command -v "$tool") || continue
    [[ -e $dir/$tool ]] || ln -s "$found" "$dir/$tool"
  done
  printf '%s' "$dir"
}


# lacks FILE GREP-ARGS...: FILE has no line matching (a `! grep` would not fail a bats test).
lacks() {
  local file=$1
  shift
  if grep -q "$@" "$file"; then
    printf 'unexpected match for %s in %s:\n' "$*" "$file" >&2
    grep "$@" "$file" >&2
    return 1
  fi
}
