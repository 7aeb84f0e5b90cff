#!/usr/bin/env bash
# Set a fresh Debian 12 server up for portal rollouts. Run it once, as root (sudo), on
# each server; it is idempotent, so running it again repairs what is missing. Afterwards
# the program's preflight step (scripts/preflight.sh) passes on the server.
#
# usage: sudo bootstrap-server.sh [options]
#   --user NAME          the ssh user the program logs in as (portal:ssh.user; default deploy)
#   --authorized-key F   a public key file to allow for that user (key auth only)
#   --dir DIR            a directory the user owns (portal:dir; repeat for track and edge dirs;
#                        default /srv/portal)
#   --conf-dir DIR       portal:nginx.confDir (default /etc/nginx/portal)
#   --nginx-root DIR     the nginx configuration tree (portal:nginx.configRoot; default /etc/nginx)
#   --mode state|lua|reload  portal:nginx.mode (default state: njs is enabled; lua: Debian's
#                        libnginx-mod-http-lua, which enables itself)
#   --test WORDS         portal:nginx.test (default 'sudo nginx -t')
#   --reload WORDS       portal:nginx.reload (default 'sudo nginx -s reload')
#   --sudoers FILE       where the NOPASSWD rule goes (default /etc/sudoers.d/portal-<user>)
#   --install-packages   apt-get install what is missing (docker.io nginx curl sudo ...)
#   --no-docker          an edge host: nginx only
#   --skip-nginx-test    do not run the test command at the end (nginx not started yet)
set -euo pipefail

readonly PROG="bootstrap-server"
log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() {
  sed -n '/^# usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" 2>/dev/null | sed '$d; s/^# \{0,1\}//' >&2 || true
  exit 2
}

user=deploy
key_file=""
dirs=()
conf_dir=/etc/nginx/portal
nginx_root=/etc/nginx
mode=state
test_words="sudo nginx -t"
reload_words="sudo nginx -s reload"
sudoers=""
install_packages=0
docker_host=1
nginx_test=1
while [[ "$#" -gt 0 ]]; do
  case "$1" in
    --user) [[ "$#" -ge 2 ]] || usage; user="$2"; shift 2 ;;
    --authorized-key) [[ "$#" -ge 2 ]] || usage; key_file="$2"; shift 2 ;;
    --dir) [[ "$#" -ge 2 ]] || usage; dirs+=("$2"); shift 2 ;;
    --conf-dir) [[ "$#" -ge 2 ]] || usage; conf_dir="$2"; shift 2 ;;
    --nginx-root) [[ "$#" -ge 2 ]] || usage; nginx_root="$2"; shift 2 ;;
    --mode) [[ "$#" -ge 2 ]] || usage; mode="$2"; shift 2 ;;
    --test) [[ "$#" -ge 2 ]] || usage; test_words="$2"; shift 2 ;;
    --reload) [[ "$#" -ge 2 ]] || usage; reload_words="$2"; shift 2 ;;
    --sudoers) [[ "$#" -ge 2 ]] || usage; sudoers="$2"; shift 2 ;;
    --install-packages) install_packages=1; shift ;;
    --no-docker) docker_host=0; shift ;;
    --skip-nginx-test) nginx_test=0; shift ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
[[ "${#dirs[@]}" -gt 0 ]] || dirs=(/srv/portal)
[[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user $user is not a valid user name"
[[ "$mode" == "state" || "$mode" == "lua" || "$mode" == "reload" ]] || die "--mode must be state, lua or reload"
for d in "${dirs[@]}" "$conf_dir" "$nginx_root"; do
  [[ "$d" == /* && "$d" != *[[:space:]]* ]] || die "$d: directories must be absolute paths without spaces"
done
sudoers="${sudoers:-/etc/sudoers.d/portal-$user}"
[[ "$(id -u)" -eq 0 ]] || die "run as root (sudo $0 ...)"

readonly NJS_SO=/usr/lib/nginx/modules/ngx_http_js_module.so

# 1. Packages. Debian 12: docker.io (daemon and CLI), nginx, njs, and the tools the
# server-side scripts use (bash, curl, flock from util-linux, sudo; perl-base is Essential).
packages=(nginx curl util-linux sudo)
[[ "$docker_host" -eq 0 ]] || packages+=(docker.io)
[[ "$mode" != "state" ]] || packages+=(libnginx-mod-http-js)
[[ "$mode" != "lua" ]] || packages+=(libnginx-mod-http-lua)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [[ "${#need[@]}" -gt 0 ]]; then
  if [[ "$install_packages" -eq 1 ]]; then
    log "apt-get install ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  else
    die "missing packages: ${need[*]} (apt-get install ${need[*]}, or run with --install-packages)"
  fi
fi

# 2. The ssh user: key login only (password '*': no password works, the account is not locked).
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --user-group "$user"
  usermod -p '*' "$user"
  log "created user $user (key login only)"
fi
group="$(id -gn "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
if [[ -n "$key_file" ]]; then
  install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"
  touch "$home/.ssh/authorized_keys"
  key="$(head -n 1 -- "$key_file")"
  grep -qxF -- "$key" "$home/.ssh/authorized_keys" || printf '%s\n' "$key" >>"$home/.ssh/authorized_keys"
  chown "$user:$group" "$home/.ssh/authorized_keys"
  chmod 0600 "$home/.ssh/authorized_keys"
  log "authorized key from $key_file for $user"
fi

# 3. Docker without sudo: the docker provider and the scripts run `docker` as the ssh user.
if [[ "$docker_host" -eq 1 ]]; then
  getent group docker >/dev/null || die "no docker group (is docker.io installed?)"
  usermod -aG docker "$user"
  log "$user is in the docker group"
fi
# The switch scripts read nginx's error log for the reason of a rejected reload (Debian:
# /var/log/nginx/*.log are group adm).
if getent group adm >/dev/null; then
  usermod -aG adm "$user"
  log "$user is in the adm group (reads nginx's error log)"
fi

# 4. Directories the steps write, owned by the user; 0755 so nginx's workers can read the
# njs router in <dir>/scripts and the master the generated files.
for d in "${dirs[@]}"; do
  install -d -m 0755 -o "$user" -g "$group" "$d" "$d/releases"
done
install -d -m 0755 -o "$user" -g "$group" "$conf_dir"
log "directories ${dirs[*]} $conf_dir owned by $user"

# 5. sudo without a password for exactly the test and reload commands (nothing else).
sudo_rule() {
  local words="$1" path
  local -a argv
  read -r -a argv <<<"$words"
  [[ "${argv[0]}" == "sudo" && "${#argv[@]}" -ge 2 ]] || return 0
  path="$(command -v -- "${argv[1]}")" || die "${argv[1]} (from '$words') is not installed"
  # sudoers needs escapes for , : = and \ in arguments; the program's command words never
  # contain , or \ (portal:nginx.test/reload grammar).
  local rest=("${argv[@]:2}")
  local line="$path${rest[*]:+ ${rest[*]}}"
  line="${line//:/\\:}"
  line="${line//=/\\=}"
  printf '%s' "$line"
}
rules=()
for words in "$test_words" "$reload_words"; do
  r="$(sudo_rule "$words")"
  [[ -z "$r" ]] || rules+=("$r")
done
if [[ "${#rules[@]}" -gt 0 ]]; then
  tmp="$(mktemp)"
  trap 'rm -f -- "$tmp"' EXIT
  {
    printf '# Written by portal bootstrap-server.sh: %s may test and reload nginx, nothing else.\n' "$user"
    printf '%s ALL=(root) NOPASSWD: %s\n' "$user" "$(IFS=,; printf '%s' "${rules[*]}" | sed 's/,/, /g')"
  } >"$tmp"
  visudo -cqf "$tmp" || die "the sudoers rule does not parse: $(cat "$tmp")"
  install -m 0440 -o root -g root "$tmp" "$sudoers"
  log "sudoers rule in $sudoers: $(tail -n 1 "$sudoers")"
fi

# 6. nginx: njs loaded (state mode) and the include of the generated files in the http block.
# Both go into files of their own (modules-enabled/, conf.d/), which Debian's nginx.conf includes.
normalized() {
  grep -Rhs -- "" "$nginx_root" 2>/dev/null | sed -E 's/#.*//; s/[[:space:]]+/ /g; s/^ //; s/ $//; s/ ;$/;/' || true
}
# Not `normalized | grep -q`: with pipefail, grep -q exiting early would fail the pipeline.
has_line() {
  local conf
  conf="$(normalized)"
  grep -Eq -- "$1" <<<"$conf"
}
if [[ "$mode" == "state" ]] && ! has_line '^load_module [^ ]*ngx_http_js_module\.so;$'; then
  [[ -f "$NJS_SO" ]] || die "njs module $NJS_SO missing (apt-get install libnginx-mod-http-js)"
  has_line "^include $nginx_root/modules-enabled/\*\.conf;$" ||
    die "$nginx_root has no 'include $nginx_root/modules-enabled/*.conf;': add 'load_module $NJS_SO;' at the top of nginx.conf by hand"
  install -d -m 0755 "$nginx_root/modules-enabled"
  printf 'load_module %s;\n' "$NJS_SO" >"$nginx_root/modules-enabled/50-portal-njs.conf"
  log "njs enabled: $nginx_root/modules-enabled/50-portal-njs.conf"
fi
if [[ "$mode" == "lua" ]] && ! has_line '^load_module [^ ]*ngx_http_lua_module\.so;$'; then
  die "nginx does not load ngx_http_lua_module: Debian's libnginx-mod-http-lua enables it in $nginx_root/modules-enabled; reinstall it, or add its load_module lines by hand"
fi
if ! has_line "^include $conf_dir/\*\.conf;$"; then
  has_line "^include $nginx_root/conf\.d/\*\.conf;$" ||
    die "$nginx_root has no 'include $nginx_root/conf.d/*.conf;': add 'include $conf_dir/*.conf;' to the http block by hand"
  install -d -m 0755 "$nginx_root/conf.d"
  printf '# Written by portal bootstrap-server.sh: the files the portal program generates.\ninclude %s/*.conf;\n' "$conf_dir" >"$nginx_root/conf.d/portal.conf"
  log "nginx includes $conf_dir/*.conf ($nginx_root/conf.d/portal.conf)"
fi
if [[ "$nginx_test" -eq 1 ]]; then
  read -r -a argv <<<"$test_words"
  [[ "${argv[0]}" != "sudo" ]] || argv=("${argv[@]:1}")
  "${argv[@]}" || die "'${argv[*]}' fails: fix the nginx configuration"
fi

# 7. What the operator does on their machine: trust this host key (the docker provider runs
# ssh with BatchMode=yes, so an unknown key fails the first pull).
log "done. On the operator's machine add this server's key to ~/.ssh/known_hosts, e.g.:"
pub=/etc/ssh/ssh_host_ed25519_key.pub
if [[ -r "$pub" ]]; then
  log "  ssh-keyscan -t ed25519 $(hostname -f 2>/dev/null || hostname) >> ~/.ssh/known_hosts   # expect: $(cut -d' ' -f1,2 "$pub")"
fi
log "then check it: the first step of 'pulumi up' (<server>-preflight) runs scripts/preflight.sh there"
