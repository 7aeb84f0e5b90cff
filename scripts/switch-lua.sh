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

# GET /sync over the control socket. Not curl: its start (33 shared libraries, TLS init) was
# ~7 ms of CPU, a third of this script's (README, "lua" mode); perl-base is Essential in
# Debian (on every server) and its builtins open a unix socket with no module to load
# (~2 ms). AF_UNIX is 1 on Linux; SOCK_STREAM is 1, except on MIPS (2). The answer (HTTP/1.0:
# nginx closes the connection after it) is printed if nginx says 200, else exit 1.
stream=1
[[ "$HOSTTYPE" != mips* ]] || stream=2
if ! served="$(perl -e '
  my ($path, $route, $stream) = @ARGV;
  $SIG{ALRM} = sub { print "no answer within 10 s"; exit 1 };
  alarm 10;
  socket(my $s, 1, $stream, 0) or do { print "socket: $!"; exit 1 };
  connect($s, pack("S Z108", 1, $path)) or do { print "connect: $!"; exit 1 };
  syswrite($s, "GET /sync?route=$route HTTP/1.0\r\nHost: portal-router\r\n\r\n") or do { print "write: $!"; exit 1 };
  my ($r, $n) = ("", 0);
  while ($n = sysread($s, $r, 65536, length $r)) {}
  defined $n or do { print "read: $!"; exit 1 };
  my ($status, $body) = $r =~ m{\AHTTP/1\.[01] ([0-9]{3})[^\r\n]*\r\n.*?\r\n\r\n(.*)\z}s or do { print "not an HTTP answer: $r"; exit 1 };
  print $status eq "200" ? $body : "HTTP $status: $body";
  exit($status eq "200" ? 0 : 1);
' -- "$socket" "$route" "$stream")"; then
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
