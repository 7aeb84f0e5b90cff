#!/usr/bin/env bash
# Record the live color and tag for operators and docker compose interpolation.
# usage: record-live.sh DIR COLOR TAG
set -euo pipefail

readonly PROG="record-live"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh DIR COLOR TAG  (COLOR matches ^[a-z][a-z0-9-]*$)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 3 ]] || usage
dir="$1"
color="$2"
tag="$3"
[[ -n "$dir" ]] || usage
[[ "$color" =~ ^[a-z][a-z0-9-]*$ ]] || usage
# Image tag or digest; nothing that could break a .env line (spaces, quotes, $, #).
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.:@-]*$ ]] || usage

mkdir -p -- "$dir"
tmp=""
trap 'rm -f -- ${tmp:+"$tmp"}' EXIT

# write_atomic FILE CONTENT: CONTENT -> FILE via a temp file in the same directory.
# (Called directly, not in a pipeline, so the EXIT trap sees $tmp.)
write_atomic() {
  tmp="$(mktemp -- "$dir/.$(basename -- "$1").tmp.XXXXXX")"
  printf '%s' "$2" >"$tmp"
  chmod 0644 -- "$tmp"
  mv -f -- "$tmp" "$1"
  tmp=""
}

write_atomic "$dir/live-color" "$color"$'\n'
write_atomic "$dir/.env" "PORTAL_LIVE_COLOR=$color"$'\n'"PORTAL_LIVE_TAG=$tag"$'\n'

log "live color $color, tag $tag recorded in $dir"
