#!/usr/bin/env bash
# Remove old release compose files and images after a deploy: keep the newest KEEP release
# files (and whatever docker-compose.yml / docker-compose.prepared.yml point at), the images
# they name, and every image any container uses (running or not, any color, worker or track).
# Only tags of the given repositories are removed, with `docker rmi` without --force.
# usage: prune.sh DIR KEEP   (the repositories on stdin, one per line)
#   The repositories are data, not part of the command, so preparing a color on a new
#   repository does not change (and so run) the prune step: it runs after deploys only.
set -euo pipefail

readonly PROG="prune"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage() {
  printf '%s: usage: %s.sh DIR KEEP  (KEEP >= 1; repositories on stdin, one per line)\n' "$PROG" "$PROG" >&2
  exit 2
}

[[ "$#" -eq 2 && -n "$1" && "$2" =~ ^[1-9][0-9]*$ ]] || usage
dir="$1"
keep="$2"
repos=()
while IFS= read -r repo; do
  [[ -z "$repo" ]] && continue
  # Docker's repository grammar: lowercase path components, an optional registry host[:port].
  if [[ ! "$repo" =~ ^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]]; then
    log "not a repository on stdin: $repo"
    exit 2
  fi
  repos+=("$repo")
done
[[ "${#repos[@]}" -gt 0 ]] || usage

# 1. Release files, oldest first (stamps are UTC date-times: name order is time order).
mapfile -t files < <(find "$dir/releases" -maxdepth 1 -type f -name 'docker-compose.*.yml' -printf '%f\n' 2>/dev/null | sort)
declare -A kept_files=()
first=$(( ${#files[@]} > keep ? ${#files[@]} - keep : 0 ))
for ((i = first; i < ${#files[@]}; i++)); do
  kept_files["${files[$i]}"]=1
done
for link in docker-compose.yml docker-compose.prepared.yml; do
  if [[ -L "$dir/$link" ]]; then
    target="$(readlink -- "$dir/$link")"
    kept_files["${target##*/}"]=1
  fi
done

# 2. Images to keep: named in a kept release file, or used by any container.
declare -A keep_refs=()
for f in "${!kept_files[@]}"; do
  [[ -f "$dir/releases/$f" ]] || continue
  while IFS= read -r ref; do
    keep_refs["$ref"]=1
  done < <(sed -nE 's/^[[:space:]]*image:[[:space:]]*"?([^"$[:space:]]+)"?[[:space:]]*$/\1/p' "$dir/releases/$f")
done
declare -A used_ids=()
mapfile -t containers < <(docker ps -aq)
if [[ "${#containers[@]}" -gt 0 ]]; then
  while IFS= read -r id; do
    used_ids["$id"]=1
  done < <(docker inspect --format '{{.Image}}' "${containers[@]}")
fi

removed_files=0
for f in "${files[@]}"; do
  [[ -n "${kept_files[$f]:-}" ]] && continue
  rm -f -- "$dir/releases/$f"
  removed_files=$((removed_files + 1))
done

removed_images=0
for repo in "${repos[@]}"; do
  while read -r ref id; do
    [[ "$ref" == *":<none>" ]] && continue
    [[ -n "${keep_refs[$ref]:-}" || -n "${used_ids[$id]:-}" ]] && continue
    if docker rmi -- "$ref" >/dev/null 2>&1; then
      removed_images=$((removed_images + 1))
      log "removed image $ref"
    else
      log "kept image $ref (docker rmi refused it)"
    fi
  done < <(docker image ls --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' -- "$repo")
done
log "kept ${#kept_files[@]} release files in $dir/releases (removed $removed_files), removed $removed_images images"
