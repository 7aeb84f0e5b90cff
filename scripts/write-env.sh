#!/usr/bin/env bash
# Store a color's environment for docker compose (env_file), as KEY=VALUE lines from stdin.
# The lines may hold secrets: never echoed, written 0600 through a temp file and a rename.
# usage: write-env.sh FILE   (KEY=VALUE lines on stdin; FILE ends in .env)
set -euo pipefail

readonly PROG="write-env"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh FILE  (KEY=VALUE lines on stdin; FILE is an absolute path ending in .env)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 1 && "$1" == /*.env ]] || usage
file="$1"
dir="$(dirname -- "$file")"
mkdir -p -- "$dir"

tmp=""
trap 'rm -f -- ${tmp:+"$tmp"}' EXIT
tmp="$(umask 077 && mktemp -- "$dir/.$(basename -- "$file").tmp.XXXXXX")"
cat >"$tmp"
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
  lineno=$((lineno + 1))
  [[ -z "$line" || "$line" == \#* ]] && continue
  if [[ ! "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
    log "env line $lineno on stdin is not KEY=VALUE (content not shown)"
    exit 2
  fi
done <"$tmp"
chmod 0600 -- "$tmp"
mv -f -- "$tmp" "$file"
tmp=""
log "wrote $file ($lineno lines, mode 0600)"
