#!/usr/bin/env bash
# Store a color's environment for docker compose (env_file), as KEY=VALUE lines from stdin.
# The lines may hold secrets: never echoed, written 0600 through a temp file and a rename.
# usage: write-env.sh FILE   (KEY=VALUE lines on stdin; FILE ends in .env)
set -euo pipefail

# check_env_lines FILE: exit 2 naming the first line of FILE that is not KEY=VALUE (blank
# and # lines allowed), never its content; sets env_line_count. Logs with the caller's log().
# run-migrations.sh sources this file for it.
check_env_lines() {
  local line
  env_line_count=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    env_line_count=$((env_line_count + 1))
    [[ -z "$line" || "$line" == \#* ]] && continue
    if [[ ! "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
      log "env line $env_line_count on stdin is not KEY=VALUE (content not shown)"
      exit 2
    fi
  done <"$1"
}

# Sourced (by run-migrations.sh): only define check_env_lines.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then return 0; fi

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
check_env_lines "$tmp"
chmod 0600 -- "$tmp"
mv -f -- "$tmp" "$file"
tmp=""
log "wrote $file ($env_line_count lines, mode 0600)"
