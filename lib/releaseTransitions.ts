// The rollout's state machine on the `portal:release` block, as pure functions: given the
// current release and a verb (with its argument), the next release or a refusal saying
// why, in which stage, and which verbs are legal instead. No files, no Pulumi.

import { COLORS, type Color, type ReleaseConfig } from "./config";
import { DOCKER_TAG, PERCENT } from "./patterns";
import { otherColor, stageOf } from "./rollout";

export const VERBS = ["prepare", "canary", "deploy", "abort", "rollback"] as const;
export type Verb = (typeof VERBS)[number];

/** The argument each verb takes, as shown in usage and refusals; null: none. */
export const VERB_ARGUMENT: Record<Verb, string | null> = {
    prepare: "<tag>",
    canary: "<percent>",
    deploy: null,
    abort: null,
    rollback: null,
};

export type Transition =
    | { ok: true; release: ReleaseConfig; notes: string[] }
    | { ok: false; reason: string };

export function isVerb(word: string): word is Verb {
    return (VERBS as readonly string[]).includes(word);
}

/** The color a rollback would make live: the other color, if it still has a tag. */
export function rollbackColor(release: ReleaseConfig): Color | undefined {
    const other = otherColor(release.live);
    return release.tags[other] === undefined ? undefined : other;
}

export function legalVerbs(release: ReleaseConfig): Verb[] {
    if (stageOf(release) === "prepared") {
        return ["canary", "deploy", "abort"];
    }
    return rollbackColor(release) === undefined ? ["prepare"] : ["prepare", "rollback"];
}

/** "canary <percent>, deploy, abort" */
export function describeLegalVerbs(release: ReleaseConfig): string {
    return legalVerbs(release)
        .map((verb) => (VERB_ARGUMENT[verb] === null ? verb : `${verb} ${VERB_ARGUMENT[verb]}`))
        .join(", ");
}

function describeColor(release: ReleaseConfig, color: Color): string {
    return `${color} (${release.tags[color] ?? "no tag"})`;
}

/** "prepared: live blue (1.0), passive green (1.1), canary 5%" */
export function describeStage(release: ReleaseConfig): string {
    return (
        `${stageOf(release)}: live ${describeColor(release, release.live)}, ` +
        `passive ${describeColor(release, release.passive)}, canary ${release.canary}%`
    );
}

function refuse(release: ReleaseConfig, verb: Verb, argument: string | undefined, why: string): Transition {
    const command = argument === undefined ? verb : `${verb} ${argument}`;
    return {
        ok: false,
        reason: `cannot ${command}: ${why}\nstage ${describeStage(release)}\nlegal now: ${describeLegalVerbs(release)}`,
    };
}

function whyIllegalNow(release: ReleaseConfig, verb: Verb): string {
    if (verb === "rollback" && stageOf(release) === "steady") {
        return `the other color ${otherColor(release.live)} has no tag to roll back to`;
    }
    const needs = verb === "prepare" || verb === "rollback" ? "steady" : "prepared";
    return `${verb} needs a ${needs} release and this one is ${stageOf(release)}`;
}

/** Applies `verb` to `release`; `argument` is the raw command-line word (tag or percent). */
export function transition(release: ReleaseConfig, verb: Verb, argument?: string): Transition {
    if (!legalVerbs(release).includes(verb)) {
        return refuse(release, verb, argument, whyIllegalNow(release, verb));
    }
    switch (verb) {
        case "prepare":
            return prepare(release, argument ?? "");
        case "canary":
            return canary(release, argument ?? "");
        case "deploy":
            return { ok: true, release: { ...release, live: release.passive, canary: 0 }, notes: [] };
        case "abort":
            return { ok: true, release: { ...release, passive: release.live, canary: 0 }, notes: [] };
        case "rollback":
            return rollback(release);
    }
}

/** Puts `tag` on the non-live color and makes it passive. The live tag is allowed: a config-only change. */
function prepare(release: ReleaseConfig, tag: string): Transition {
    if (!DOCKER_TAG.test(tag)) {
        return refuse(release, "prepare", tag, `${JSON.stringify(tag)} is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
    }
    const color = otherColor(release.live);
    const notes =
        tag === release.tags[release.live]
            ? [`${tag} is also the live tag: ${color} runs the same image as ${release.live}, so only config changes differ`]
            : [];
    return { ok: true, release: { ...release, tags: { ...release.tags, [color]: tag }, passive: color, canary: 0 }, notes };
}

/**
 * Makes the other color live again. The config keeps no history: after an abort the other
 * color holds the aborted release, so the note names what goes live.
 */
function rollback(release: ReleaseConfig): Transition {
    const color = rollbackColor(release)!;
    const note = `${color} (${release.tags[color]}) goes live directly, with no prepare stage; check it is the release you want back (after an abort, ${color} holds the aborted release)`;
    return { ok: true, release: { ...release, live: color, passive: color, canary: 0 }, notes: [note] };
}

/** Parses a canary share: 0 to 99.99, two decimals at most; a string saying what is wrong otherwise. */
export function parsePercent(text: string): number | string {
    if (!PERCENT.test(text)) {
        return `${JSON.stringify(text)} is not a percentage from 0 to 99.99 with at most two decimals`;
    }
    const percent = Number(text);
    if (percent === 100) {
        return "100% is a deploy, not a canary: run deploy";
    }
    if (percent > 100) {
        return `${text} is over 99.99; a canary sends 0 to 99.99 percent of live traffic`;
    }
    return percent;
}

function canary(release: ReleaseConfig, text: string): Transition {
    const percent = parsePercent(text);
    if (typeof percent === "string") {
        return refuse(release, "canary", text, percent);
    }
    return { ok: true, release: { ...release, canary: percent }, notes: [] };
}

/** One changed key of the release block: its path below `portal:release`, old and new value. */
export interface ReleaseChange {
    path: readonly string[];
    before: string | number | undefined;
    after: string | number;
}

/** The keys whose (validated) value differs between two releases, in the block's usual key order. */
export function releaseChanges(before: ReleaseConfig, after: ReleaseConfig): ReleaseChange[] {
    const changes: ReleaseChange[] = [];
    for (const color of COLORS) {
        const tag = after.tags[color];
        if (tag !== undefined && tag !== before.tags[color]) {
            changes.push({ path: ["tags", color], before: before.tags[color], after: tag });
        }
    }
    for (const key of ["live", "passive", "canary"] as const) {
        if (after[key] !== before[key]) {
            changes.push({ path: [key], before: before[key], after: after[key] });
        }
    }
    return changes;
}
