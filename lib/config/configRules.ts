// One reader per config key: each checks its value, reports problems under the key's
// full name with the allowed values, and returns a typed value (a placeholder when bad;
// `validateConfig` throws before any placeholder is used).

import type {
    AppConfig,
    CanaryRoutingConfig,
    Color,
    EdgeConfig,
    NginxConfig,
    NginxSiteConfig,
    PreviousRelease,
    RegistryConfig,
    PreflightConfig,
    PruneConfig,
    ReleaseConfig,
    ServerConfig,
    SshConfig,
    TrackConfig,
    WorkerConfig,
} from "./config";
import type { Problems } from "./configError";
import { DEFAULT_KEEPALIVE } from "../nginx/nginxRoutes";
import * as pattern from "./patterns";
import { ROUTE_MODE_NAMES } from "../nginx/routeModes";

/** The default switching mode (the first of ROUTE_MODE_NAMES): see the README's measurements for why. */
export const DEFAULT_ROUTE_MODE = "state";

const COLOR_LIST: readonly Color[] = ["blue", "green"];

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads an object value and reports keys it does not know (`known` null: free-form keys). */
export function object(p: Problems, path: string, value: unknown, known: readonly string[] | null, required = true): Obj {
    if (value === undefined && !required) {
        return {};
    }
    if (!isObject(value)) {
        p.add(path, known === null ? "must be an object" : `must be an object with keys: ${known.join(", ")}`);
        return {};
    }
    for (const key of known === null ? [] : Object.keys(value)) {
        if (!known!.includes(key)) {
            p.add(`${path}.${key}`, `is not a known key; allowed: ${known!.join(", ")}`);
        }
    }
    return value;
}

export function matching(p: Problems, path: string, value: unknown, re: RegExp, allowed: string): string {
    if (typeof value !== "string" || !re.test(value)) {
        p.add(path, `is ${describe(value)}; allowed: ${allowed}`);
        return "";
    }
    return value;
}

export function oneOf<T extends string>(p: Problems, path: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        p.add(path, `is ${describe(value)}; allowed: ${allowed.join(", ")}`);
        return allowed[0];
    }
    return value as T;
}

/** An integer in [min, max]; numeric strings are accepted since `pulumi config set --path` may store them. */
export function integer(p: Problems, path: string, value: unknown, min: number, max: number): number {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        p.add(path, `is ${describe(value)}; allowed: an integer from ${min} to ${max}`);
        return min;
    }
    return n;
}

export function absolutePath(p: Problems, path: string, value: unknown): string {
    return matching(p, path, value, pattern.ABSOLUTE_PATH, "an absolute path of letters, digits, '.', '_', '-' and '/', without '..'");
}

export function image(p: Problems, path: string, value: unknown): string {
    return matching(p, path, value, pattern.IMAGE_REPOSITORY, "a Docker image repository without tag or digest, e.g. registry.example.com/portal");
}

function words(p: Problems, path: string, value: unknown, required: boolean): string[] {
    if (value === undefined && !required) {
        return [];
    }
    if (!Array.isArray(value) || (required && value.length === 0)) {
        p.add(path, `is ${describe(value)}; allowed: a ${required ? "non-empty " : ""}list of strings (one argv word each)`);
        return [];
    }
    value.forEach((word, i) => matching(p, `${path}[${i}]`, word, pattern.ARGV_WORD, "a non-empty string without newline or NUL"));
    return value as string[];
}

/** A tag names a moving target when it has no digest and no digit (latest, stable, main), or the config lists it as mutable. */
export function isMutableTag(tag: string, mutableTags: readonly string[]): boolean {
    return !tag.includes("@") && (mutableTags.includes(tag) || !/[0-9]/.test(tag));
}

/** The tags the config allows to be re-pushed (portal:mutableTags). */
export function mutableTags(p: Problems, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        p.add("mutableTags", `is ${describe(value)}; allowed: a list of Docker tags that may be re-pushed, e.g. [latest]`);
        return [];
    }
    value.forEach((tag, i) => matching(p, `mutableTags[${i}]`, tag, pattern.DOCKER_TAG, "a Docker tag without digest: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"));
    return value as string[];
}

function releaseTag(p: Problems, path: string, value: unknown, mutable: readonly string[]): string {
    const tag = matching(p, path, value, pattern.TAG_REFERENCE, "a Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, optionally pinned as <tag>@sha256:<64 lowercase hex>");
    if (tag !== "" && isMutableTag(tag, []) && !mutable.includes(tag)) {
        p.add(
            path,
            `is ${JSON.stringify(tag)}, a tag that names no version and can be re-pushed (a server that has it never pulls it again); allowed: a versioned tag, the tag pinned to a digest (${tag}@sha256:<64 hex>), or ${tag} listed in portal:mutableTags to pull it again on every prepare`,
        );
    }
    return tag;
}

export function release(p: Problems, path: string, value: unknown, colors: readonly Color[], mutable: readonly string[] = []): ReleaseConfig {
    const r = object(p, path, value, ["tags", "images", "env", "live", "passive", "canary", "previous", "pulled"]);
    const rawImages = object(p, `${path}.images`, r.images, colors, false);
    const images: Partial<Record<Color, string>> = {};
    for (const color of colors) {
        if (rawImages[color] !== undefined) images[color] = image(p, `${path}.images.${color}`, rawImages[color]);
    }
    const rawTags = object(p, `${path}.tags`, r.tags, colors);
    const tags: Record<Color, string> = {};
    for (const color of colors) {
        if (rawTags[color] !== undefined) {
            tags[color] = releaseTag(p, `${path}.tags.${color}`, rawTags[color], mutable);
        }
    }
    const live = oneOf(p, `${path}.live`, r.live, colors);
    const passive = r.passive === undefined ? live : oneOf(p, `${path}.passive`, r.passive, colors);
    if (p.clean(`${path}.live`, `${path}.tags.${live}`) && rawTags[live] === undefined) {
        p.add(`${path}.tags.${live}`, `is missing; the live color ${live} needs a tag`);
    }
    if (p.clean(`${path}.live`, `${path}.passive`, `${path}.tags.${passive}`) && passive !== live && rawTags[passive] === undefined) {
        p.add(`${path}.tags.${passive}`, `is missing; the passive color ${passive} needs a tag`);
    }
    const canary = r.canary === undefined ? 0 : percent(p, `${path}.canary`, r.canary);
    if (p.clean(`${path}.live`, `${path}.passive`) && canary > 0 && passive === live) {
        p.add(`${path}.canary`, `is ${canary} while ${path}.passive equals ${path}.live (${live}); allowed: 0 outside a rollout`);
    }
    const rawEnv = object(p, `${path}.env`, r.env, colors, false);
    const env: Partial<Record<Color, Record<string, string>>> = {};
    for (const color of colors) {
        if (rawEnv[color] !== undefined) env[color] = envMap(p, `${path}.env.${color}`, rawEnv[color], true);
    }
    const result: ReleaseConfig = { tags, ...(r.images === undefined ? {} : { images }), ...(r.env === undefined ? {} : { env }), live, passive, canary };
    if (r.previous !== undefined) result.previous = previousRelease(p, `${path}.previous`, r.previous, colors);
    if (r.pulled !== undefined) result.pulled = pulled(p, `${path}.pulled`, r.pulled, colors);
    return result;
}

/** `previous`: written by the release helper; validated so a hand edit cannot feed a wrong rollback. */
function previousRelease(p: Problems, path: string, value: unknown, colors: readonly Color[]): PreviousRelease {
    const v = object(p, path, value, ["color", "tag", "by"]);
    return {
        color: oneOf(p, `${path}.color`, v.color, colors),
        tag: matching(p, `${path}.tag`, v.tag, pattern.TAG_REFERENCE, "a Docker tag, optionally <tag>@sha256:<64 hex>"),
        by: oneOf(p, `${path}.by`, v.by, ["deploy", "rollback"] as const),
    };
}

/** `pulled.<color>`: the UTC stamp of the last prepare of a mutable tag on that color. */
function pulled(p: Problems, path: string, value: unknown, colors: readonly Color[]): Record<Color, string> {
    const v = object(p, path, value, colors);
    const result: Record<Color, string> = {};
    for (const color of colors) {
        if (v[color] !== undefined) result[color] = matching(p, `${path}.${color}`, v[color], pattern.PULL_STAMP, "a UTC stamp YYYYMMDD-HHMMSS (written by the release helper's prepare)");
    }
    return result;
}

/** Extra tracks; their names become nginx variable prefixes and directory suffixes. */
export function tracks(p: Problems, value: unknown, defaults: { image: string; dir: string; mutableTags: readonly string[] }): TrackConfig[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        p.add("tracks", `is ${describe(value)}; allowed: a list of { name, colors, release, hostPorts, site, image?, dir?, retired? }`);
        return [];
    }
    const list = value.map((entry, i) => track(p, `tracks[${i}]`, entry, defaults));
    duplicates(list.map((t) => t.name)).forEach((name) => p.add("tracks", `names ${name} twice; allowed: unique names`));
    return list;
}

function track(p: Problems, path: string, value: unknown, defaults: { image: string; dir: string; mutableTags: readonly string[] }): TrackConfig {
    const t = object(p, path, value, ["name", "colors", "image", "release", "hostPorts", "site", "dir", "retired"]);
    const name = matching(p, `${path}.name`, t.name, pattern.TRACK_NAME, "lowercase letters and digits, starting with a letter, at most 16, not 'main' or 'edge'");
    let colors: [Color, Color] = ["", ""];
    if (!Array.isArray(t.colors) || t.colors.length !== 2 || t.colors[0] === t.colors[1]) {
        p.add(`${path}.colors`, `is ${describe(t.colors)}; allowed: two different color names, e.g. [red, black]`);
    } else {
        colors = [
            matching(p, `${path}.colors[0]`, t.colors[0], pattern.COLOR_NAME, "lowercase letters and digits, starting with a letter"),
            matching(p, `${path}.colors[1]`, t.colors[1], pattern.COLOR_NAME, "lowercase letters and digits, starting with a letter"),
        ];
    }
    // The ports and release are keyed by the colors: without valid colors they cannot be read.
    const colorsKnown = p.clean(`${path}.colors`);
    const ports = colorsKnown ? object(p, `${path}.hostPorts`, t.hostPorts, colors) : {};
    const hostPorts: Record<Color, number> = {};
    if (colorsKnown) for (const c of colors) hostPorts[c] = integer(p, `${path}.hostPorts.${c}`, ports[c], 1, 65535);
    const retired = t.retired === undefined ? false : t.retired;
    if (typeof retired !== "boolean") p.add(`${path}.retired`, `is ${describe(retired)}; allowed: true, false`);
    const trackImage = t.image === undefined ? defaults.image : image(p, `${path}.image`, t.image);
    return {
        name,
        colors,
        image: trackImage,
        release: colorsKnown ? release(p, `${path}.release`, t.release, colors, defaults.mutableTags) : { tags: {}, live: "", passive: "", canary: 0 },
        hostPorts,
        site: site(p, `${path}.site`, t.site),
        dir: t.dir === undefined ? `${defaults.dir}-${name}` : absolutePath(p, `${path}.dir`, t.dir),
        retired: retired === true,
    };
}

export function edge(p: Problems, value: unknown, mainDir: string): EdgeConfig {
    const e = object(p, "edge", value, ["hosts", "listen", "split", "trackPorts", "dir"]);
    const hosts: { name: string; host: string; hostKey?: string }[] = [];
    if (!Array.isArray(e.hosts) || e.hosts.length === 0) {
        p.add("edge.hosts", `is ${describe(e.hosts)}; allowed: a non-empty list of { name, host }`);
    } else {
        e.hosts.forEach((entry, i) => {
            const h = object(p, `edge.hosts[${i}]`, entry, ["name", "host", "hostKey"]);
            hosts.push({
                name: matching(p, `edge.hosts[${i}].name`, h.name, pattern.NAME, "lowercase letters, digits and '-', starting with a letter"),
                host: host(p, `edge.hosts[${i}].host`, h.host),
                ...hostKey(p, `edge.hosts[${i}].hostKey`, h.hostKey),
            });
        });
        duplicates(hosts.map((h) => h.name)).forEach((name) => p.add("edge.hosts", `names ${name} twice; allowed: unique names`));
        duplicates(hosts.map((h) => h.host.toLowerCase())).forEach((address) => p.add("edge.hosts", `lists host ${address} twice; allowed: one entry per host (host names compare case-insensitively)`));
    }
    const listen = object(p, "edge.listen", e.listen, ["address", "port"]);
    const split = e.split === undefined ? undefined : object(p, "edge.split", e.split, ["track", "percent"]);
    const trackPorts = object(p, "edge.trackPorts", e.trackPorts, null, false);
    return {
        hosts,
        listen: {
            address: listen.address === undefined ? "0.0.0.0" : matching(p, "edge.listen.address", listen.address, pattern.IPV4, "an IPv4 address"),
            port: integer(p, "edge.listen.port", listen.port, 1, 65535),
        },
        split: split && {
            track: matching(p, "edge.split.track", split.track, pattern.TRACK_NAME, "a track name"),
            percent: split.percent === undefined ? 0 : percent(p, "edge.split.percent", split.percent, 100),
        },
        trackPorts: Object.fromEntries(Object.entries(trackPorts).map(([t, port]) => [t, integer(p, `edge.trackPorts.${t}`, port, 1, 65535)])),
        dir: e.dir === undefined ? `${mainDir}-edge` : absolutePath(p, "edge.dir", e.dir),
    };
}

/** A share with two decimals at most; a canary stops at 99.99 (100 is a deploy), an edge split may reach 100. */
function percent(p: Problems, path: string, value: unknown, max: 99.99 | 100 = 99.99): number {
    const text = typeof value === "number" ? String(value) : value;
    if (typeof text !== "string" || !pattern.PERCENT.test(text) || Number(text) > max) {
        const hint = max < 100 && Number(text) === 100 ? " (100% is a deploy: set release.live to the passive color)" : "";
        p.add(path, `is ${describe(value)}; allowed: a number from 0 to ${max} with at most two decimals${hint}`);
        return 0;
    }
    return Number(text);
}

export function servers(p: Problems, value: unknown, workerRoles: string[]): ServerConfig[] {
    if (!Array.isArray(value) || value.length === 0) {
        p.add("servers", `is ${describe(value)}; allowed: a non-empty list of { name, host, primary?, workers? }`);
        return [];
    }
    const list = value.map((entry, i) => server(p, `servers[${i}]`, entry, workerRoles));
    duplicates(list.map((s) => s.name)).forEach((name) => p.add("servers", `names ${name} twice; allowed: unique names`));
    duplicates(list.map((s) => s.host.toLowerCase())).forEach((address) => p.add("servers", `lists host ${address} twice; allowed: unique hosts (host names compare case-insensitively)`));
    const primaries = list.filter((s) => s.primary).map((s) => s.name);
    if (list.every((_, i) => p.clean(`servers[${i}].primary`)) && primaries.length !== 1) {
        p.add("servers", `has ${primaries.length} primary servers (${primaries.join(", ") || "none"}); allowed: exactly one with primary: true`);
    }
    return list;
}

function server(p: Problems, path: string, value: unknown, workerRoles: string[]): ServerConfig {
    const s = object(p, path, value, ["name", "host", "primary", "workers", "hostKey"]);
    const primary = s.primary === undefined ? false : s.primary;
    if (typeof primary !== "boolean") {
        p.add(`${path}.primary`, `is ${describe(primary)}; allowed: true, false`);
    }
    const workers = s.workers === undefined ? [] : s.workers;
    if (!Array.isArray(workers)) {
        p.add(`${path}.workers`, `is ${describe(workers)}; allowed: a list of roles defined in portal:workers`);
    } else if (p.clean("workers")) {
        workers.forEach((role, i) => {
            if (typeof role !== "string" || !workerRoles.includes(role)) {
                p.add(`${path}.workers[${i}]`, `is ${describe(role)}, a worker role with no command; allowed: ${workerRoles.join(", ") || "(portal:workers defines none)"}`);
            } else if (workers.indexOf(role) < i) {
                // Two containers <server>-<role> under one parent: one URN twice, which the engine refuses.
                p.add(`${path}.workers[${i}]`, `lists ${role} again (also workers[${workers.indexOf(role)}]); allowed: each role once per server`);
            }
        });
    }
    return {
        name: matching(p, `${path}.name`, s.name, pattern.NAME, "lowercase letters, digits and '-', starting with a letter, at most 63"),
        host: host(p, `${path}.host`, s.host),
        primary: primary === true,
        workers: Array.isArray(workers) ? (workers as string[]) : [],
        ...hostKey(p, `${path}.hostKey`, s.hostKey),
    };
}

/** An optional pinned ssh host key: `{ hostKey }` when set, `{}` when absent. */
function hostKey(p: Problems, path: string, value: unknown): { hostKey?: string } {
    if (value === undefined) return {};
    const allowed = "an OpenSSH public key 'TYPE BASE64' (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521), e.g. from `ssh-keyscan -t ed25519 HOST | cut -d' ' -f2-`";
    return { hostKey: matching(p, path, value, pattern.SSH_HOST_KEY, allowed) };
}

/** `portal:registry`: where the provider logs in to pull; the password is the secret `portal:registryPassword`. */
export function registry(p: Problems, value: unknown): RegistryConfig {
    const r = object(p, "registry", value, ["server", "username"]);
    return {
        server: matching(p, "registry.server", r.server, pattern.REGISTRY_HOST, "a registry host[:port] as in the image name, e.g. registry.gitlab.com"),
        username: matching(p, "registry.username", r.username, pattern.ENV_VALUE, "a user name without newline or NUL"),
    };
}

export function ssh(p: Problems, value: unknown): SshConfig {
    const s = object(p, "ssh", value, ["user", "port"], false);
    return {
        user: s.user === undefined ? "deploy" : matching(p, "ssh.user", s.user, pattern.UNIX_USER, "a Unix user name: [a-z_][a-z0-9_-]{0,31}"),
        port: s.port === undefined ? 22 : integer(p, "ssh.port", s.port, 1, 65535),
    };
}

export function preflight(p: Problems, value: unknown): PreflightConfig {
    const f = object(p, "preflight", value, ["minFreeMb"], false);
    return { minFreeMb: f.minFreeMb === undefined ? 2048 : integer(p, "preflight.minFreeMb", f.minFreeMb, 0, 1_000_000_000) };
}

export function prune(p: Problems, value: unknown): PruneConfig {
    const f = object(p, "prune", value, ["keep"], false);
    return { keep: f.keep === undefined ? 5 : integer(p, "prune.keep", f.keep, 1, 1000) };
}

/** A map of environment variables (app.env, release.env.<color>): NAME: value, no newline or NUL. */
export function envMap(p: Problems, path: string, value: unknown, required: boolean): Record<string, string> {
    const map = object(p, path, value, null, required);
    const env: Record<string, string> = {};
    for (const [key, v] of Object.entries(map)) {
        env[key] = matching(p, `${path}.${key}`, v, pattern.ENV_VALUE, "a string without newline or NUL");
        matching(p, `${path}.${key}`, key, pattern.ENV_NAME, "an environment variable name: [A-Za-z_][A-Za-z0-9_]*");
    }
    return env;
}

export function app(p: Problems, value: unknown): AppConfig {
    const a = object(p, "app", value, ["port", "healthPath", "hostPorts", "upstreamHost", "bindAddress", "env", "migrate", "healthTimeoutSeconds", "stopGraceSeconds"]);
    const ports = object(p, "app.hostPorts", a.hostPorts, COLOR_LIST);
    const hostPorts = {
        blue: integer(p, "app.hostPorts.blue", ports.blue, 1, 65535),
        green: integer(p, "app.hostPorts.green", ports.green, 1, 65535),
    };
    if (p.clean("app.hostPorts.blue", "app.hostPorts.green") && hostPorts.blue === hostPorts.green) {
        p.add("app.hostPorts", `gives blue and green the same port ${hostPorts.blue}; allowed: two different ports`);
    }
    const env = envMap(p, "app.env", a.env, false);
    return {
        port: integer(p, "app.port", a.port, 1, 65535),
        healthPath: matching(p, "app.healthPath", a.healthPath, pattern.URL_PATH, "a URL path starting with '/': letters, digits, '.', '_', '~', '-', '/'"),
        hostPorts,
        upstreamHost: a.upstreamHost === undefined ? "127.0.0.1" : host(p, "app.upstreamHost", a.upstreamHost),
        bindAddress: a.bindAddress === undefined ? "127.0.0.1" : matching(p, "app.bindAddress", a.bindAddress, pattern.IPV4, "an IPv4 address such as 127.0.0.1"),
        env,
        migrate: words(p, "app.migrate", a.migrate, false),
        healthTimeoutSeconds: a.healthTimeoutSeconds === undefined ? 120 : integer(p, "app.healthTimeoutSeconds", a.healthTimeoutSeconds, 1, 3600),
        stopGraceSeconds: a.stopGraceSeconds === undefined ? DEFAULT_STOP_GRACE_SECONDS : integer(p, "app.stopGraceSeconds", a.stopGraceSeconds, 0, 3600),
    };
}

/**
 * Default seconds between SIGTERM and SIGKILL when a container is removed: long enough for a
 * request or a djobs job in flight to finish (gunicorn's graceful timeout is 30 s).
 */
export const DEFAULT_STOP_GRACE_SECONDS = 30;

export function workers(p: Problems, value: unknown, defaultGrace: number): Record<string, WorkerConfig> {
    if (value === undefined) {
        return {};
    }
    if (!isObject(value)) {
        p.add("workers", `is ${describe(value)}; allowed: an object of role: { command: [...] }`);
        return {};
    }
    const result: Record<string, WorkerConfig> = {};
    for (const [role, spec] of Object.entries(value)) {
        matching(p, `workers.${role}`, role, pattern.NAME, "a role name of lowercase letters, digits and '-'");
        const w = object(p, `workers.${role}`, spec, ["command", "stopGraceSeconds"]);
        result[role] = {
            command: words(p, `workers.${role}.command`, w.command, true),
            stopGraceSeconds: w.stopGraceSeconds === undefined ? defaultGrace : integer(p, `workers.${role}.stopGraceSeconds`, w.stopGraceSeconds, 0, 3600),
        };
    }
    return result;
}

export function nginx(p: Problems, value: unknown): NginxConfig {
    const n = object(p, "nginx", value, ["mode", "confDir", "configRoot", "test", "reload", "pidFile", "errorLog", "reloadTimeoutSeconds", "canary", "site", "image", "keepalive"], false);
    const allowedCommand = "plain words of letters, digits and _ . / = : @ - separated by single spaces, e.g. 'sudo nginx -s reload'";
    return {
        mode: n.mode === undefined ? DEFAULT_ROUTE_MODE : oneOf(p, "nginx.mode", n.mode, ROUTE_MODE_NAMES),
        keepalive: n.keepalive === undefined ? DEFAULT_KEEPALIVE : integer(p, "nginx.keepalive", n.keepalive, 1, 4096),
        confDir: n.confDir === undefined ? "/etc/nginx/portal" : absolutePath(p, "nginx.confDir", n.confDir),
        configRoot: n.configRoot === undefined ? "/etc/nginx" : absolutePath(p, "nginx.configRoot", n.configRoot),
        test: n.test === undefined ? "nginx -t" : matching(p, "nginx.test", n.test, pattern.COMMAND_WORDS, allowedCommand),
        reload: n.reload === undefined ? "nginx -s reload" : matching(p, "nginx.reload", n.reload, pattern.COMMAND_WORDS, allowedCommand),
        pidFile: n.pidFile === undefined ? "/run/nginx.pid" : absolutePath(p, "nginx.pidFile", n.pidFile),
        errorLog: n.errorLog === undefined ? "/var/log/nginx/error.log" : absolutePath(p, "nginx.errorLog", n.errorLog),
        reloadTimeoutSeconds: n.reloadTimeoutSeconds === undefined ? 30 : integer(p, "nginx.reloadTimeoutSeconds", n.reloadTimeoutSeconds, 1, 600),
        canary: canaryRouting(p, n.canary),
        site: n.site === undefined ? undefined : site(p, "nginx.site", n.site),
        image: n.image === undefined ? "nginx:1.27-alpine" : matching(p, "nginx.image", n.image, pattern.IMAGE_WITH_TAG, "a Docker image reference with a tag, e.g. nginx:1.27-alpine"),
    };
}

function site(p: Problems, path: string, value: unknown): NginxSiteConfig {
    const s = object(p, path, value, ["address", "live", "passive"]);
    const result = {
        address: s.address === undefined ? "127.0.0.1" : matching(p, `${path}.address`, s.address, pattern.IPV4, "an IPv4 address such as 127.0.0.1 or 0.0.0.0"),
        live: integer(p, `${path}.live`, s.live, 1, 65535),
        passive: integer(p, `${path}.passive`, s.passive, 1, 65535),
    };
    if (p.clean(`${path}.live`, `${path}.passive`) && result.live === result.passive) {
        p.add(path, `gives the live and passive listeners the same port ${result.live}; allowed: two different ports`);
    }
    return result;
}

function canaryRouting(p: Problems, value: unknown): CanaryRoutingConfig {
    const c = object(p, "nginx.canary", value, ["mode", "cookie"], false);
    return {
        mode: c.mode === undefined ? "request" : oneOf(p, "nginx.canary.mode", c.mode, ["request", "sticky"] as const),
        cookie: c.cookie === undefined ? "portal_client" : matching(p, "nginx.canary.cookie", c.cookie, pattern.NGINX_NAME, "a cookie name of letters, digits and '_'"),
    };
}

/**
 * A DNS hostname or a dotted IPv4 address. A name whose labels are all numbers is read
 * as an address (RFC 1123 2.1: a top-level label is never all-numeric), so it must be a
 * valid IPv4: 10.0.0.256 or 10.0.0 is refused, not taken for a hostname.
 */
export function host(p: Problems, path: string, value: unknown): string {
    if (typeof value === "string" && /^[0-9.]+$/.test(value) && !pattern.IPV4.test(value)) {
        const parts = value.split(".");
        const bad = parts.find((n) => n === "" || Number(n) > 255 || /^0\d/.test(n));
        const why = parts.length !== 4 ? `${parts.length} numbers` : bad === "" ? "an empty number" : Number(bad) > 255 ? `a number over 255 (${bad})` : `a leading zero (${bad})`;
        p.add(path, `is ${describe(value)}, an IPv4 address with ${why}; allowed: four numbers 0-255 (a.b.c.d) or a hostname`);
        return "";
    }
    return matching(p, path, value, pattern.HOST, "a hostname or IPv4 address");
}

function duplicates(values: string[]): string[] {
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const v of values) {
        if (v !== "" && seen.has(v)) twice.add(v);
        seen.add(v);
    }
    return [...twice];
}

function describe(value: unknown): string {
    if (value === undefined) return "missing";
    if (typeof value === "string") return JSON.stringify(value);
    return JSON.stringify(value) ?? String(value);
}
