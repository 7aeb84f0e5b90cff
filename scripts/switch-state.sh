#!/usr/bin/env bash
# Atomically replace a routing state file (reload-free mode) with the content on stdin.
# The njs router reads it on every request, so the next request follows the new state:
# nginx is neither tested nor reloaded, and no connection is touched. A crash at any
# point leaves either the old or the new file, never a partial one; re-running converges.
# usage: switch-state.sh TARGET   (one JSON object on stdin)
set -euo pipefail

readonly PROG="switch-state"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
if [[ "$#" -ne 1 || -z "$1" || "$1" == */ ]]; then
  printf '%s: usage: %s.sh TARGET  (state JSON on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
fi
target="$1"
dir="$(dirname -- "$target")"
base="$(basename -- "$target")"
if [[ ! -d "$dir" ]]; then
  log "directory $dir does not exist"
  exit 1
fi

# One switch at a time in this directory; drop temp files a killed switch left behind.
exec 9<"$dir"
flock 9
rm -f -- "$dir"/.*.tmp.*

tmp="$(mktemp -- "$dir/.$base.tmp.XXXXXX")"
trap 'rm -f -- "$tmp"' EXIT
cat >"$tmp"
# Accept exactly the grammar the program renders (lib/stateRoutes.ts), so a truncated or
# garbled state is refused here: the router would answer 502 for it, and there is no
# `nginx -t` in this mode to catch it.
name='"[a-z][a-z0-9_]*"'
canary="\\{\"upstream\":$name,\"basisPoints\":[0-9]{1,5},\"sticky\":(true|false),\"cookie\":\"[A-Za-z_][A-Za-z0-9_]*\"(,\"salt\":\"[0-9a-f]{1,64}\")?\\}"
grammar="^\\{\"upstream\":$name(,\"canary\":$canary)?\\}$"
content="$(cat -- "$tmp")"
if [[ "$(wc -l <"$tmp")" -gt 1 || ! "$content" =~ $grammar ]]; then
  log "refusing $target: the new state is not one routing-state JSON object on one line"
  exit 1
fi
chmod 0644 -- "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$target"
log "$target now $(cat -- "$target")"
