#!/usr/bin/env bash
# Run database migrations in a one-off container.
# usage: run-migrations.sh CONTAINER_NAME IMAGE [ARG...]   (KEY=VALUE env lines on stdin)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=write-env.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/write-env.sh"

readonly PROG="run-migrations"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh CONTAINER_NAME IMAGE [ARG...]  (KEY=VALUE env lines on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -ge 2 ]] || usage
name="$1"
image="$2"
shift 2
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || usage
[[ -n "$image" ]] || usage

envfile=""
started=0
cleanup() {
  local rc=$?
  [[ -z "$envfile" ]] || rm -f -- "$envfile"
  if [[ "$started" -eq 1 ]]; then
    docker rm -f -- "$name" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
# On a signal, the EXIT trap also removes the one-off container, which would
# otherwise outlive us.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The env lines may hold secrets: never echo them; keep them in a 0600 file.
envfile="$(umask 077 && mktemp)"
if [[ ! -t 0 ]]; then
  cat >"$envfile"
fi
check_env_lines "$envfile"

docker rm -f -- "$name" >/dev/null 2>&1 || true

# Run in the background and `wait`, so a signal interrupts us immediately.
started=1
rc=0
docker run --rm --name "$name" --env-file "$envfile" -- "$image" "$@" &
wait "$!" || rc=$?
started=0
if [[ "$rc" -ne 0 ]]; then
  log "migrations failed with exit $rc"
  exit "$rc"
fi
log "migrations succeeded"
