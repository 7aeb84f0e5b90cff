// The live guard: no single config change may replace or delete a container that served
// live traffic in the last deployed state (the live color, and the passive color while a
// canary sent it a share). Plain TypeScript: the program hands it the last state (read back
// from its own stack's `deployed` output) and the state the new config would deploy.
//
// Why the engine's own rule is not enough: pulumi@v3.248.0 pkg/resource/deploy/step_generator.go
// refuses a replace only `if new.Protect && old.Protect` ("we do allow unprotecting and
// replacing to happen in a single update cycle"), and a delete of a protected resource only
// while the old state is protected, in the same update that drops the protection it goes
// through. So one edit that makes green live and re-tags blue unprotects blue and replaces it
// in the same `up`, with no ordering against the live switch: users hit a deleted container.

import { createHash } from "node:crypto";
import type { Color, PortalConfig } from "../config/config";
import { colorContainer, dockerLabels } from "./containers";
import { colorRuns, type ColorRun } from "./rollout";
import { tracksOf, type Track } from "./tracks";

/** The replace-forcing inputs of a color's container, as lib/plan/rollout.ts plans them (image by reference). */
export interface ColorContainerSpec {
    name: string;
    image: string;
    ports: { internal: number; external: number; ip: string }[];
    labels: { label: string; value: string }[];
}

/** The fingerprinted part of lib/model/containers.ts colorContainer, in the shape (and order) the states already deployed hold. */
export function colorContainerSpec(config: PortalConfig, track: Track, run: ColorRun): ColorContainerSpec {
    const spec = colorContainer(config, track, run);
    return { name: spec.name, image: spec.image, ports: spec.ports, labels: dockerLabels(spec) };
}

export interface DeployedColor {
    /** repository:tag */
    image: string;
    /** sha256 of the container's replace-forcing inputs, env (with secrets) included. */
    fingerprint: string;
}

export interface DeployedTrack {
    live: Color;
    passive: Color;
    canary: number;
    retired: boolean;
    colors: Record<Color, DeployedColor>;
}

/** What a stack deployed, per track name (the main track is `main`): the program's `deployed` output. */
export type DeployedState = Record<string, DeployedTrack>;

/** A color's containers' KEY=VALUE env lines, secrets included (colorEnv's env and secrets). */
export type EnvLinesOf = (track: Track, color: Color) => string[];

/** The state `config` deploys; `envLines` gives each color's env lines. */
export function deployedState(config: PortalConfig, envLines: EnvLinesOf): DeployedState {
    const state: DeployedState = {};
    for (const track of tracksOf(config)) {
        const colors: Record<Color, DeployedColor> = {};
        for (const run of colorRuns(config, track)) {
            const spec = colorContainerSpec(config, track, run);
            const fingerprint = createHash("sha256").update(JSON.stringify({ spec, envs: envLines(track, run.color) })).digest("hex");
            colors[run.color] = { image: run.image, fingerprint };
        }
        const { live, passive, canary } = track.release;
        state[track.name] = { live, passive, canary, retired: track.retired, colors };
    }
    return state;
}

function servingColors(track: DeployedTrack): { color: Color; role: string }[] {
    if (track.retired) return [];
    const serving = [{ color: track.live, role: "live" }];
    if (track.canary > 0 && track.passive !== track.live) serving.push({ color: track.passive, role: `canary ${track.canary}%` });
    return serving;
}

function servesIn(track: DeployedTrack | undefined, color: Color): boolean {
    return track !== undefined && servingColors(track).some((s) => s.color === color);
}

/**
 * One message per container that served live traffic in `last` and that `next` would
 * replace or delete; empty when the change is allowed. No last state (a new stack): allowed.
 */
export function liveGuard(last: DeployedState | undefined, next: DeployedState): string[] {
    if (!last) return [];
    const problems: string[] = [];
    for (const [name, before] of Object.entries(last)) {
        const after = next[name];
        const trackWord = name === "main" ? "" : ` of track ${name}`;
        const flag = name === "main" ? "" : ` --track ${name}`;
        for (const { color, role } of servingColors(before)) {
            const old = before.colors[color];
            if (!old) continue;
            const now = after?.colors[color];
            const head = `color ${color}${trackWord} served live traffic in the last deployed state (${role}, ${old.image})`;
            if (!after) {
                problems.push(
                    `${head}; removing the track would delete its containers. Legal next step: retire it first (retired: true, and drop it from portal:edge), pulumi up, then remove it.`,
                );
            } else if (!now) {
                problems.push(`${head}; this change removes its tag, which would delete its container. Legal next step: keep its tag until another color is live and its canary is over.`);
            } else if (now.fingerprint !== old.fingerprint) {
                const what = now.image !== old.image ? `its image ${old.image} -> ${now.image}` : "its env, secrets, ports or labels";
                const stillServing = servesIn(after, color);
                const next = !stillServing
                    ? `one change per pulumi up: first move traffic (deploy, rollback or abort) with ${color} unchanged, pulumi up; then prepare ${color} in the next`
                    : now.image !== old.image
                      ? `prepare the change on the passive color instead (npm run release -- prepare <tag>${flag}), or pin ${color}'s repository in release.images.${color} if the repository changed`
                      : `put ${color}'s env and secrets back (release.env.${color} and colorSecrets.${color}; a color without release.env runs app.env and appSecrets), then change app.env or appSecrets and prepare that on the passive color (npm run release -- reconfigure${flag})`;
                problems.push(`${head}; this change would replace its container (${what}) in the same update. Legal next step: ${next}.`);
            }
        }
    }
    return problems;
}
