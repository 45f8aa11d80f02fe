#!/usr/bin/env bash
# Numeric option values are parsed strictly by every app: NaN, trailing
# text and fractions where a whole number is wanted are refused with a
# message, never hang (bench ops --seconds nan once did) or truncate
# (--frames 1e3 once ran 1 frame).
set -u
bench=$1
explore=$2
source "$(dirname "$0")/../cli_lib.sh"

expect 2 "--seconds expects a number from" -- timeout 20 "$bench" ops --seconds nan
expect 2 "--seconds expects a number from" -- timeout 20 "$bench" ops --seconds inf
expect 2 "--seconds expects a number from" -- timeout 20 "$bench" ops --seconds 1s
expect 2 "--frames expects a whole number from 1 to 10000000, got '1e3'" -- timeout 20 "$bench" generate --frames 1e3
expect 2 "--frames expects a whole number" -- timeout 20 "$bench" generate --frames 2.5
expect 2 "--steps expects a whole number from 0 to 8" -- timeout 20 "$bench" generate --steps 9
# the same values in the --opt=value form reach the same checks
expect 2 "--frames expects a whole number from 1 to 10000000, got '1e3'" -- timeout 20 "$bench" generate --frames=1e3
expect 2 "--seconds expects a number from" -- timeout 20 "$bench" ops --seconds=nan
expect 2 "--frames expects a whole number from 1 to 10000000, got ''" -- timeout 20 "$bench" generate --frames=
if [ -x "$explore" ]; then
  expect 2 "--steps expects a whole number" -- timeout 20 "$explore" --steps 2.5
  expect 2 "--fps expects a number" -- timeout 20 "$explore" --fps nan
  expect 2 "--frames expects a whole number" -- timeout 20 "$explore" --frames 1e3
  expect 2 "--fps expects a number" -- timeout 20 "$explore" --fps=nan
fi
finish
