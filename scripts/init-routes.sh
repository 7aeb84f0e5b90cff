#!/usr/bin/env bash
# Create placeholder live/passive route files where none exist yet, so that a site that
# proxies to $portal_live / $portal_passive passes `nginx -t` on a new server before the
# first switch. Existing files are never touched; nginx is not reloaded. With TRACK (another
# track, or `edge`), the files are TRACK-live.conf / TRACK-passive.conf defining $TRACK_live.
# usage: init-routes.sh CONF_DIR [TRACK]
set -euo pipefail

readonly PROG="init-routes"
if [[ "$#" -lt 1 || "$#" -gt 2 || -z "$1" ]] || [[ "$#" -eq 2 && ! "$2" =~ ^[a-z][a-z0-9]*$ ]]; then
  printf '%s: usage: %s.sh CONF_DIR [TRACK]\n' "$PROG" "$PROG" >&2
  exit 2
fi
conf_dir="$1"
track="${2:-}"
prefix="${track:-portal}"
mkdir -p -- "$conf_dir"
# Not while a switch runs in the same directory.
exec 9<"$conf_dir"
flock 9

for route in live passive; do
  target="$conf_dir/${track:+$track-}$route.conf"
  [[ ! -e "$target" ]] || continue
  tmp="$(mktemp -- "$conf_dir/.${track:+$track-}$route.conf.tmp.XXXXXX")"
  # shellcheck disable=SC2016 # $host and $portal_ are nginx variables, written literally.
  printf '# Placeholder written by init-routes.sh: no color routed yet.\nmap $host $%s_%s {\n    default portal_unrouted;\n}\n' "$prefix" "$route" >"$tmp"
  chmod 0644 -- "$tmp"
  mv -f -- "$tmp" "$target"
  printf '%s: wrote placeholder %s\n' "$PROG" "$target" >&2
done
