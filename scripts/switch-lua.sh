#!/usr/bin/env bash
# Reload-free switch for the "lua" mode: publish a routing state file with switch-state.sh
# (validated, atomic rename, serialized per directory), then tell nginx over its control
# socket to re-read it (portal_router.lua: GET /sync re-reads this route and every route
# nginx holds) and check that nginx now serves exactly the file. When this script returns 0,
# every request that starts afterwards is routed by the new state; nginx is neither tested
# nor reloaded. Killed after the rename, nginx serves the old route until the next switch in
# this directory or the next nginx (re)start, both of which re-read the files; re-running
# converges.
# usage: switch-lua.sh TARGET SOCKET   (one state JSON object on stdin)
set -euo pipefail

readonly PROG="switch-lua"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
if [[ "$#" -ne 2 || -z "$1" || -z "$2" ]]; then
  printf '%s: usage: %s.sh TARGET SOCKET  (state JSON on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
fi
target="$1"
socket="$2"
route="${target##*/}"
route="${route%.state}"
if [[ ! "$route" =~ ^([a-z][a-z0-9]*-)?(live|passive)$ || "$target" != *.state ]]; then
  log "refusing $target: not a [<track>-]live.state or [<track>-]passive.state file"
  exit 2
fi

# switch-state.sh's publish_state in this shell (no second bash): it keeps the directory's
# lock until this script exits, so the re-read below is serialized with the next switch.
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here="."
# shellcheck source-path=SCRIPTDIR source=switch-state.sh
source "$here/switch-state.sh"
publish_state "$target"

if ! served="$(curl -sS --fail-with-body --max-time 10 --unix-socket "$socket" "http://portal-router/sync?route=$route")"; then
  log "nginx did not take $target through $socket: $served"
  exit 1
fi
wanted=""
IFS= read -r wanted <"$target" || true
if [[ "$served" != "$wanted" ]]; then
  log "nginx serves $route as $served, not $wanted"
  exit 1
fi
log "nginx serves $route: $served"
