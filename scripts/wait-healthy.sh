#!/usr/bin/env bash
# Poll URL until it answers HTTP 200 or TIMEOUT_SECONDS elapse.
# usage: wait-healthy.sh URL TIMEOUT_SECONDS   (env INTERVAL: seconds between polls, default 1)
set -euo pipefail

readonly PROG="wait-healthy"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh URL TIMEOUT_SECONDS  (env INTERVAL=seconds between attempts, default 1)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 2 ]] || usage
url="$1"
timeout="$2"
interval="${INTERVAL:-1}"
[[ -n "$url" ]] || usage
[[ "$timeout" =~ ^[0-9]+$ && "$timeout" -gt 0 ]] || usage
if [[ ! "$interval" =~ ^([0-9]+(\.[0-9]*)?|\.[0-9]+)$ ]]; then
  log "INTERVAL must be a non-negative number of seconds, got '$interval'"
  exit 2
fi

# Monotonic enough wall clock in microseconds.
now_us() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$((10#$t))"
  else
    printf '%s\n' "$(($(date +%s%N) / 1000))"
  fi
}

errfile="$(mktemp)"
trap 'rm -f -- "$errfile"' EXIT

deadline=$(($(now_us) + timeout * 1000000))
attempts=0
last=""
while :; do
  attempts=$((attempts + 1))
  rc=0
  code="$(curl --noproxy '*' --silent --show-error --max-time 2 \
    -o /dev/null -w '%{http_code}' -- "$url" 2>"$errfile")" || rc=$?
  if [[ "$rc" -eq 0 && "$code" == "200" ]]; then
    log "healthy after $attempts attempt(s)"
    exit 0
  fi
  if [[ "$rc" -ne 0 ]]; then
    err="$(tr -s '\n' ' ' <"$errfile")"
    last="curl exit $rc: ${err% }"
  else
    last="HTTP $code"
  fi
  if [[ "$(now_us)" -ge "$deadline" ]]; then
    log "$url not healthy after ${timeout}s ($attempts attempt(s)); last result: $last"
    exit 1
  fi
  sleep "$interval"
done
