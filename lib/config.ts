// The typed configuration model of the `portal:` namespace and its validation.
// Plain TypeScript: no Pulumi here. `validateConfig` turns the raw values of a
// stack's config into a PortalConfig or throws a ConfigError naming every bad key.

import { ConfigError, Problems } from "./configError";
import type { RouteModeName } from "./routeModes";
import * as rules from "./configRules";

export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

export type SplitMode = "request" | "sticky";
export type Target = "ssh" | "local";

export interface ReleaseConfig {
    /** The image tag each color runs; a color without a tag runs no container. */
    tags: Partial<Record<Color, string>>;
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
    /** `state`: reload-free switches through the njs router; `reload`: include files + nginx reload. */
    mode: RouteModeName;
    confDir: string;
    test: string;
    reload: string;
    canary: CanaryRoutingConfig;
    site?: NginxSiteConfig;
    /** Image of the nginx container the `local` target runs. */
    image: string;
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
}

/** The raw values of the `portal:` namespace, keyed without the prefix. */
export type RawConfig = Record<string, unknown>;

/** Keys that hold secrets: read with requireSecret/getSecret, never validated as plain values. */
export const SECRET_KEYS = ["sshPrivateKey", "slackWebhook", "appSecrets"] as const;

const KNOWN_KEYS = ["image", "release", "servers", "ssh", "app", "workers", "nginx", "dir", "target", ...SECRET_KEYS];

export function validateConfig(raw: RawConfig): PortalConfig {
    const p = new Problems();
    for (const key of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(key)) {
            p.add(key, `is not a known key; allowed: ${KNOWN_KEYS.join(", ")}`);
        }
    }
    const workers = rules.workers(p, raw.workers);
    const config: PortalConfig = {
        image: rules.image(p, "image", raw.image),
        release: rules.release(p, raw.release),
        servers: rules.servers(p, raw.servers, Object.keys(workers)),
        ssh: rules.ssh(p, raw.ssh),
        app: rules.app(p, raw.app),
        workers,
        nginx: rules.nginx(p, raw.nginx),
        dir: raw.dir === undefined ? "/srv/portal" : rules.absolutePath(p, "dir", raw.dir),
        target: raw.target === undefined ? "ssh" : rules.oneOf(p, "target", raw.target, ["ssh", "local"] as const),
    };
    if (config.target === "local" && config.nginx.mode === "state") {
        p.add("nginx.mode", `is state with target local; allowed: reload (the local nginx container does not load the njs module)`);
    }
    p.throwIfAny();
    return config;
}

export { ConfigError };
