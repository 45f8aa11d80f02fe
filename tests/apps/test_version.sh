#!/usr/bin/env bash
# Every binary answers --version with its name and the project's version,
# exit status 0, on stdout.
set -u
version=$1; shift
source "$(dirname "$0")/../cli_lib.sh"
for bin in "$@"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  expect 0 "^$name ${version//./\\.}\$" -- "$bin" --version
done
finish
