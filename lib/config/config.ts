// The typed configuration model of the `portal:` namespace and its validation.
// Plain TypeScript: no Pulumi here. `validateConfig` turns the raw values of a
// stack's config into a PortalConfig or throws a ConfigError naming every bad key.

import { ConfigError, Problems } from "./configError";
import type { RouteModeName } from "../nginx/routeModes";
import * as rules from "./configRules";
import { SECRET_KEYS, checkSecrets, type SecretStorage } from "./secretConfig";
import { ROUTE_MODE_NAMES, routeMode } from "../nginx/routeModes";

/** The main track's colors; other tracks name their own pair (e.g. red/black). */
export const COLORS = ["blue", "green"] as const;
export type Color = string;

export type SplitMode = "request" | "sticky";
/** Where a stack's hosts are: real servers over ssh, or this machine's Docker engine. */
export type TargetKind = "ssh" | "local";

/** The helper verb that last changed a release's live color. */
export type LiveChange = "deploy" | "rollback";

/** What was live before the last deploy or rollback the release helper made, and which of the two it was. */
export interface PreviousRelease {
    color: Color;
    tag: string;
    by: LiveChange;
}

export interface ReleaseConfig {
    /** The image tag each color runs; a color without a tag runs no container. */
    tags: Record<Color, string>;
    /** The color behind the live upstream. */
    live: Color;
    /** The color behind the passive upstream; equals `live` outside a rollout. */
    passive: Color;
    /** Percent (0 to <100, two decimals at most) of live traffic sent to the passive color. */
    canary: number;
    /** Written by the release helper's deploy and rollback; no resource depends on it except the notices' wording. */
    previous?: PreviousRelease;
    /**
     * Per color with a mutable tag: when the helper last prepared it (UTC stamp). A change
     * pulls that color's image again; immutable tags never need it.
     */
    pulled?: Record<Color, string>;
    /**
     * The image repository a color runs when it is not the track's `image` (`portal:image`):
     * a color keeps its own repository, so a new repository is prepared on the passive color
     * like a new tag and never touches the live one. Only colors set in the stack are present.
     */
    images?: Partial<Record<Color, string>>;
    /**
     * The env each color runs with, written by the release helper's prepare from `app.env`
     * (its secrets are `portal:colorSecrets.<color>`): a color keeps its own config, so an env
     * or secret change is prepared on the passive color like a new tag and the live one keeps
     * its old env. A color absent here runs `app.env` and `portal:appSecrets` (a stack from
     * before per-color config).
     */
    env?: Partial<Record<Color, Record<string, string>>>;
}

export interface ServerConfig {
    name: string;
    host: string;
    primary: boolean;
    workers: string[];
    /** The server's ssh host key (an OpenSSH public key line); without it the command provider accepts any key. */
    hostKey?: string;
}

export interface SshConfig {
    user: string;
    port: number;
}

export interface AppConfig {
    port: number;
    healthPath: string;
    hostPorts: Record<Color, number>;
    /** Address nginx uses to reach the colors' host ports (127.0.0.1 on a server). */
    upstreamHost: string;
    /** Address the colors' host ports are published on (127.0.0.1 on a server). */
    bindAddress: string;
    env: Record<string, string>;
    /** The migration command run in a one-off container; empty = no migrator. */
    migrate: string[];
    /** How long a new color may take to answer 200 on healthPath after its start. */
    healthTimeoutSeconds: number;
    /** Seconds between SIGTERM and SIGKILL when a color's container is stopped to be removed. */
    stopGraceSeconds: number;
}

export interface WorkerConfig {
    command: string[];
    /** Seconds between SIGTERM and SIGKILL when the worker is replaced (default: app.stopGraceSeconds). */
    stopGraceSeconds: number;
}

/** A private registry the docker provider logs in to (password: the secret `portal:registryPassword`). */
export interface RegistryConfig {
    /** Registry host[:port], as it prefixes the image repositories (registry.gitlab.com). */
    server: string;
    username: string;
}

export interface CanaryRoutingConfig {
    mode: SplitMode;
    /** Cookie whose value keeps a client on one side in sticky mode. */
    cookie: string;
}

/** Optional server blocks the program writes as site.conf: one listener per upstream. */
export interface NginxSiteConfig {
    address: string;
    live: number;
    passive: number;
}

/** How the scripts test, reload and watch a server's nginx. */
export interface NginxControl {
    test: string;
    reload: string;
    /** The master's pid file: a reload counts once the master's old workers stop accepting. */
    pidFile: string;
    /** The master's error log, read for the reason of a rejected reload. */
    errorLog: string;
    /** How long a reload may take to replace the workers before the switch fails. */
    reloadTimeoutSeconds: number;
}

export interface NginxConfig extends NginxControl {
    /** `state`: reload-free through the njs router; `lua`: reload-free through the LuaJIT router; `reload`: include files + nginx reload. */
    mode: RouteModeName;
    /** Idle keep-alive connections per upstream and nginx worker (servers' colors and the edge's tracks). */
    keepalive: number;
    confDir: string;
    /** The nginx configuration tree the preflight searches for the include line and load_module. */
    configRoot: string;
    canary: CanaryRoutingConfig;
    site?: NginxSiteConfig;
    /** Image of the nginx container the `local` target runs. */
    image: string;
}

/** What the preflight step requires on every server besides the fixed checks. */
export interface PreflightConfig {
    /** Free space (MiB) where Docker keeps its images, needed for a pull. */
    minFreeMb: number;
}

/** What is kept on the servers after a deploy. */
export interface PruneConfig {
    /** Release compose files (and the images they name) kept per track directory. */
    keep: number;
}

/** A second generation side by side with the main one: its own colors, image, release, ports, directory. */
export interface TrackConfig {
    name: string;
    colors: readonly [Color, Color];
    image: string;
    release: ReleaseConfig;
    hostPorts: Record<Color, number>;
    /** The track's own nginx listeners on every server. */
    site: NginxSiteConfig;
    dir: string;
    /** A retired track serves no edge traffic and its containers are unprotected, so removing it can delete them. */
    retired: boolean;
}

/** nginx on load-balancer hosts spreading traffic over the servers and splitting it between tracks. */
export interface EdgeConfig {
    hosts: { name: string; host: string; hostKey?: string }[];
    listen: { address: string; port: number };
    /** Share of traffic sent to `track`; the rest goes to the main track. */
    split?: { track: string; percent: number };
    /** A listener per track on the edge, for testing one track alone. */
    trackPorts: Record<string, number>;
    dir: string;
}

export interface PortalConfig {
    image: string;
    release: ReleaseConfig;
    servers: ServerConfig[];
    ssh: SshConfig;
    app: AppConfig;
    workers: Record<string, WorkerConfig>;
    nginx: NginxConfig;
    preflight: PreflightConfig;
    prune: PruneConfig;
    /** Directory on each server holding scripts, compose files and the live-color file. */
    dir: string;
    /** `ssh`: real servers; `local`: the local Docker engine with nginx in a container. */
    target: TargetKind;
    /** Tracks besides the main one (whose colors, image and release are the top-level keys). */
    tracks: TrackConfig[];
    edge?: EdgeConfig;
    /** Tags that may be re-pushed (e.g. latest): accepted without a digest, pulled again on every prepare. */
    mutableTags: string[];
    registry?: RegistryConfig;
    /**
     * The names (never the values) of the secret env values: `portal:appSecrets` and each
     * color's `portal:colorSecrets.<color>`. A color with none runs a plain env.
     */
    secretNames: SecretNames;
}

export interface SecretNames {
    appSecrets: string[];
    colorSecrets: Record<Color, string[]>;
}

function mapKeys(value: unknown): string[] {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
}

/** The secret names out of the raw secret keys (an opaque encrypted value offline: none known). */
function secretNamesOf(raw: RawConfig): SecretNames {
    const colors = typeof raw.colorSecrets === "object" && raw.colorSecrets !== null ? (raw.colorSecrets as Record<string, unknown>) : {};
    return { appSecrets: mapKeys(raw.appSecrets), colorSecrets: Object.fromEntries(mapKeys(colors).map((c) => [c, mapKeys(colors[c])])) };
}

/** The raw values of the `portal:` namespace, keyed without the prefix. */
export type RawConfig = Record<string, unknown>;

export { SECRET_KEYS, type SecretStorage } from "./secretConfig";

const KNOWN_KEYS = ["image", "release", "servers", "ssh", "app", "workers", "nginx", "preflight", "prune", "dir", "target", "tracks", "edge", "mutableTags", "registry", ...SECRET_KEYS];

/**
 * `storage`: where the stack keeps its secrets (see secretConfig.ts); without it the
 * plain-text check of the secret keys is skipped (unit tests of other rules).
 */
export function validateConfig(raw: RawConfig, storage?: SecretStorage): PortalConfig {
    const p = new Problems();
    checkSecrets(p, raw, storage);
    for (const key of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(key)) {
            p.add(key, `is not a known key; allowed: ${KNOWN_KEYS.join(", ")}`);
        }
    }
    const app = rules.app(p, raw.app);
    const workers = rules.workers(p, raw.workers, app.stopGraceSeconds);
    const image = rules.image(p, "image", raw.image);
    const dir = raw.dir === undefined ? "/srv/portal" : rules.absolutePath(p, "dir", raw.dir);
    const mutableTags = rules.mutableTags(p, raw.mutableTags);
    const tracks = rules.tracks(p, raw.tracks, { image, dir, mutableTags });
    const config: PortalConfig = {
        image,
        release: rules.release(p, "release", raw.release, COLORS, mutableTags),
        servers: rules.servers(p, raw.servers, Object.keys(workers)),
        ssh: rules.ssh(p, raw.ssh),
        app,
        workers,
        nginx: rules.nginx(p, raw.nginx),
        preflight: rules.preflight(p, raw.preflight),
        prune: rules.prune(p, raw.prune),
        dir,
        target: raw.target === undefined ? "ssh" : rules.oneOf(p, "target", raw.target, ["ssh", "local"] as const),
        tracks,
        edge: raw.edge === undefined ? undefined : rules.edge(p, raw.edge, dir),
        mutableTags,
        registry: raw.registry === undefined ? undefined : rules.registry(p, raw.registry),
        secretNames: secretNamesOf(raw),
    };
    checkClashes(p, config);
    checkColorSecrets(p, raw.colorSecrets, config);
    if (config.target === "local" && config.edge) {
        p.add("edge", "is set with target local; allowed: no edge on the local target (it has one server)");
    }
    if (config.target === "local") {
        for (const [key, file] of [["pidFile", "nginx.pid"], ["errorLog", "error.log"]] as const) {
            if (p.clean(`nginx.${key}`) && !config.nginx[key].endsWith(`/${file}`)) {
                p.add(`nginx.${key}`, `is ${config.nginx[key]} with target local; allowed: a path ending in /${file} (the nginx container writes that name into the directory)`);
            }
        }
    }
    if (config.target === "local" && config.servers.length > 1) {
        p.add("servers", `lists ${config.servers.length} servers with target local; allowed: one server (the local target is this machine's one Docker engine)`);
    }
    const mode = p.clean("nginx.mode") ? routeMode(config.nginx.mode) : undefined;
    if (config.target === "local" && mode?.module !== undefined) {
        const moduleless = ROUTE_MODE_NAMES.filter((name) => routeMode(name).module === undefined);
        p.add("nginx.mode", `is ${config.nginx.mode} with target local; allowed: ${moduleless.join(", ")} (the local nginx container loads neither the njs nor the lua module)`);
    }
    for (const problem of mode?.problems(config) ?? []) {
        if (p.clean(problem.key)) p.add(problem.key, problem.message);
    }
    p.throwIfAny();
    return config;
}

/**
 * `colorSecrets.<color>` belongs to a color whose config the release helper pinned
 * (`release.env.<color>` of its track): only such a color reads it, so any other entry is a
 * leftover or a typo that would silently not reach any container.
 */
function checkColorSecrets(p: Problems, value: unknown, config: PortalConfig): void {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !p.clean("colorSecrets", "tracks")) return;
    const pinned = [config.release, ...config.tracks.map((t) => t.release)].flatMap((r) => Object.keys(r.env ?? {}));
    for (const color of Object.keys(value)) {
        if (!pinned.includes(color)) {
            p.add(`colorSecrets.${color}`, `is set, but no release pins ${color}'s env (release.env.${color}), so no container reads it; allowed: ${pinned.join(", ") || "(no color is pinned; the release helper's prepare pins them)"}`);
        }
    }
}

/** Two tracks on one port, one color in two tracks, one directory twice, an edge split to nowhere. */
function checkClashes(p: Problems, config: PortalConfig): void {
    const owners = new Map<string, string>();
    /** Registers `value` for `owner`; skipped when the value (or what it derives from) was refused. */
    const claim = (kind: string, value: string | number, owner: string, key: string, ...from: string[]) => {
        if (!p.clean(key, ...from)) return;
        const id = `${kind}:${value}`;
        const first = owners.get(id);
        if (first !== undefined && first !== owner) {
            p.add(key, `uses ${kind} ${value}, already used by ${first}; allowed: a ${kind} no other track or listener uses`);
        } else {
            owners.set(id, owner);
        }
    };
    const main = "the main track";
    COLORS.forEach((c) => owners.set(`color:${c}`, main));
    COLORS.forEach((c) => claim("port", config.app.hostPorts[c], `${main} (${c})`, `app.hostPorts.${c}`));
    if (config.nginx.site) {
        claim("port", config.nginx.site.live, `${main} (live listener)`, "nginx.site.live");
        claim("port", config.nginx.site.passive, `${main} (passive listener)`, "nginx.site.passive");
    }
    claim("directory", config.dir, main, "dir");
    config.tracks.forEach((t, i) => {
        const owner = `track ${t.name}`;
        t.colors.forEach((c) => claim("color", c, owner, `tracks[${i}].colors`));
        t.colors.forEach((c) => claim("port", t.hostPorts[c], `${owner} (${c})`, `tracks[${i}].hostPorts.${c}`, `tracks[${i}].colors`));
        claim("port", t.site.live, `${owner} (live listener)`, `tracks[${i}].site.live`);
        claim("port", t.site.passive, `${owner} (passive listener)`, `tracks[${i}].site.passive`);
        claim("directory", t.dir, owner, `tracks[${i}].dir`, `tracks[${i}].name`, "dir");
    });
    // A track's steps on server s are named s-<track>-…, like every step of a server named s-<track>:
    // the same URNs twice, which the engine refuses ("Duplicate resource URN").
    config.servers.forEach((server, i) => {
        for (const other of config.servers) {
            const track = config.tracks.find((t) => t.name !== "" && server.name === `${other.name}-${t.name}`);
            if (track && p.clean(`servers[${i}].name`)) {
                p.add(`servers[${i}].name`, `is ${server.name}, the prefix of track ${track.name}'s steps on server ${other.name} (${server.name}-route-live, …); allowed: a name that is not <server>-<track>`);
            }
        }
    });
    const edge = config.edge;
    if (!edge) return;
    // An edge host is a host of its own: its steps and nginx files (router.conf) would collide with a server's.
    const serverByName = new Map(config.servers.map((s) => [s.name, s.name]));
    const serverByHost = new Map(config.servers.map((s) => [s.host.toLowerCase(), s.name]));
    edge.hosts.forEach((h, i) => {
        if (p.clean(`edge.hosts[${i}].name`) && serverByName.has(h.name)) {
            p.add(`edge.hosts[${i}].name`, `is ${h.name}, also a server's name; allowed: a name no server uses`);
        }
        const server = serverByHost.get(h.host.toLowerCase());
        if (p.clean(`edge.hosts[${i}].host`) && server !== undefined) {
            p.add(`edge.hosts[${i}].host`, `is ${h.host}, also server ${server}'s host; allowed: a host that runs no server (both would write router.conf in ${config.nginx.confDir})`);
        }
    });
    const names = ["main", ...config.tracks.map((t) => t.name)];
    if (!p.clean("tracks")) return;
    if (p.clean("edge.split.track") && edge.split && !config.tracks.some((t) => t.name === edge.split!.track && !t.retired)) {
        const live = config.tracks.filter((t) => !t.retired).map((t) => t.name);
        p.add("edge.split.track", `is "${edge.split.track}"; allowed: a track that is not retired: ${live.join(", ") || "(none declared)"}`);
    }
    for (const name of Object.keys(edge.trackPorts)) {
        if (!names.includes(name)) p.add(`edge.trackPorts.${name}`, `is not a track; allowed: ${names.join(", ")}`);
    }
    if (p.clean("nginx") && !config.nginx.site) {
        p.add("nginx.site", "is missing; the edge sends the main track's traffic to the servers' live listener, so it needs a port");
    }
    const edgePorts = new Map<number, string>();
    for (const [key, port] of [["edge.listen.port", edge.listen.port], ...Object.entries(edge.trackPorts).map(([t, port]) => [`edge.trackPorts.${t}`, port])] as [string, number][]) {
        if (!p.clean(key)) continue;
        const first = edgePorts.get(port);
        if (first) p.add(key, `uses port ${port}, already used by ${first}; allowed: one port per edge listener`);
        else edgePorts.set(port, key);
    }
}

export { ConfigError };
