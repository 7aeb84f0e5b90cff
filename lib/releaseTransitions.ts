// The rollout's state machine on a track's release block, as pure functions: given the
// current release, the track's two colors (blue/green for the main track's
// `portal:release`) and a verb (with its argument), the next release or a refusal saying
// why, in which stage, and which verbs are legal instead. No files, no Pulumi.

import { COLORS, type Color, type ReleaseConfig } from "./config";
import { DOCKER_TAG, PERCENT } from "./patterns";
import { stageOf } from "./rollout";
import { otherColorOf } from "./tracks";

/** A track's two colors; the main track's are blue/green. */
export type ColorPair = readonly [Color, Color];

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

/** The color of the pair that is not `color`: where prepare puts a tag and rollback goes. */
export function otherColorIn(colors: ColorPair, color: Color): Color {
    return otherColorOf({ colors }, color);
}

/** The color a rollback would make live: the other color, if it still has a tag. */
export function rollbackColor(release: ReleaseConfig, colors: ColorPair = COLORS): Color | undefined {
    const other = otherColorIn(colors, release.live);
    return release.tags[other] === undefined ? undefined : other;
}

export function legalVerbs(release: ReleaseConfig, colors: ColorPair = COLORS): Verb[] {
    if (stageOf(release) === "prepared") {
        return ["canary", "deploy", "abort"];
    }
    return rollbackColor(release, colors) === undefined ? ["prepare"] : ["prepare", "rollback"];
}

/** "canary <percent>, deploy, abort" */
export function describeLegalVerbs(release: ReleaseConfig, colors: ColorPair = COLORS): string {
    return legalVerbs(release, colors)
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

function refuse(release: ReleaseConfig, colors: ColorPair, verb: Verb, argument: string | undefined, why: string): Transition {
    const command = argument === undefined ? verb : `${verb} ${argument}`;
    return {
        ok: false,
        reason: `cannot ${command}: ${why}\nstage ${describeStage(release)}\nlegal now: ${describeLegalVerbs(release, colors)}`,
    };
}

function whyIllegalNow(release: ReleaseConfig, colors: ColorPair, verb: Verb): string {
    if (verb === "rollback" && stageOf(release) === "steady") {
        return `the other color ${otherColorIn(colors, release.live)} has no tag to roll back to`;
    }
    const needs = verb === "prepare" || verb === "rollback" ? "steady" : "prepared";
    return `${verb} needs a ${needs} release and this one is ${stageOf(release)}`;
}

/** The colors of `release` (live, passive, tagged) that are not in the track's pair. */
function foreignColors(release: ReleaseConfig, colors: ColorPair): Color[] {
    const used = [release.live, release.passive, ...Object.keys(release.tags)];
    return [...new Set(used.filter((color) => !colors.includes(color)))];
}

/**
 * Applies `verb` to `release`, a release of the track whose two colors are `colors`
 * (default: the main track's blue/green); `argument` is the raw command-line word (tag or
 * percent). Every color the result names comes from `colors`.
 */
export function transition(release: ReleaseConfig, verb: Verb, argument?: string, colors: ColorPair = COLORS, image?: string): Transition {
    const foreign = foreignColors(release, colors);
    if (foreign.length > 0) {
        const command = argument === undefined ? verb : `${verb} ${argument}`;
        return { ok: false, reason: `cannot ${command}: the release uses ${foreign.join(", ")}, not one of this track's colors ${colors.join(", ")}` };
    }
    if (!legalVerbs(release, colors).includes(verb)) {
        return refuse(release, colors, verb, argument, whyIllegalNow(release, colors, verb));
    }
    switch (verb) {
        case "prepare":
            return prepare(release, colors, argument ?? "", image);
        case "canary":
            return canary(release, colors, argument ?? "");
        case "deploy":
            return { ok: true, release: { ...release, live: release.passive, canary: 0 }, notes: [] };
        case "abort":
            return { ok: true, release: { ...release, passive: release.live, canary: 0 }, notes: [] };
        case "rollback":
            return rollback(release, colors);
    }
}

/**
 * Puts `tag` on the non-live color and makes it passive. The live tag is allowed: a config-only change.
 * When the release pins each color's repository (`images`), the prepared color gets `image`
 * (the track's current `image`, i.e. `portal:image`): a new repository is prepared like a new tag.
 */
function prepare(release: ReleaseConfig, colors: ColorPair, tag: string, image?: string): Transition {
    if (!DOCKER_TAG.test(tag)) {
        return refuse(release, colors, "prepare", tag, `${JSON.stringify(tag)} is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
    }
    const color = otherColorIn(colors, release.live);
    const notes =
        tag === release.tags[release.live]
            ? [`${tag} is also the live tag: ${color} runs the same image as ${release.live}, so only config changes differ`]
            : [];
    const images = release.images !== undefined && image !== undefined ? { images: { ...release.images, [color]: image } } : {};
    if (images.images && image !== release.images?.[release.live]) {
        notes.push(`${color} runs ${image}, live ${release.live} keeps ${release.images?.[release.live] ?? "the stack's image"}`);
    }
    return { ok: true, release: { ...release, ...images, tags: { ...release.tags, [color]: tag }, passive: color, canary: 0 }, notes };
}

/**
 * Makes the other color live again. The config keeps no history: after an abort the other
 * color holds the aborted release, so the note names what goes live.
 */
function rollback(release: ReleaseConfig, colors: ColorPair): Transition {
    const color = rollbackColor(release, colors)!;
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

function canary(release: ReleaseConfig, colors: ColorPair, text: string): Transition {
    const percent = parsePercent(text);
    if (typeof percent === "string") {
        return refuse(release, colors, "canary", text, percent);
    }
    return { ok: true, release: { ...release, canary: percent }, notes: [] };
}

/** One changed key of a release block: its path below the block (e.g. `portal:release`), old and new value. */
export interface ReleaseChange {
    path: readonly string[];
    before: string | number | undefined;
    after: string | number;
}

/** The keys whose (validated) value differs between two releases of a track with `colors`, in the block's usual key order. */
export function releaseChanges(before: ReleaseConfig, after: ReleaseConfig, colors: ColorPair = COLORS): ReleaseChange[] {
    const changes: ReleaseChange[] = [];
    for (const color of colors) {
        const tag = after.tags[color];
        if (tag !== undefined && tag !== before.tags[color]) {
            changes.push({ path: ["tags", color], before: before.tags[color], after: tag });
        }
    }
    for (const color of colors) {
        const image = after.images?.[color];
        if (image !== undefined && image !== before.images?.[color]) {
            changes.push({ path: ["images", color], before: before.images?.[color], after: image });
        }
    }
    for (const key of ["live", "passive", "canary"] as const) {
        if (after[key] !== before[key]) {
            changes.push({ path: [key], before: before[key], after: after[key] });
        }
    }
    return changes;
}
