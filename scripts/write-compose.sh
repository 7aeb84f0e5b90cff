#!/usr/bin/env bash
# Store a compose file for release STAMP and point docker-compose.prepared.yml at it.
# usage: write-compose.sh DIR STAMP   (compose YAML on stdin)
set -euo pipefail

readonly PROG="write-compose"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh DIR STAMP  (compose YAML on stdin; STAMP matches ^[0-9A-Za-z._-]+$)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 2 ]] || usage
dir="$1"
stamp="$2"
[[ -n "$dir" ]] || usage
[[ "$stamp" =~ ^[0-9A-Za-z._-]+$ ]] || usage

rel="releases/docker-compose.$stamp.yml"
link="$dir/docker-compose.prepared.yml"

tmp=""
tmplink=""
trap 'rm -f -- ${tmp:+"$tmp"} ${tmplink:+"$tmplink"}' EXIT

mkdir -p -- "$dir/releases"
tmp="$(mktemp -- "$dir/releases/.docker-compose.$stamp.yml.tmp.XXXXXX")"
cat >"$tmp"
if [[ ! -s "$tmp" ]]; then
  log "empty compose file on stdin"
  exit 1
fi
chmod 0640 -- "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$dir/$rel"
tmp=""

tmplink="$dir/.docker-compose.prepared.yml.tmp.$$"
ln -sfn -- "$rel" "$tmplink"
mv -Tf -- "$tmplink" "$link"
tmplink=""

log "wrote $dir/$rel; $link -> $rel"
