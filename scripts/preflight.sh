#!/usr/bin/env bash
# Check, without changing anything, that this server has what a rollout needs. The program
# runs it as the first step on every server (`bash -s -- ARGS` with this file on stdin, so
# nothing has to be uploaded first) and every other step on the servers waits for it.
# Prints one line per missing thing and exits 1 if anything is missing.
#
# usage: preflight.sh --dir DIR [--dir DIR...] --conf-dir DIR --nginx-root DIR
#                     --mode state|lua|reload --test WORDS --reload WORDS
#                     [--min-free-mb N] [--no-docker]
#   --dir         a directory the ssh user must be able to write (the server dir, track dirs)
#   --conf-dir    nginx.confDir: writable, and included by nginx (`include DIR/*.conf;`)
#   --nginx-root  the nginx configuration tree searched for that include (and load_module)
#   --mode state  nginx must load ngx_http_js_module (the njs router)
#   --mode lua    nginx must load ngx_http_lua_module (the LuaJIT router)
#   --test/--reload  nginx.test / nginx.reload, plain words; with `sudo` first, `sudo -n -l`
#                 must allow them without a password
#   --min-free-mb free space needed where Docker keeps its images (default 2048)
#   --no-docker   an edge host: no Docker checks
set -euo pipefail

readonly PROG="preflight"
usage() {
  printf '%s: usage: preflight.sh --dir DIR... --conf-dir DIR --nginx-root DIR --mode state|lua|reload --test WORDS --reload WORDS [--min-free-mb N] [--no-docker]\n' "$PROG" >&2
  exit 2
}

dirs=()
conf_dir=""
nginx_root=""
mode=""
test_words=""
reload_words=""
min_free_mb=2048
docker_checks=1
while [[ "$#" -gt 0 ]]; do
  case "$1" in
    --dir) [[ "$#" -ge 2 ]] || usage; dirs+=("$2"); shift 2 ;;
    --conf-dir) [[ "$#" -ge 2 ]] || usage; conf_dir="$2"; shift 2 ;;
    --nginx-root) [[ "$#" -ge 2 ]] || usage; nginx_root="$2"; shift 2 ;;
    --mode) [[ "$#" -ge 2 ]] || usage; mode="$2"; shift 2 ;;
    --test) [[ "$#" -ge 2 ]] || usage; test_words="$2"; shift 2 ;;
    --reload) [[ "$#" -ge 2 ]] || usage; reload_words="$2"; shift 2 ;;
    --min-free-mb) [[ "$#" -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; min_free_mb="$2"; shift 2 ;;
    --no-docker) docker_checks=0; shift ;;
    *) usage ;;
  esac
done
[[ "${#dirs[@]}" -gt 0 && "$conf_dir" == /* && "$nginx_root" == /* && -n "$test_words" && -n "$reload_words" ]] || usage
[[ "$mode" == "state" || "$mode" == "lua" || "$mode" == "reload" ]] || usage

user="$(id -un)"
problems=0
missing() {
  printf '%s: %s: %s\n' "$PROG" "$1" "$2" >&2
  problems=$((problems + 1))
}

# 1. Tools the scripts use.
for tool in curl flock mktemp perl; do
  command -v "$tool" >/dev/null 2>&1 || missing "tools" "$tool is not installed (apt-get install curl util-linux coreutils perl-base)"
done

# 2. Docker reachable by this user, and room for a pull.
if [[ "$docker_checks" -eq 1 ]]; then
  docker_root=/var/lib/docker
  if ! command -v docker >/dev/null 2>&1; then
    missing "docker" "the docker CLI is not installed (apt-get install docker.io)"
  elif ! err="$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null)"; then
    missing "docker" "$user cannot reach the Docker daemon ($(printf '%s' "$err" | head -n 1 | cut -c1-160)); add it to the docker group: usermod -aG docker $user"
  else
    docker_root="$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"
  fi
  if free_kb="$(df -Pk -- "$docker_root" 2>/dev/null | awk 'NR == 2 { print $4 }')" && [[ "$free_kb" =~ ^[0-9]+$ ]]; then
    if (( free_kb / 1024 < min_free_mb )); then
      missing "disk" "$((free_kb / 1024)) MiB free for images in $docker_root; a pull needs $min_free_mb MiB (portal:preflight.minFreeMb)"
    fi
  else
    missing "disk" "cannot read the free space of $docker_root"
  fi
fi

# 3. Directories the steps write, writable by this user (bootstrap-server.sh creates them).
for d in "${dirs[@]}" "$conf_dir"; do
  if [[ ! -d "$d" ]]; then
    # A missing directory is fine when the setup step can create it (its parent is writable).
    parent="$(dirname -- "$d")"
    while [[ ! -d "$parent" ]]; do parent="$(dirname -- "$parent")"; done
    if [[ ! -w "$parent" || ! -x "$parent" ]]; then
      missing "directory" "$d does not exist and $user cannot create it (bootstrap-server.sh --dir $d: install -d -o $user $d)"
    fi
  elif [[ ! -w "$d" || ! -x "$d" ]]; then
    missing "directory" "$d is not writable by $user (owner $(stat -c %U -- "$d"))"
  fi
done

# 4. nginx reads the generated files, and loads njs in state mode. The whole configuration
# tree is read, comments dropped and blanks squeezed, so `include X/*.conf ;` matches too.
conf_lines() {
  grep -Rhs -- "" "$nginx_root" 2>/dev/null |
    sed -E 's/#.*//; s/[[:space:]]+/ /g; s/^ //; s/ $//; s/ ;$/;/' || true
}
if [[ ! -d "$nginx_root" ]]; then
  missing "nginx" "no nginx configuration in $nginx_root (apt-get install nginx)"
else
  lines="$(conf_lines)"
  if ! grep -Fxq -- "include $conf_dir/*.conf;" <<<"$lines"; then
    missing "nginx" "no 'include $conf_dir/*.conf;' in the http block of the configuration in $nginx_root"
  fi
  # need_module WHAT MODULE PACKAGE: nginx loads MODULE (an existing file) for this mode's router.
  need_module() {
    local what="$1" name="$2" package="$3" module so
    module="$(grep -E "^load_module [^ ]*${name//./\\.};\$" <<<"$lines" | head -n 1 || true)"
    if [[ -z "$module" ]]; then
      missing "$what" "nginx does not load ${name%.so}, which $mode mode needs (apt-get install $package, or portal:nginx.mode reload)"
      return
    fi
    so="${module#load_module }"
    so="${so%;}"
    if [[ "$so" == /* && ! -f "$so" ]]; then
      missing "$what" "nginx loads $so, which does not exist (apt-get install $package)"
    fi
  }
  case "$mode" in
    state) need_module "njs" "ngx_http_js_module.so" "libnginx-mod-http-js" ;;
    lua) need_module "lua" "ngx_http_lua_module.so" "libnginx-mod-http-lua" ;;
  esac
fi

# 5. The test and reload commands run without a password prompt (the steps have no terminal).
check_command() {
  local what="$1" words="$2"
  local -a argv
  read -r -a argv <<<"$words" || true
  if [[ "${argv[0]}" == "sudo" ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      missing "sudo" "sudo is not installed, and portal:nginx.$what is '$words' (apt-get install sudo)"
    elif ! sudo -n -l -- "${argv[@]:1}" >/dev/null 2>&1; then
      missing "sudo" "$user may not run '${argv[*]:1}' with sudo without a password (portal:nginx.$what; bootstrap-server.sh writes the NOPASSWD rule)"
    fi
  elif ! command -v "${argv[0]}" >/dev/null 2>&1; then
    missing "nginx" "portal:nginx.$what runs ${argv[0]}, which is not on $user's PATH"
  fi
}
check_command test "$test_words"
check_command reload "$reload_words"

if [[ "$problems" -gt 0 ]]; then
  printf '%s: %d missing on %s for %s; nothing was changed (see scripts/bootstrap-server.sh)\n' "$PROG" "$problems" "$(hostname)" "$user" >&2
  exit 1
fi
printf '%s: ok on %s for %s\n' "$PROG" "$(hostname)" "$user"
