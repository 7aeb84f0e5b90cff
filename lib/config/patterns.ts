// The grammars every value must match before it reaches a shell command, a file path,
// a Docker reference or an nginx file. Anything outside them is refused, not escaped.

/** Server names and worker roles: also used in resource names and container names. */
export const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** An OpenSSH public key line as in known_hosts after the host field: type, base64 key, no comment. */
export const SSH_HOST_KEY = /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+\/]{16,}={0,3}$/;

/** A registry host[:port] as it prefixes an image repository (registry.gitlab.com, localhost:5000). */
export const REGISTRY_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/;

/** A DNS hostname or a dotted IPv4 address. */
export const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** Track names: nginx variable prefixes ($py3_live) and file name prefixes; not the reserved main/edge/portal. */
export const TRACK_NAME = /^(?!(?:main|edge|portal)$)[a-z][a-z0-9]{0,15}$/;

/** Color names of a track (red, black, ...). */
export const COLOR_NAME = /^[a-z][a-z0-9]{0,15}$/;

export const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Docker's tag grammar. */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A release's tag: Docker's tag grammar, optionally pinned to a digest (`2020.08.07-1@sha256:<64 hex>`). */
export const TAG_REFERENCE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?$/;

const DOMAIN_PART = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const PATH_PART = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
/** Docker's repository grammar: optional registry host[:port]/, then lowercase path parts; no tag, no digest. */
export const IMAGE_REPOSITORY = new RegExp(
    `^(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?/)?${PATH_PART}(?:/${PATH_PART})*$`,
);

/** A repository with a tag, e.g. nginx:1.27-alpine. */
export const IMAGE_WITH_TAG = new RegExp(`${IMAGE_REPOSITORY.source.slice(0, -1)}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`);

/** An absolute path without '..' segments, empty segments or characters a shell or nginx would interpret. */
export const ABSOLUTE_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))(?!.*\/\/)\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** The path part of a health URL. */
export const URL_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

/** A command given as plain words (nginx test and reload): split on single spaces, never interpreted by a shell. */
export const COMMAND_WORDS = /^[A-Za-z0-9_.\/=:@-]+(?: [A-Za-z0-9_.\/=:@-]+)*$/;

/** One argv word; it is shell-quoted before use, so only newline and NUL are refused. */
export const ARGV_WORD = /^[^\n\r\0]+$/;

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_VALUE = /^[^\n\r\0]*$/;

/** An nginx variable suffix such as a cookie name ($cookie_NAME). */
export const NGINX_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A percentage with at most two decimals. */
export const PERCENT = /^\d{1,3}(?:\.\d{1,2})?$/;

/** The stamp the release helper writes when it prepares a mutable tag (UTC, like the release stamp). */
export const PULL_STAMP = /^\d{8}-\d{6}$/;
