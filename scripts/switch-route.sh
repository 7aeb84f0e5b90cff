#!/usr/bin/env bash
# Atomically replace an nginx include file with the content on stdin, test the
# config, reload nginx and wait until the new configuration serves; roll the file
# back if the test fails or the master rejects the reload.
# usage: switch-route.sh TARGET TEST_CMD RELOAD_CMD PID_FILE ERROR_LOG TIMEOUT_SECONDS
#   (new content on stdin)
#   TEST_CMD / RELOAD_CMD are plain words split on whitespace (no eval), e.g.
#   "nginx -t" and "sudo nginx -s reload". PID_FILE is the master's pid file,
#   ERROR_LOG the log the master writes (read, if readable, for the reason of a
#   rejected reload). Exit 0 only once no worker of the earlier configuration
#   accepts connections any more.
set -euo pipefail

readonly PROG="switch-route"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh TARGET TEST_CMD RELOAD_CMD PID_FILE ERROR_LOG TIMEOUT_SECONDS  (new file content on stdin)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 6 ]] || usage
target="$1"
read -r -a test_cmd <<<"$2" || true
read -r -a reload_cmd <<<"$3" || true
pid_file="$4"
error_log="$5"
timeout_s="$6"
[[ -n "$target" && "${#test_cmd[@]}" -gt 0 && "${#reload_cmd[@]}" -gt 0 ]] || usage
[[ "$target" != */ && -n "$pid_file" && -n "$error_log" ]] || usage
[[ "$timeout_s" =~ ^[1-9][0-9]{0,3}$ ]] || usage

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

# Pids of the master's workers that accept connections (a worker told to stop retitles
# itself "worker process is shutting down" and closes its listening sockets:
# ngx_worker_process_cycle in src/os/unix/ngx_process_cycle.c).
accepting_workers() {
  local proc stat ppid title
  for proc in /proc/[0-9]*; do
    { read -r stat <"$proc/stat"; } 2>/dev/null || continue
    stat="${stat##*) }"
    read -r _ ppid _ <<<"$stat"
    [[ "$ppid" == "$1" ]] || continue
    { title="$(tr '\0' ' ' <"$proc/cmdline")"; } 2>/dev/null || continue
    [[ "$title" == "nginx: worker process"* && "$title" != *"shutting down"* ]] || continue
    printf '%s\n' "${proc#/proc/}"
  done
}

# [emerg] lines the master logged since the reload signal (empty if the log is unreadable).
emerg_since_signal() {
  [[ "$log_offset" -ge 0 && -r "$error_log" ]] || return 0
  tail -c "+$((log_offset + 1))" -- "$error_log" 2>/dev/null | grep -F '[emerg]' || true
}

now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$((10#$t / 1000))"
  else
    printf '%s\n' "$(($(date +%s%N) / 1000000))"
  fi
}

# Waits until every accepting worker is one started after the signal. Fails when the
# master logs [emerg] and starts no workers for a second after its last such line (a
# rejected reload: the master keeps its configuration; bind() is retried for ~2.5 s
# first), or when TIMEOUT_SECONDS pass.
wait_for_new_workers() {
  local deadline now pid fresh stale emerg="" last_emerg="" quiet_since=0
  deadline=$(($(now_ms) + timeout_s * 1000))
  while :; do
    fresh=0
    stale=0
    for pid in $(accepting_workers "$master"); do
      if [[ "$old_workers" == *" $pid "* ]]; then stale=1; else fresh=1; fi
    done
    [[ "$fresh" -eq 1 && "$stale" -eq 0 ]] && return 0
    now=$(now_ms)
    emerg="$(emerg_since_signal)"
    if [[ -n "$emerg" ]]; then
      if [[ "$emerg" != "$last_emerg" ]]; then
        last_emerg="$emerg"
        quiet_since="$now"
      elif [[ "$fresh" -eq 0 && $((now - quiet_since)) -ge 1000 ]]; then
        printf '%s\n' "$emerg" >&2
        log "nginx rejected the reload (${reload_cmd[*]})"
        return 1
      fi
    fi
    if [[ "$now" -ge "$deadline" ]]; then
      [[ -z "$emerg" ]] || printf '%s\n' "$emerg" >&2
      [[ -r "$error_log" ]] || log "cannot read $error_log for nginx's reason"
      log "nginx (master $master) still had workers of its previous configuration accepting connections ${timeout_s} s after the reload (${reload_cmd[*]})"
      return 1
    fi
    sleep 0.02
  done
}

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

# The master's pid, and the workers that accept connections now: the reload has taken
# effect once none of them does (nginx starts the new workers, then tells the old ones
# to stop accepting: ngx_master_process_cycle in src/os/unix/ngx_process_cycle.c).
master="$(head -c 32 -- "$pid_file" 2>/dev/null | tr -d '[:space:]')" || master=""
if [[ ! "$master" =~ ^[0-9]+$ || ! -d "/proc/$master" ]]; then
  [[ "$swapped" -eq 0 ]] || restore
  log "no running nginx master in $pid_file; restored previous $target, nginx not reloaded"
  exit 1
fi
old_workers=" $(accepting_workers "$master" | tr '\n' ' ')"
log_offset=-1
[[ -r "$error_log" ]] && log_offset="$(stat -c %s -- "$error_log")"

if ! reload_out="$("${reload_cmd[@]}" 2>&1)"; then
  [[ "$swapped" -eq 0 ]] || restore
  printf '%s\n' "$reload_out" >&2
  log "reload failed (${reload_cmd[*]}); restored previous $target"
  exit 1
fi

if ! wait_for_new_workers; then
  # The master keeps serving the configuration it had, which the restored file is part of.
  [[ "$swapped" -eq 0 ]] || restore
  if [[ "$changed" -eq 1 ]]; then
    log "restored previous $target; nginx keeps serving its previous configuration"
  fi
  exit 1
fi
done_ok=1

if [[ "$changed" -eq 1 ]]; then
  log "$target updated and nginx reloaded (new workers serving)"
else
  log "$target unchanged; nginx config tested and reloaded (new workers serving)"
fi
