// The rollout model: from a validated config to what each server must run and route.
// This is the single place that decides stages, which containers exist, which are
// protected, where each upstream points and what each notification says.

import type { Color, PortalConfig, ReleaseConfig, ServerConfig, SplitMode } from "../config/config";
import { isMutableTag } from "../config/configRules";
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

/**
 * `repo:tag`, or `repo:tag@sha256:…` for a pinned tag: the docker provider then pulls by
 * the digest (kreuzwerker/terraform-provider-docker@v4.2.0, carried by @pulumi/docker 5.0.0,
 * internal/provider/resource_docker_image_funcs.go, parseImageOptions: "prefer pinned digest
 * over tag name"; the same at v3.9.0).
 */
export function imageRef(repository: string, tag: string): string {
    return `${repository}:${tag}`;
}

/** The repository `color` runs: its own (`release.images.<color>`), else the track's image. */
export function colorRepository(track: Pick<Track, "image" | "release">, color: Color): string {
    return track.release.images?.[color] ?? track.image;
}

/** Where a color's secret env values are kept: the shared `portal:appSecrets` or its own `portal:colorSecrets.<color>`. */
export type SecretSource = { key: "appSecrets" } | { key: "colorSecrets"; color: Color };

/** The config a color runs with: its plain env and where its secrets are. */
export interface ColorEnv {
    env: Record<string, string>;
    secrets: SecretSource;
    /** The names of its secret values (none: the env is plain, not a secret). */
    secretNames: string[];
}

/**
 * A color pinned by the release helper (`release.env.<color>`) runs its own env and
 * `colorSecrets.<color>`, so a change of `app.env` or `appSecrets` reaches it only when it
 * is prepared again. An unpinned color (a stack from before per-color config) runs the
 * shared `app.env` and `appSecrets`, as both colors did then.
 */
export function colorEnv(config: PortalConfig, track: Pick<Track, "release">, color: Color): ColorEnv {
    const pinned = track.release.env?.[color];
    const names = config.secretNames;
    if (pinned === undefined) return { env: config.app.env, secrets: { key: "appSecrets" }, secretNames: names.appSecrets };
    return { env: pinned, secrets: { key: "colorSecrets", color }, secretNames: names.colorSecrets[color] ?? [] };
}

/** The secret values a color reads, out of the two secret keys' values (an absent one: none). */
export function secretsOf(source: SecretSource, values: { appSecrets?: Record<string, string>; colorSecrets?: Record<Color, Record<string, string>> }): Record<string, string> {
    return (source.key === "appSecrets" ? values.appSecrets : values.colorSecrets?.[source.color]) ?? {};
}

/** The container's KEY=VALUE env lines: plain env first, then the secrets, each in its map's order. */
export function envLines(env: Record<string, string>, secrets: Record<string, string>): string[] {
    return [...Object.entries(env), ...Object.entries(secrets)].map(([k, v]) => `${k}=${v}`);
}

/** One color's container on a server. */
export interface ColorRun {
    color: Color;
    tag: string;
    image: string;
    hostPort: number;
    /** Protected containers serve live traffic: Pulumi refuses to replace or delete them. */
    protect: boolean;
    /**
     * Only for a mutable tag (portal:mutableTags): the helper's stamp of its last prepare on
     * this color ("" before any); a change pulls the image again. Undefined: an immutable tag.
     */
    pull?: string;
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
        image: imageRef(colorRepository(track, color), release.tags[color]),
        hostPort: track.hostPorts[color],
        protect: !track.retired && servesLiveTraffic(release, color),
        ...(isMutableTag(release.tags[color], config.mutableTags) ? { pull: release.pulled?.[color] ?? "" } : {}),
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
    /** As ColorRun.pull: a mutable tag's migration runs again when its image is pulled again. */
    pull?: string;
}

export function migrationRuns(config: PortalConfig, track: Track = mainOf(config)): MigrationRun[] {
    if (config.app.migrate.length === 0) {
        return [];
    }
    return colorRuns(config, track).map(({ color, tag, image, pull }) => ({ color, tag, image, args: config.app.migrate, ...(pull === undefined ? {} : { pull }) }));
}

export interface WorkerRun {
    role: string;
    command: string[];
    tag: string;
    image: string;
    /** destroyGraceSeconds of the worker's container. */
    stopGraceSeconds: number;
}

/** Workers run on the main track's live tag: they change on its deploy and rollback, never on prepare. */
export function workerRuns(config: PortalConfig, server: ServerConfig): WorkerRun[] {
    const tag = config.release.tags[config.release.live]!;
    const image = imageRef(colorRepository(mainOf(config), config.release.live), tag);
    return server.workers.map((role) => ({
        role,
        command: config.workers[role].command,
        tag,
        image,
        stopGraceSeconds: config.workers[role].stopGraceSeconds,
    }));
}

function tagged(release: ReleaseConfig, color: Color): string {
    return `${color} ${release.tags[color]}`;
}

/** "production" or "production (track py3)": who a notice is about. */
function noticeSubject(stack: string, track?: Track): string {
    return track && !track.main ? `${stack} (track ${track.name})` : stack;
}

/**
 * Live set back by hand (only `live:` edited) to exactly the release that was live before
 * the last deploy: a rollback that leaves the deployed release passive, not a prepare.
 */
function liveEditedBack(release: ReleaseConfig): boolean {
    const previous = release.previous;
    return previous !== undefined && previous.by === "deploy" && previous.color === release.live && previous.tag === release.tags[release.live] && release.passive !== release.live;
}

/**
 * The one notice of the prepare stage, sent once every server's passive switch is done:
 * "production: green 2020.08.07-1 prepared on web1, web2, web3". Only while the track is
 * prepared: deploy, abort and rollback (all steady) remove it, so none of them says
 * "prepared". It depends on the passive color and tag only (a canary does not re-send it).
 */
export function preparedNotice(stack: string, release: ReleaseConfig, servers: readonly string[], track?: Track): string | undefined {
    if (release.passive === release.live || liveEditedBack(release)) return undefined;
    return `${noticeSubject(stack, track)}: ${tagged(release, release.passive)} prepared on ${servers.join(", ")}`;
}

/**
 * The one notice of a live change (deploy, rollback, canary), sent once every server's
 * live switch, live-color file and workers are done. A rollback says so, with what it left
 * (release.previous, written by the helper): "production: rolled back to blue 2020.08.06-1
 * on web1, web2, web3 (from green 2020.08.07-1)".
 */
export function liveNotice(stack: string, release: ReleaseConfig, servers: readonly string[], track?: Track): string {
    const subject = noticeSubject(stack, track);
    const on = servers.join(", ");
    const live = tagged(release, release.live);
    if (release.canary > 0) {
        return `${subject}: ${live} live on ${on}, ${release.canary}% canary to ${tagged(release, release.passive)}`;
    }
    const previous = release.previous;
    if (liveEditedBack(release)) {
        return `${subject}: rolled back to ${live} on ${on} (from ${tagged(release, release.passive)}, still passive)`;
    }
    if (previous && previous.color !== release.live) {
        const before = `${previous.color} ${previous.tag}`;
        return previous.by === "rollback" ? `${subject}: rolled back to ${live} on ${on} (from ${before})` : `${subject}: ${live} live on ${on} (deployed; ${before} before)`;
    }
    return `${subject}: ${live} live on ${on}`;
}

/**
 * The server scripts' own names: each prefixes its messages with `<name>: ` (its PROG), and
 * none of those messages carries a secret (a test checks every scripts/*.sh is listed).
 */
export const SCRIPT_NAMES = [
    "bootstrap-server",
    "init-routes",
    "notify-slack",
    "preflight",
    "promote-compose",
    "prune",
    "record-live",
    "run-migrations",
    "switch-lua",
    "switch-route",
    "switch-state",
    "wait-healthy",
    "write-compose",
    "write-env",
] as const;

/**
 * The line of an engine error worth reading: the last one a server script wrote itself, at
 * most 300 characters. Anything else in the error (nginx's or the app's own output, which
 * may hold a secret, e.g. a migration's) is never posted.
 */
function errorLine(error: string | undefined): string {
    const ours = (error ?? "")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => SCRIPT_NAMES.some((name) => l.startsWith(`${name}: `)));
    const line = ours[ours.length - 1];
    if (line === undefined) return "see the pulumi output";
    return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * The notice sent when a step fails: which step, where, and why.
 * `resource` is the failed resource's name (`web2-green-healthy`); `hosts` the servers and
 * edge hosts, whose names prefix their steps. "production: step green-healthy failed on
 * web2 (create): wait-healthy: … not 200 after 180 s".
 */
export function failureNotice(stack: string, hosts: readonly string[], resource: string, operation: string, error: string | undefined): string {
    const host = [...hosts].sort((a, b) => b.length - a.length).find((h) => resource.startsWith(`${h}-`));
    const where = host === undefined ? `step ${resource} failed` : `step ${resource.slice(host.length + 1)} failed on ${host}`;
    return `${stack}: ${where} (${operation}): ${errorLine(error)}`;
}
