#!/usr/bin/env bash
# Post MESSAGE, followed by " (by OPERATOR)", to the Slack incoming webhook in env
# SLACK_WEBHOOK_URL. OPERATOR is PORTAL_OPERATOR, else USER, else "an unknown operator".
# The URL is a secret: it goes to curl through a config on stdin, never argv.
# usage: SLACK_WEBHOOK_URL=... [PORTAL_OPERATOR=name] notify-slack.sh MESSAGE
set -euo pipefail

readonly PROG="notify-slack"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: SLACK_WEBHOOK_URL=URL %s.sh MESSAGE\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 1 ]] || usage
message="$1"
url="${SLACK_WEBHOOK_URL:-}"
if [[ -z "$url" ]]; then
  log "SLACK_WEBHOOK_URL is not set"
  exit 2
fi
if [[ "$url" =~ [[:cntrl:]] ]]; then
  log "SLACK_WEBHOOK_URL contains control characters"
  exit 2
fi

operator="${PORTAL_OPERATOR:-${USER:-}}"
# A name, not a message: one line, printable, at most 64 characters.
if [[ -z "$operator" || "$operator" =~ [[:cntrl:]] || "${#operator}" -gt 64 ]]; then
  [[ -z "$operator" ]] || log "ignoring PORTAL_OPERATOR/USER: not a printable name of at most 64 characters"
  operator="an unknown operator"
fi
message="$message (by $operator)"

json_escape() {
  local s="$1" i c
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  if [[ "$s" =~ [[:cntrl:]] ]]; then
    for ((i = 1; i < 32; i++)); do
      printf -v c '%b' "\\x$(printf '%02x' "$i")"
      if [[ "$s" == *"$c"* ]]; then
        s="${s//"$c"/$(printf '\\u%04x' "$i")}"
      fi
    done
  fi
  printf '%s' "$s"
}

# Quoted strings in a curl config only need backslash and double quote escaped.
config_quote() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

body="{\"text\": \"$(json_escape "$message")\"}"

rc=0
code="$(
  {
    printf 'url = %s\n' "$(config_quote "$url")"
    printf 'data-binary = %s\n' "$(config_quote "$body")"
  } | curl --config - --silent --fail --max-time 10 \
    -H 'Content-Type: application/json' -o /dev/null -w '%{http_code}'
)" || rc=$?
if [[ "$rc" -ne 0 ]]; then
  log "notification failed (curl exit $rc, HTTP ${code:-000})"
  exit 1
fi
log "notification sent"
