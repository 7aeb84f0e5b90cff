#!/usr/bin/env bash
# Point docker-compose.yml at the release docker-compose.prepared.yml points to.
# usage: promote-compose.sh DIR
set -euo pipefail

readonly PROG="promote-compose"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh DIR\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 1 && -n "$1" ]] || usage
dir="$1"
prepared="$dir/docker-compose.prepared.yml"
live="$dir/docker-compose.yml"

if [[ ! -L "$prepared" ]]; then
  log "no prepared compose file: $prepared is missing or not a symlink (run write-compose.sh first)"
  exit 1
fi
target="$(readlink -- "$prepared")"
if [[ ! -f "$prepared" ]]; then
  log "prepared compose file $prepared points to missing $target"
  exit 1
fi

tmplink="$dir/.docker-compose.yml.tmp.$$"
trap 'rm -f -- "$tmplink"' EXIT
ln -sfn -- "$target" "$tmplink"
mv -Tf -- "$tmplink" "$live"

log "$live -> $target"
