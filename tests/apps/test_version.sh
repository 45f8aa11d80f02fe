#!/usr/bin/env bash
# Every binary answers --version with its name and the project's version,
# exit status 0, on stdout, and reads its options with the one shared
# parser: an unknown --opt=value is refused the same way everywhere.
set -u
version=$1; shift
source "$(dirname "$0")/../cli_lib.sh"
for bin in "$@"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  expect 0 "^$name ${version//./\\.}\$" -- "$bin" --version
  case $name in
    worldkv-bench) sub=(generate) ;;
    worldkv-world) sub=(render) ;;
    *) sub=() ;;
  esac
  expect 2 "^$name.*: unknown option '--bogus' \(see $name.* --help\)\$" -- "$bin" "${sub[@]}" --bogus=1
done
finish
