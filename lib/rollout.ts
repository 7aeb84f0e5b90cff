// The rollout model: from a validated config to what each server must run and route.
// This is the single place that decides stages, which containers exist, which are
// protected, where each upstream points and what each notification says.

import type { Color, PortalConfig, ReleaseConfig, ServerConfig, SplitMode } from "./config";
import { tracksOf, type Track } from "./tracks";

/** The main track of a config (the default of every per-track function below). */
function mainOf(config: PortalConfig): Track {
    return tracksOf(config)[0];
}

export type Stage = "steady" | "prepared";

/** steady: passive == live; prepared: the passive color carries a new release, live untouched. */
export function stageOf(release: ReleaseConfig): Stage {
    return release.passive === release.live ? "steady" : "prepared";
}

export function imageRef(repository: string, tag: string): string {
    return `${repository}:${tag}`;
}

/** One color's container on a server. */
export interface ColorRun {
    color: Color;
    tag: string;
    image: string;
    hostPort: number;
    /** Protected containers serve live traffic: Pulumi refuses to replace or delete them. */
    protect: boolean;
}

/**
 * Every color that has a tag runs a container; the old color keeps running for an instant
 * rollback. A retired track's containers are not protected, so removing the track deletes them.
 */
export function colorRuns(config: PortalConfig, track: Track = mainOf(config)): ColorRun[] {
    const { release } = track;
    return track.colors.filter((color) => release.tags[color] !== undefined).map((color) => ({
        color,
        tag: release.tags[color],
        image: imageRef(track.image, release.tags[color]),
        hostPort: track.hostPorts[color],
        protect: !track.retired && servesLiveTraffic(release, color),
    }));
}

/** The live color, and the passive color while a canary sends it a share of live traffic. */
export function servesLiveTraffic(release: ReleaseConfig, color: Color): boolean {
    return color === release.live || (color === release.passive && release.canary > 0);
}

export interface CanarySplit {
    color: Color;
    percent: number;
    mode: SplitMode;
    cookie: string;
    /**
     * Sticky mode: hex prepended to the client key before hashing, one per release (a
     * random.RandomId keyed on the canaried color and tag), so each release draws its own
     * cohort. None: the key alone (the same clients meet every release first).
     */
    salt?: string;
}

/** The live route with `salt` on its sticky canary (a request-mode canary or none is left as is). */
export function withSalt(route: LiveRoute, salt: string): LiveRoute {
    if (!route.canary || route.canary.mode !== "sticky") return route;
    if (!/^[0-9a-f]{1,64}$/.test(salt)) throw new Error(`a canary salt is 1 to 64 lowercase hex digits, not ${JSON.stringify(salt)}`);
    return { ...route, canary: { ...route.canary, salt } };
}

/** Where the live upstream sends traffic: its color, and a canary share to the passive color. */
export interface LiveRoute {
    color: Color;
    canary?: CanarySplit;
}

/** The live route of `track` (default: the main track). */
export function liveRoute(config: PortalConfig, track?: Track): LiveRoute {
    const release = track ? track.release : config.release;
    if (release.canary === 0) {
        return { color: release.live };
    }
    const { mode, cookie } = config.nginx.canary;
    return { color: release.live, canary: { color: release.passive, percent: release.canary, mode, cookie } };
}

export interface PassiveRoute {
    color: Color;
}

export function passiveRoute(config: PortalConfig, track?: Track): PassiveRoute {
    return { color: (track ? track.release : config.release).passive };
}

/** One migration per tagged color, on the primary server; it runs again only when that color's tag changes. */
export interface MigrationRun {
    color: Color;
    tag: string;
    image: string;
    args: string[];
}

export function migrationRuns(config: PortalConfig, track: Track = mainOf(config)): MigrationRun[] {
    if (config.app.migrate.length === 0) {
        return [];
    }
    return colorRuns(config, track).map(({ color, tag, image }) => ({ color, tag, image, args: config.app.migrate }));
}

export interface WorkerRun {
    role: string;
    command: string[];
    tag: string;
    image: string;
}

/** Workers run on the main track's live tag: they change on its deploy and rollback, never on prepare. */
export function workerRuns(config: PortalConfig, server: ServerConfig): WorkerRun[] {
    const tag = config.release.tags[config.release.live]!;
    return server.workers.map((role) => ({
        role,
        command: config.workers[role].command,
        tag,
        image: imageRef(config.image, tag),
    }));
}

function describeColor(release: ReleaseConfig, color: Color): string {
    return `${color} (${release.tags[color]})`;
}

/**
 * The message sent after the passive upstream is switched. It depends on the passive
 * color and tag only, so a deploy (which leaves the passive upstream alone) sends none.
 */
export function passiveNotice(release: ReleaseConfig, serverName: string, track?: Track): string {
    return `${describeColor(release, release.passive)} prepared on ${serverName}${trackNote(track)}`;
}

function trackNote(track?: Track): string {
    return track && !track.main ? ` (track ${track.name})` : "";
}

/** The message sent after the live upstream is switched and the workers restarted. */
export function liveNotice(release: ReleaseConfig, serverName: string, track?: Track): string {
    const live = `${describeColor(release, release.live)} live on ${serverName}${trackNote(track)}`;
    if (release.canary > 0) {
        return `${live}, ${release.canary}% canary to ${describeColor(release, release.passive)}`;
    }
    return live;
}
