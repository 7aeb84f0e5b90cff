#!/usr/bin/env bash
# Atomically replace an nginx include file with the content on stdin, test the
# config, and reload nginx; roll the file back if the test or reload fails.
# usage: switch-route.sh TARGET TEST_CMD RELOAD_CMD   (new content on stdin)
#   TEST_CMD / RELOAD_CMD are plain words split on whitespace (no eval), e.g.
#   "nginx -t" and "sudo nginx -s reload".
set -euo pipefail

readonly PROG="switch-route"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh TARGET TEST_CMD RELOAD_CMD  (new file content on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 3 ]] || usage
target="$1"
read -r -a test_cmd <<<"$2" || true
read -r -a reload_cmd <<<"$3" || true
[[ -n "$target" && "${#test_cmd[@]}" -gt 0 && "${#reload_cmd[@]}" -gt 0 ]] || usage
[[ "$target" != */ ]] || usage

dir="$(dirname -- "$target")"
base="$(basename -- "$target")"
if [[ ! -d "$dir" ]]; then
  log "directory $dir does not exist"
  exit 1
fi

# One switch at a time in this directory (a rollback switches live and passive at once).
exec 9<"$dir"
flock 9
# A switch killed without its trap (SIGKILL, power loss) may have left its backup: the file
# nginx still serves. Put it back before anything reloads nginx, so this run's reload never
# applies another route's unfinished switch; drop its temp files.
for pending in "$dir"/.*.bak.*; do
  [[ -e "$pending" ]] || continue
  name="${pending##*/}"
  name="${name#.}"
  name="${name%.bak.*}"
  log "restoring $dir/$name left by an interrupted switch"
  mv -f -- "$pending" "$dir/$name"
done
rm -f -- "$dir"/.*.tmp.*

tmp=""
backup=""
swapped=0   # 1 once the new content has been moved over TARGET
done_ok=0   # 1 once nginx has accepted and reloaded the new content
had_old=0

restore() {
  if [[ "$had_old" -eq 1 ]]; then
    mv -f -- "$backup" "$target"
  else
    rm -f -- "$target"
  fi
  swapped=0
}

cleanup() {
  local rc=$?
  if [[ "$swapped" -eq 1 && "$done_ok" -eq 0 ]]; then
    log "interrupted; restoring previous $target"
    restore || log "could not restore $target"
  fi
  [[ -z "$tmp" ]] || rm -f -- "$tmp"
  [[ -z "$backup" ]] || rm -f -- "$backup"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Hidden names ending in .tmp.XXXXXX / .bak.XXXXXX never match an nginx
# `include .../*.conf` glob.
tmp="$(mktemp -- "$dir/.$base.tmp.XXXXXX")"
cat >"$tmp"
sync -- "$tmp" 2>/dev/null || true

changed=1
if [[ -e "$target" ]]; then
  had_old=1
  if cmp -s -- "$tmp" "$target"; then
    changed=0
  else
    # Keep the old file itself (hard link) so a rollback restores it exactly;
    # copy if the filesystem has no hard links.
    backup="$(mktemp -- "$dir/.$base.bak.XXXXXX")"
    ln -f -- "$target" "$backup" 2>/dev/null || cp -p -- "$target" "$backup"
    chmod --reference="$target" -- "$tmp" 2>/dev/null || chmod 0644 -- "$tmp"
  fi
else
  chmod 0644 -- "$tmp"
fi

if [[ "$changed" -eq 1 ]]; then
  mv -f -- "$tmp" "$target"
  tmp=""
  swapped=1
fi

if ! test_out="$("${test_cmd[@]}" 2>&1)"; then
  [[ "$swapped" -eq 0 ]] || restore
  printf '%s\n' "$test_out" >&2
  if [[ "$changed" -eq 1 ]]; then
    log "config test failed (${test_cmd[*]}); restored previous $target, nginx not reloaded"
  else
    log "config test failed (${test_cmd[*]}) with unchanged $target; nginx not reloaded"
  fi
  exit 1
fi

if ! reload_out="$("${reload_cmd[@]}" 2>&1)"; then
  [[ "$swapped" -eq 0 ]] || restore
  printf '%s\n' "$reload_out" >&2
  log "reload failed (${reload_cmd[*]}); restored previous $target"
  exit 1
fi
done_ok=1

if [[ "$changed" -eq 1 ]]; then
  log "$target updated and nginx reloaded"
else
  log "$target unchanged; nginx config tested and reloaded"
fi
