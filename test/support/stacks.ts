// Stack configs for the program tests: the repository's own stack files, and variants
// derived from them the way an operator would edit the release block.

import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { StackConfig } from "../../offline/evaluate";

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
export function withMode(config: StackConfig, mode: "state" | "reload"): StackConfig {
    const copy = structuredClone(config);
    copy["portal:nginx"] = { ...(copy["portal:nginx"] as Record<string, unknown>), mode };
    return copy;
}
