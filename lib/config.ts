// The typed configuration model of the `portal:` namespace and its validation.
// Plain TypeScript: no Pulumi here. `validateConfig` turns the raw values of a
// stack's config into a PortalConfig or throws a ConfigError naming every bad key.

import { ConfigError, Problems } from "./configError";
import type { RouteModeName } from "./routeModes";
import * as rules from "./configRules";
import { CONTROL_SOCKET, MAX_SOCKET_PATH, controlSocket } from "./luaRoutes";

/** The main track's colors; other tracks name their own pair (e.g. red/black). */
export const COLORS = ["blue", "green"] as const;
export type Color = string;

export type SplitMode = "request" | "sticky";
export type Target = "ssh" | "local";

export interface ReleaseConfig {
    /** The image tag each color runs; a color without a tag runs no container. */
    tags: Record<Color, string>;
    /** The color behind the live upstream. */
    live: Color;
    /** The color behind the passive upstream; equals `live` outside a rollout. */
    passive: Color;
    /** Percent (0 to <100, two decimals at most) of live traffic sent to the passive color. */
    canary: number;
}

export interface ServerConfig {
    name: string;
    host: string;
    primary: boolean;
    workers: string[];
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
}

export interface WorkerConfig {
    command: string[];
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

export interface NginxConfig {
    /** `state`: reload-free through the njs router; `lua`: reload-free through the LuaJIT router; `reload`: include files + nginx reload. */
    mode: RouteModeName;
    /** Idle keep-alive connections per upstream and nginx worker (servers' colors and the edge's tracks). */
    keepalive: number;
    confDir: string;
    test: string;
    reload: string;
    canary: CanaryRoutingConfig;
    site?: NginxSiteConfig;
    /** Image of the nginx container the `local` target runs. */
    image: string;
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
    hosts: { name: string; host: string }[];
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
    /** Directory on each server holding scripts, compose files and the live-color file. */
    dir: string;
    /** `ssh`: real servers; `local`: the local Docker engine with nginx in a container. */
    target: Target;
    /** Tracks besides the main one (whose colors, image and release are the top-level keys). */
    tracks: TrackConfig[];
    edge?: EdgeConfig;
}

/** The raw values of the `portal:` namespace, keyed without the prefix. */
export type RawConfig = Record<string, unknown>;

/** Keys that hold secrets: read with requireSecret/getSecret, never validated as plain values. */
export const SECRET_KEYS = ["sshPrivateKey", "slackWebhook", "appSecrets"] as const;

const KNOWN_KEYS = ["image", "release", "servers", "ssh", "app", "workers", "nginx", "dir", "target", "tracks", "edge", ...SECRET_KEYS];

export function validateConfig(raw: RawConfig): PortalConfig {
    const p = new Problems();
    for (const key of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(key)) {
            p.add(key, `is not a known key; allowed: ${KNOWN_KEYS.join(", ")}`);
        }
    }
    const workers = rules.workers(p, raw.workers);
    const image = rules.image(p, "image", raw.image);
    const dir = raw.dir === undefined ? "/srv/portal" : rules.absolutePath(p, "dir", raw.dir);
    const tracks = rules.tracks(p, raw.tracks, { image, dir });
    const config: PortalConfig = {
        image,
        release: rules.release(p, "release", raw.release, COLORS),
        servers: rules.servers(p, raw.servers, Object.keys(workers)),
        ssh: rules.ssh(p, raw.ssh),
        app: rules.app(p, raw.app),
        workers,
        nginx: rules.nginx(p, raw.nginx),
        dir,
        target: raw.target === undefined ? "ssh" : rules.oneOf(p, "target", raw.target, ["ssh", "local"] as const),
        tracks,
        edge: raw.edge === undefined ? undefined : rules.edge(p, raw.edge, dir),
    };
    checkClashes(p, config);
    if (config.target === "local" && config.edge) {
        p.add("edge", "is set with target local; allowed: no edge on the local target (it has one server)");
    }
    if (config.target === "local" && config.nginx.mode !== "reload") {
        p.add("nginx.mode", `is ${config.nginx.mode} with target local; allowed: reload (the local nginx container loads neither the njs nor the lua module)`);
    }
    if (config.nginx.mode === "lua" && controlSocket(config.nginx.confDir).length > MAX_SOCKET_PATH) {
        p.add("nginx.confDir", `is too long for lua mode's control socket ${controlSocket(config.nginx.confDir)}; allowed: a path of at most ${MAX_SOCKET_PATH - CONTROL_SOCKET.length - 1} characters`);
    }
    p.throwIfAny();
    return config;
}

/** Two tracks on one port, one color in two tracks, one directory twice, an edge split to nowhere. */
function checkClashes(p: Problems, config: PortalConfig): void {
    const owners = new Map<string, string>();
    const claim = (kind: string, value: string | number, owner: string, key: string) => {
        const id = `${kind}:${value}`;
        const first = owners.get(id);
        if (first !== undefined && first !== owner) {
            p.add(key, `uses ${kind} ${value}, already used by ${first}; allowed: a ${kind} no other track or listener uses`);
        } else {
            owners.set(id, owner);
        }
    };
    const main = "the main track";
    COLORS.forEach((c) => claim("color", c, main, "release"));
    COLORS.forEach((c) => claim("port", config.app.hostPorts[c], `${main} (${c})`, `app.hostPorts.${c}`));
    if (config.nginx.site) {
        claim("port", config.nginx.site.live, `${main} (live listener)`, "nginx.site.live");
        claim("port", config.nginx.site.passive, `${main} (passive listener)`, "nginx.site.passive");
    }
    claim("directory", config.dir, main, "dir");
    config.tracks.forEach((t, i) => {
        const owner = `track ${t.name}`;
        t.colors.forEach((c) => claim("color", c, owner, `tracks[${i}].colors`));
        t.colors.forEach((c) => claim("port", t.hostPorts[c], `${owner} (${c})`, `tracks[${i}].hostPorts.${c}`));
        claim("port", t.site.live, `${owner} (live listener)`, `tracks[${i}].site.live`);
        claim("port", t.site.passive, `${owner} (passive listener)`, `tracks[${i}].site.passive`);
        claim("directory", t.dir, owner, `tracks[${i}].dir`);
    });
    const edge = config.edge;
    if (!edge) return;
    const names = ["main", ...config.tracks.map((t) => t.name)];
    if (edge.split && !config.tracks.some((t) => t.name === edge.split!.track && !t.retired)) {
        const live = config.tracks.filter((t) => !t.retired).map((t) => t.name);
        p.add("edge.split.track", `is "${edge.split.track}"; allowed: a track that is not retired: ${live.join(", ") || "(none declared)"}`);
    }
    for (const name of Object.keys(edge.trackPorts)) {
        if (!names.includes(name)) p.add(`edge.trackPorts.${name}`, `is not a track; allowed: ${names.join(", ")}`);
    }
    if (!config.nginx.site) {
        p.add("nginx.site", "is missing; the edge sends the main track's traffic to the servers' live listener, so it needs a port");
    }
    const edgePorts = new Map<number, string>();
    for (const [key, port] of [["edge.listen.port", edge.listen.port], ...Object.entries(edge.trackPorts).map(([t, port]) => [`edge.trackPorts.${t}`, port])] as [string, number][]) {
        const first = edgePorts.get(port);
        if (first) p.add(key, `uses port ${port}, already used by ${first}; allowed: one port per edge listener`);
        else edgePorts.set(port, key);
    }
}

export { ConfigError };
