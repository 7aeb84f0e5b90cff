#!/usr/bin/env bash
# Atomically replace a routing state file (reload-free mode) with the content on stdin.
# The njs router reads it on every request, so the next request follows the new state:
# nginx is neither tested nor reloaded, and no connection is touched. A crash at any
# point leaves either the old or the new file, never a partial one; re-running converges.
# usage: switch-state.sh TARGET   (one JSON object on stdin)
#
# Speed: a switch must be visible within 50 ms of the command's start, so the script starts
# only the commands bash has no builtin for: flock, cat (copies stdin into the temp file as
# it arrives), sync (fsync of the temp file) and mv (the rename). Everything else (paths,
# the temp file's exclusive creation, the check, the log) is a builtin. switch-lua.sh sources
# this file for publish_state instead of starting a second bash.
set -euo pipefail

# publish_state TARGET: the whole switch (stdin -> validated temp file -> rename), holding
# the directory's lock on fd 9 until the calling shell exits. Messages start "switch-state: ".
publish_state() {
  local target="$1" dir base name canary grammar raw line i
  dir="${target%/*}"
  [[ "$dir" != "$target" ]] || dir="."
  [[ -n "$dir" ]] || dir="/"
  base="${target##*/}"
  if [[ ! -d "$dir" ]]; then
    printf 'switch-state: directory %s does not exist\n' "$dir" >&2
    exit 1
  fi

  # One switch at a time in this directory; drop temp files a killed switch left behind.
  exec 9<"$dir"
  flock 9
  local -a leftovers
  shopt -s nullglob
  leftovers=("$dir"/.*.tmp.*)
  shopt -u nullglob
  if [[ "${#leftovers[@]}" -gt 0 ]]; then rm -f -- "${leftovers[@]}"; fi

  # The temp file, created exclusively (noclobber: O_EXCL) with mode 0644, the name
  # mktemp would give it (.<base>.tmp.XXXXXX). A global: the EXIT trap runs after return.
  umask 022
  set -o noclobber
  for i in 1 2 3 4 5; do
    printf -v switch_state_tmp '%s/.%s.tmp.%06d' "$dir" "$base" "$(((RANDOM << 15 | RANDOM) % 1000000))"
    if { : >"$switch_state_tmp"; } 2>/dev/null; then break; fi
    if [[ "$i" -eq 5 ]]; then
      set +o noclobber
      printf 'switch-state: cannot create a temp file in %s\n' "$dir" >&2
      exit 1
    fi
  done
  set +o noclobber
  trap '[[ ! -e "${switch_state_tmp-}" ]] || rm -f -- "$switch_state_tmp"' EXIT
  cat >"$switch_state_tmp"

  # Accept exactly the grammar the program renders (lib/nginx/stateRoutes.ts STATE_GRAMMAR_PARTS,
  # the same three parts; test/scripts/state-grammar.test.ts compares them), so a truncated or
  # garbled state is refused here: the router would answer 502 for it, and there is no
  # `nginx -t` in this mode to catch it. One line: at most one newline, at the end; a NUL
  # byte (where `read -d ''` stops with status 0) is refused too.
  name='"[a-z][a-z0-9_]*"'
  canary="\\{\"upstream\":$name,\"basisPoints\":[0-9]{1,5},\"sticky\":(true|false),\"cookie\":\"[A-Za-z_][A-Za-z0-9_]*\"(,\"salt\":\"[0-9a-f]{1,64}\")?\\}"
  grammar="^\\{\"upstream\":$name(,\"canary\":$canary)?\\}$"
  raw=""
  if IFS= read -r -d '' raw <"$switch_state_tmp"; then raw=$'\n\n'; fi
  line="${raw%$'\n'}"
  if [[ "$line" == *$'\n'* || ! "$line" =~ $grammar ]]; then
    printf 'switch-state: refusing %s: the new state is not one routing-state JSON object on one line\n' "$target" >&2
    exit 1
  fi
  # fsync the data before the rename makes it the state (ext4's rename heuristic is not
  # something every filesystem offers), then rename: the switch.
  sync -- "$switch_state_tmp" 2>/dev/null || true
  mv -f -- "$switch_state_tmp" "$target"
  printf 'switch-state: %s now %s\n' "$target" "$line" >&2
}

# Sourced (by switch-lua.sh): only define publish_state.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then return 0; fi

readonly PROG="switch-state"
if [[ "$#" -ne 1 || -z "$1" || "$1" == */ ]]; then
  printf '%s: usage: %s.sh TARGET  (state JSON on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
fi
publish_state "$1"
