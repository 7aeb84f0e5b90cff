// Stack configs for the program tests: the repository's own stack files, and variants
// derived from them the way an operator would edit the release block.

import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { StackConfig } from "../../offline/evaluate";
import { validateConfig, type PortalConfig } from "../../lib/config/config";

export const REPO = path.resolve(__dirname, "..", "..");

export function loadStack(name: string): StackConfig {
    const doc = parse(fs.readFileSync(path.join(REPO, `Pulumi.${name}.yaml`), "utf8")) as { config: StackConfig };
    return doc.config;
}

export interface ReleaseEdit {
    tags?: Record<string, string>;
    live?: string;
    passive?: string;
    canary?: number;
    /** As the release helper writes it on deploy and rollback. */
    previous?: { color: string; tag: string; by: "deploy" | "rollback" };
    /** Each color's repository (image per color). */
    images?: Record<string, string>;
    /** Each color's own env (as the release helper's prepare writes it). */
    env?: Record<string, Record<string, string>>;
}

/**
 * The secret config of a stack whose colors the release helper pinned: `portal:appSecrets`
 * and each pinned color's copy of it in `portal:colorSecrets` (what its containers read).
 * `perColor` overrides one color's copy (a secret rotated and prepared on that color only).
 */
export function appSecrets(values: Record<string, string>, perColor: Record<string, Record<string, string>> = {}, colors: readonly string[] = ["blue", "green"]): Record<string, unknown> {
    return { "portal:appSecrets": values, "portal:colorSecrets": Object.fromEntries(colors.map((c) => [c, perColor[c] ?? values])) };
}

/** A copy of `config` with the release block edited (tags merged). */
export function withRelease(config: StackConfig, edit: ReleaseEdit): StackConfig {
    const release = structuredClone(config["portal:release"]) as Record<string, unknown> & { tags: Record<string, string> };
    const { tags, ...rest } = edit;
    return { ...structuredClone(config), "portal:release": { ...release, ...rest, tags: { ...release.tags, ...(tags ?? {}) } } };
}

/** The production stack in steady state on blue. */
export function steadyBlue(): StackConfig {
    return withRelease(loadStack("production"), { live: "blue", passive: "blue", canary: 0, tags: { blue: "2020.08.06-1", green: "2020.08.05-2" } });
}

/** A copy of `config` with another nginx switching mode. */
export function withMode(config: StackConfig, mode: "state" | "reload" | "lua"): StackConfig {
    const copy = structuredClone(config);
    copy["portal:nginx"] = { ...(copy["portal:nginx"] as Record<string, unknown>), mode };
    return copy;
}

/** The production stack with the main track's own listeners (the edge needs their port). */
export function productionWithSite(): StackConfig {
    const config = structuredClone(loadStack("production"));
    config["portal:nginx"] = { ...(config["portal:nginx"] as Record<string, unknown>), site: { address: "0.0.0.0", live: 8080, passive: 8081 } };
    return config;
}

/** A second track, py3 (red/black), beside the main one; and an edge splitting between them. */
export const PY3_TRACK = {
    name: "py3",
    colors: ["red", "black"],
    image: "registry.example.com/portal-py3",
    release: { tags: { red: "py3-2020.08.01-1" }, live: "red", passive: "red", canary: 0 },
    hostPorts: { red: 8011, black: 8012 },
    site: { address: "0.0.0.0", live: 8180, passive: 8181 },
};

export const EDGE = {
    hosts: [{ name: "lb1", host: "10.0.1.5" }],
    listen: { port: 80 },
    split: { track: "py3", percent: 0.5 },
    trackPorts: { main: 8090, py3: 8091 },
};

export function withTracks(config: StackConfig, tracks: unknown[] = [PY3_TRACK], edge: unknown = EDGE): StackConfig {
    return { ...structuredClone(config), "portal:tracks": structuredClone(tracks), ...(edge ? { "portal:edge": structuredClone(edge) } : {}) };
}

/** A copy of `config` with track `name`'s release edited (tags merged). */
export function withTrackRelease(config: StackConfig, name: string, edit: ReleaseEdit): StackConfig {
    const copy = structuredClone(config);
    const tracks = copy["portal:tracks"] as { name: string; release: Record<string, unknown> & { tags: Record<string, string> } }[];
    const track = tracks.find((t) => t.name === name)!;
    const { tags, ...rest } = edit;
    track.release = { ...track.release, ...rest, tags: { ...track.release.tags, ...(tags ?? {}) } };
    return copy;
}

/** The validated model of a stack config, as the program builds it (secret keys: those of `secrets`). */
export function modelOf(config: StackConfig, secrets: Record<string, unknown> = {}, stack = "test"): PortalConfig {
    const raw = Object.fromEntries(Object.entries({ ...config, ...secrets }).filter(([k]) => k.startsWith("portal:")).map(([k, v]) => [k.slice("portal:".length), v]));
    return validateConfig(raw, { encrypted: Object.keys(secrets).map((k) => k.slice("portal:".length)), stack });
}
