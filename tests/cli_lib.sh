# Helpers for the command-line tests (sourced): count checks and failures,
# and `expect STATUS PATTERN -- COMMAND...` to check an exit status and a
# pattern in the output, and `check DESCRIPTION COMMAND...` for a plain
# success. `finish` prints the summary and sets the status.
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

# `check`: the command must succeed; its output is shown only when it fails.
check() {
  local what=$1; shift
  checks=$((checks + 1))
  local out
  out=$("$@" 2>&1) || fail "$what: '$*': $out"
}

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# `interrupt_when_grown FILE BYTES PID`: waits (up to 2 min) until FILE
# holds more than BYTES, sends SIGINT to PID and waits (up to 1 min) for it
# to exit. Returns its exit status, or 124 when it had to be killed.
interrupt_when_grown() {
  local file=$1 bytes=$2 pid=$3
  for _ in $(seq 1 240); do
    [ -s "$file" ] && [ "$(stat -c %s "$file")" -gt "$bytes" ] && break
    sleep 0.5
  done
  kill -INT "$pid"
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid"
    return 124
  fi
  wait "$pid"
}
