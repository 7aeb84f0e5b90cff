// The rollout's state machine on a track's release block, as pure functions: given the
// current release, the track's two colors (blue/green for the main track's
// `portal:release`) and a verb (with its argument), the next release or a refusal saying
// why, in which stage, and which verbs are legal instead. No files, no Pulumi.

import { isDeepStrictEqual } from "node:util";
import { COLORS, type Color, type EdgeConfig, type LiveChange, type ReleaseConfig } from "../config/config";
import { isMutableTag } from "../config/configRules";
import { PERCENT, TAG_REFERENCE } from "../config/patterns";
import { stageOf } from "../model/rollout";
import { MAIN_TRACK, otherColorOf } from "../model/tracks";

/** A track's two colors; the main track's are blue/green. */
export type ColorPair = readonly [Color, Color];

export const VERBS = ["prepare", "reconfigure", "canary", "deploy", "abort", "rollback", "split"] as const;
export type Verb = (typeof VERBS)[number];

/** The verbs that change a track's release block (split changes portal:edge). */
export type ReleaseVerb = Exclude<Verb, "split">;

/** The arguments each verb takes, as shown in usage and refusals: required ones in <>, optional ones in []. */
export const VERB_ARGUMENT: Record<Verb, string | null> = {
    prepare: "<tag>",
    reconfigure: null,
    canary: "<percent>",
    deploy: null,
    abort: null,
    rollback: "[<color>]",
    split: "<track> <percent>",
};

/** How many positional arguments each verb takes: [at least, at most]. */
const VERB_ARITY: Record<Verb, readonly [number, number]> = {
    prepare: [1, 1],
    reconfigure: [0, 0],
    canary: [1, 1],
    deploy: [0, 0],
    abort: [0, 0],
    rollback: [0, 1],
    split: [2, 2],
};

/** What is wrong with the arguments given to `verb`, or undefined when their count fits. */
export function argumentProblem(verb: Verb, args: readonly string[]): string | undefined {
    const [min, max] = VERB_ARITY[verb];
    if (args.length >= min && args.length <= max) return undefined;
    if (max === 0) return `${verb} takes no argument (got ${args.join(" ")})`;
    if (min === max) return `${verb} takes exactly ${min === 1 ? "one argument" : `${min} arguments`}: ${verb} ${VERB_ARGUMENT[verb]}`;
    return `${verb} takes at most ${max} argument${max === 1 ? "" : "s"}: ${verb} ${VERB_ARGUMENT[verb]}`;
}

export type Transition =
    /** `pinned`: the colors whose env the transition (re)wrote from app.env; their secrets are copied from appSecrets. */
    | { ok: true; release: ReleaseConfig; notes: string[]; pinned?: Color[] }
    | { ok: false; reason: string };

export function isVerb(word: string): word is Verb {
    return (VERBS as readonly string[]).includes(word);
}

/** The color a rollback by name could make live: the other color, if it still has a tag. */
export function rollbackColor(release: ReleaseConfig, colors: ColorPair = COLORS): Color | undefined {
    const other = otherColorOf({ colors }, release.live);
    return release.tags[other] === undefined ? undefined : other;
}

function tagged(release: ReleaseConfig, color: Color): string {
    return `${color} ${release.tags[color] ?? "(no tag)"}`;
}

/**
 * Why a plain `rollback` (no color named) is refused, or undefined when it is safe: the
 * release block's `previous` must record a deploy whose earlier live release still runs,
 * unchanged, on the other color. A second rollback, a rollback after an abort (the other
 * color then holds the aborted release) or one without a record needs the color named.
 */
export function unsafeRollback(release: ReleaseConfig, colors: ColorPair = COLORS): string | undefined {
    const other = rollbackColor(release, colors);
    if (other === undefined) return undefined; // not legal at all: whyIllegalNow says so
    const previous = release.previous;
    const byName = `to put ${tagged(release, other)} live anyway, name the color: rollback ${other}`;
    if (previous === undefined) {
        return `the release block has no previous record, so nothing says which release was live before the last deploy; ${byName}`;
    }
    const from = `${previous.color} ${previous.tag}`;
    if (previous.by === "rollback") {
        return `the last change of live was a rollback (from ${from}); another rollback would put ${tagged(release, other)}, the release rolled back from, live again; ${byName}`;
    }
    if (previous.color === release.live) {
        return `${release.live} is live again since the last deploy (made from ${from}); ${byName}`;
    }
    if (release.tags[previous.color] !== previous.tag) {
        return `${previous.color} held ${previous.tag} before the last deploy but now holds ${release.tags[previous.color]}, prepared since and never deployed (aborted); ${byName}`;
    }
    return undefined;
}

export function legalVerbs(release: ReleaseConfig, colors: ColorPair = COLORS): ReleaseVerb[] {
    if (stageOf(release) === "prepared") {
        return ["canary", "deploy", "abort"];
    }
    return rollbackColor(release, colors) === undefined ? ["prepare", "reconfigure"] : ["prepare", "reconfigure", "rollback"];
}

/** "canary <percent>, deploy, abort"; a rollback that needs its color named shows it: "rollback green". */
export function describeLegalVerbs(release: ReleaseConfig, colors: ColorPair = COLORS): string {
    return legalVerbs(release, colors)
        .map((verb) => {
            if (verb === "rollback") return unsafeRollback(release, colors) === undefined ? "rollback" : `rollback ${rollbackColor(release, colors)}`;
            return VERB_ARGUMENT[verb] === null ? verb : `${verb} ${VERB_ARGUMENT[verb]}`;
        })
        .join(", ");
}

/** What a plain rollback would do now, for `status`: "blue 2020.08.06-1 (live before the last deploy)" or why it needs a color. */
export function describeRollback(release: ReleaseConfig, colors: ColorPair = COLORS): string {
    const other = rollbackColor(release, colors);
    if (stageOf(release) !== "steady") return "none while prepared (abort first)";
    if (other === undefined) return `none (${otherColorOf({ colors }, release.live)} has no tag)`;
    const unsafe = unsafeRollback(release, colors);
    if (unsafe === undefined) return `${tagged(release, other)} goes live (it was live before the last deploy)`;
    return `only by name (rollback ${other}): ${unsafe.slice(0, unsafe.lastIndexOf(";"))}`;
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
        return `the other color ${otherColorOf({ colors }, release.live)} has no tag to roll back to`;
    }
    const needs = verb === "prepare" || verb === "reconfigure" || verb === "rollback" ? "steady" : "prepared";
    return `${verb} needs a ${needs} release and this one is ${stageOf(release)}`;
}

/** The colors of `release` (live, passive, tagged, previous) that are not in the track's pair. */
function foreignColors(release: ReleaseConfig, colors: ColorPair): Color[] {
    const used = [release.live, release.passive, ...Object.keys(release.tags), ...(release.previous ? [release.previous.color] : [])];
    return [...new Set(used.filter((color) => !colors.includes(color)))];
}

/** `release` with what was live until now recorded as `previous`, changed by `by`. */
function recordingLive(release: ReleaseConfig, by: LiveChange): ReleaseConfig {
    return { ...release, previous: { color: release.live, tag: release.tags[release.live], by } };
}

/**
 * Applies `verb` to `release`, a release of the track whose two colors are `colors`
 * (default: the main track's blue/green); `argument` is the raw command-line word (tag,
 * percent or color). Every color the result names comes from `colors`.
 */
export function transition(release: ReleaseConfig, verb: ReleaseVerb, argument?: string, colors: ColorPair = COLORS, context: TransitionContext = {}): Transition {
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
            return prepare(release, colors, argument ?? "", context);
        case "reconfigure":
            return prepare(release, colors, release.tags[release.live], context, true);
        case "canary":
            return canary(release, colors, argument ?? "");
        case "deploy": {
            const note = `${tagged(release, release.passive)} goes live; ${tagged(release, release.live)} keeps running unrouted for a rollback`;
            return { ok: true, release: { ...recordingLive(release, "deploy"), live: release.passive, canary: 0 }, notes: [note] };
        }
        case "abort": {
            const note = `${tagged(release, release.live)} stays live; ${tagged(release, release.passive)} keeps running unrouted (a later plain rollback is refused: it never went live)`;
            return { ok: true, release: { ...release, passive: release.live, canary: 0 }, notes: [note] };
        }
        case "rollback":
            return rollback(release, colors, argument);
    }
}

/**
 * What prepare needs beyond the release: the config's mutable tags, the clock for their pull
 * stamp, and the track's current `image` (portal:image), which the prepared color gets when
 * the release pins each color's repository (`images`): a new repository is prepared like a new tag.
 */
export interface TransitionContext {
    mutableTags?: readonly string[];
    now?: Date;
    image?: string;
    /**
     * The current `app.env`: the prepared color gets it as its own `env` (and an unpinned
     * live color too, unchanged). Undefined: the release's env is left as it is.
     */
    env?: Readonly<Record<string, string>>;
}

/** YYYYMMDD-HHMMSS in UTC, like the program's release stamp. */
export function pullStamp(now: Date): string {
    return now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/**
 * Puts `tag` on the non-live color and makes it passive. The live tag is allowed: a
 * config-only change. A mutable tag (portal:mutableTags) also gets a new `pulled` stamp on
 * that color, which makes the program pull it again.
 */
function prepare(release: ReleaseConfig, colors: ColorPair, tag: string, context: TransitionContext, reconfigure = false): Transition {
    if (!TAG_REFERENCE.test(tag)) {
        return refuse(release, colors, "prepare", tag, `${JSON.stringify(tag)} is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, optionally @sha256:<64 hex>)`);
    }
    const color = otherColorOf({ colors }, release.live);
    const notes = reconfigure
        ? [`${color} gets the live tag ${tag} with the current app.env and appSecrets; ${release.live} keeps running live with its own`]
        : tag === release.tags[release.live]
          ? [`${tag} is also the live tag: ${color} runs the same image as ${release.live}, so only config changes differ`]
          : [];
    const { image } = context;
    const images = release.images !== undefined && image !== undefined ? { images: { ...release.images, [color]: image } } : {};
    if (images.images && image !== release.images?.[release.live]) {
        notes.push(`${color} runs ${image}, live ${release.live} keeps ${release.images?.[release.live] ?? "the stack's image"}`);
    }
    const next: ReleaseConfig = { ...release, ...images, tags: { ...release.tags, [color]: tag }, passive: color, canary: 0 };
    const pinned: Color[] = [];
    if (context.env !== undefined) {
        const live = release.live;
        pinned.push(color);
        if (release.env?.[live] === undefined) {
            pinned.push(live);
            notes.push(`${live} (live) is pinned to the current app.env and appSecrets, which it must already run: if they changed since the last pulumi up, the live guard refuses the update; put them back, then prepare`);
        }
        const env = (c: Color) => (pinned.includes(c) ? { ...context.env } : release.env?.[c]);
        next.env = Object.fromEntries(colors.filter((c) => env(c) !== undefined).map((c) => [c, env(c)!]));
        notes.push(...envNotes(color, release.env?.[color], context.env));
    }
    if (isMutableTag(tag, context.mutableTags ?? [])) {
        const stamp = pullStamp(context.now ?? new Date());
        next.pulled = { ...release.pulled, [color]: stamp };
        notes.push(`${tag} is a mutable tag: ${color} pulls it again (pulled.${color} ${stamp})`);
    }
    return { ok: true, release: next, notes, ...(pinned.length > 0 ? { pinned } : {}) };
}

/** "green env: + FEATURE_X, ~ DJANGO_SETTINGS_MODULE, - OLD" (names only), or nothing when the env is the same. */
function envNotes(color: Color, before: Readonly<Record<string, string>> | undefined, after: Readonly<Record<string, string>>): string[] {
    if (before === undefined) return [];
    const changes = envKeyChanges(before, after);
    return changes.length === 0 ? [] : [`${color} env: ${changes.join(", ")}`];
}

/** The names added (+), changed (~) and removed (-) between two env maps, values never shown. */
export function envKeyChanges(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
    const added = Object.keys(after).filter((k) => !(k in before)).map((k) => `+ ${k}`);
    const changed = Object.keys(after).filter((k) => k in before && before[k] !== after[k]).map((k) => `~ ${k}`);
    const removed = Object.keys(before).filter((k) => !(k in after)).map((k) => `- ${k}`);
    return [...added, ...changed, ...removed];
}

/**
 * Makes the other color live again. Without a color, only when `previous` shows it holds
 * the release live before the last deploy (unsafeRollback); with the color named, any
 * tagged color of the pair that is not live. Either way `previous` then records a rollback.
 */
function rollback(release: ReleaseConfig, colors: ColorPair, named: string | undefined): Transition {
    const other = rollbackColor(release, colors)!;
    if (named === undefined) {
        const unsafe = unsafeRollback(release, colors);
        if (unsafe !== undefined) return refuse(release, colors, "rollback", undefined, unsafe);
    } else if (!colors.includes(named)) {
        return refuse(release, colors, "rollback", named, `${JSON.stringify(named)} is not a color of this track; allowed: ${colors.join(", ")}`);
    } else if (named === release.live) {
        return refuse(release, colors, "rollback", named, `${named} is already live; rollback ${other} puts ${tagged(release, other)} live`);
    }
    const why = named === undefined ? "it was live before the last deploy" : "named by the operator; nothing checked it was live before";
    const note = `${tagged(release, other)} goes live (${why}), with no prepare stage; ${tagged(release, release.live)} keeps running unrouted`;
    return { ok: true, release: { ...recordingLive(release, "rollback"), live: other, passive: other, canary: 0 }, notes: [note] };
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

/** A value the stack file holds under a changed key: a scalar, or a whole new mapping (written as one flow mapping). */
export type ChangeValue = string | number | { readonly [key: string]: ChangeValue };

/** One changed key of a block (a release block, or `portal:edge`): its path below the block, old and new value. */
export interface ReleaseChange {
    path: readonly string[];
    before: ChangeValue | undefined;
    after: ChangeValue;
}

/** The changes turning mapping `before` (undefined: absent) into `after` at `path`: the whole mapping when new, else each changed field. */
function mappingChanges<T extends object>(path: string, before: T | undefined, after: T | undefined, keys: readonly (keyof T & string)[]): ReleaseChange[] {
    if (after === undefined) return [];
    const value = (m: T, key: keyof T & string) => m[key] as unknown as string | number;
    if (before === undefined) {
        return [{ path: [path], before: undefined, after: Object.fromEntries(keys.map((key) => [key, value(after, key)])) }];
    }
    return keys.filter((key) => value(after, key) !== value(before, key)).map((key) => ({ path: [path, key], before: value(before, key), after: value(after, key) }));
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
    if (after.env !== undefined && before.env === undefined) {
        changes.push({ path: ["env"], before: undefined, after: after.env as ChangeValue });
    } else {
        for (const color of colors) {
            const env = after.env?.[color];
            if (env !== undefined && !isDeepStrictEqual(env, before.env?.[color])) {
                changes.push({ path: ["env", color], before: before.env?.[color], after: env });
            }
        }
    }
    for (const key of ["live", "passive", "canary"] as const) {
        if (after[key] !== before[key]) {
            changes.push({ path: [key], before: before[key], after: after[key] });
        }
    }
    changes.push(...mappingChanges("previous", before.previous, after.previous, ["color", "tag", "by"]));
    const pulledColors = colors.filter((color) => after.pulled?.[color] !== undefined);
    changes.push(...mappingChanges("pulled", before.pulled, after.pulled, pulledColors));
    return changes;
}

/** The edge split: which track gets a share of the edge's traffic (the rest goes to the main track). */
export type EdgeSplit = NonNullable<EdgeConfig["split"]>;

export type SplitTransition = { ok: true; split: EdgeSplit; notes: string[] } | { ok: false; reason: string };

/**
 * `split <track> <percent>` on the edge: `tracks` are the tracks besides main with their
 * retired flag. 0 sends everything to main; 100 everything to the track.
 */
export function splitTransition(edge: EdgeConfig | undefined, tracks: readonly { name: string; retired: boolean }[], track: string, percentText: string): SplitTransition {
    const refuseSplit = (why: string): SplitTransition => ({ ok: false, reason: `cannot split ${track} ${percentText}: ${why}` });
    if (edge === undefined) return refuseSplit("the stack has no portal:edge, so there is no split to set");
    const open = tracks.filter((t) => !t.retired).map((t) => t.name);
    if (track === MAIN_TRACK) {
        return refuseSplit(`the split names the track that gets the share; main gets the rest. To send everything to main: split ${edge.split?.track ?? open[0] ?? "<track>"} 0`);
    }
    const known = tracks.find((t) => t.name === track);
    if (known === undefined) return refuseSplit(`${JSON.stringify(track)} is not a track of this stack; allowed: ${open.join(", ") || "(portal:tracks declares none)"}`);
    if (known.retired) return refuseSplit(`track ${track} is retired; allowed: ${open.join(", ") || "(no track that is not retired)"}`);
    if (!PERCENT.test(percentText) || Number(percentText) > 100) {
        return refuseSplit(`${JSON.stringify(percentText)} is not a percentage from 0 to 100 with at most two decimals`);
    }
    const percent = Number(percentText);
    const notes: string[] = [];
    const was = edge.split;
    if (was !== undefined && was.track !== track && was.percent > 0) {
        notes.push(`track ${was.track} no longer gets edge traffic (it had ${was.percent}%)`);
    }
    notes.push(describeSplit({ track, percent }));
    return { ok: true, split: { track, percent }, notes };
}

/** "0.5% of the edge's traffic to py3, 99.5% to main" */
export function describeSplit(split: EdgeSplit | undefined): string {
    if (split === undefined || split.percent === 0) return `all edge traffic to main${split ? ` (0% to ${split.track})` : ""}`;
    const rest = Math.round((100 - split.percent) * 100) / 100;
    return `${split.percent}% of the edge's traffic to ${split.track}, ${rest}% to main`;
}

/** The changes of `portal:edge` for a new split. */
export function splitChanges(before: EdgeSplit | undefined, after: EdgeSplit): ReleaseChange[] {
    return mappingChanges("split", before, after, ["track", "percent"]);
}
