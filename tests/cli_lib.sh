# Helpers for the command-line tests (sourced): count checks and failures,
# and `expect STATUS PATTERN -- COMMAND...` to check an exit status and a
# pattern in the output. `finish` prints the summary and sets the status.
failures=0
checks=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

expect() {
  local want=$1 pattern=$2; shift 3
  checks=$((checks + 1))
  local out status
  out=$("$@" 2>&1); status=$?
  [ "$status" -eq "$want" ] || fail "'$*' exited $status, expected $want: $out"
  [ -z "$pattern" ] || grep -qE -- "$pattern" <<<"$out" || fail "'$*' output lacks /$pattern/: $out"
}

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
