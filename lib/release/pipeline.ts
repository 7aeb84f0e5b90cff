// The release helper's pipeline as a pure function: a stack file's text and a command in,
// the report and the edited text (or a refusal saying why) out. bin/release.ts keeps the
// argv, the file's reading and atomic writing, and the exit codes.

import { isDeepStrictEqual } from "node:util";
import { ConfigError, validateConfig, type PortalConfig, type ReleaseConfig } from "../config/config";
import { didYouMean } from "../cli";
import {
    describeLegalVerbs,
    describeRollback,
    describeSplit,
    describeStage,
    envKeyChanges,
    releaseChanges,
    splitChanges,
    splitTransition,
    transition,
    type ChangeValue,
    type ReleaseChange,
    type ReleaseVerb,
    type Verb,
} from "./releaseTransitions";
import { stageOf } from "../model/rollout";
import {
    MAIN_RELEASE,
    StackFileError,
    applyReleaseChanges,
    isQuotedKey,
    portalStackConfig,
    rawStackValue,
    releaseKey,
    secretCopies,
    trackRelease,
    type ReleaseBlockPath,
} from "./stackFileEdit";
import { MAIN_TRACK, tracksOf, type Track } from "../model/tracks";

export interface ReleaseCommand {
    verb: Verb | "status";
    argument?: string;
    stack: string;
    /** The track named with --track; undefined: none named (the main track, and status shows all). */
    track?: string;
    dryRun: boolean;
}

/** Exit code and output; `write`: the edited text to write (not on a dry run), and the refusal if the file changed meanwhile. */
export interface PipelineResult {
    code: 0 | 1;
    stdout: string;
    stderr: string;
    write?: { text: string; ifChanged: PipelineResult };
}

function ok(stdout: string): PipelineResult {
    return { code: 0, stdout, stderr: "" };
}

function refused(message: string): PipelineResult {
    return { code: 1, stdout: "", stderr: `${message}\n` };
}

/** `report` plus the edit to write, unless the command is a dry run. */
function writing(command: ReleaseCommand, report: PipelineResult, text: string, ifChanged: PipelineResult): PipelineResult {
    return command.dryRun ? report : { ...report, write: { text, ifChanged } };
}

/** The track a command acts on, and where its release block is in the stack file. */
interface TrackRelease {
    track: Track;
    /** Its index in portal:tracks; null for the main track. */
    index: number | null;
    block: ReleaseBlockPath;
}

function trackReleaseOf(config: PortalConfig, track: Track): TrackRelease {
    if (track.main) return { track, index: null, block: MAIN_RELEASE };
    const index = config.tracks.findIndex((t) => t.name === track.name);
    return { track, index, block: trackRelease(index) };
}

function findTrackRelease(config: PortalConfig, name: string): TrackRelease | undefined {
    const track = tracksOf(config).find((t) => t.name === name);
    return track && trackReleaseOf(config, track);
}

function releaseAt(config: PortalConfig, target: TrackRelease): ReleaseConfig {
    return target.index === null ? config.release : config.tracks[target.index].release;
}

/** `config` with the target's release replaced: what the rest of an edited config must equal. */
function withReleaseAt(config: PortalConfig, target: TrackRelease, release: ReleaseConfig): PortalConfig {
    if (target.index === null) return { ...config, release };
    return { ...config, tracks: config.tracks.map((t, i) => (i === target.index ? { ...t, release } : t)) };
}

/** ", track py3" after the stack's name; nothing for the main track (its output is as it always was). */
function trackSuffix(target: TrackRelease): string {
    return target.track.main ? "" : `, track ${target.track.name}${target.track.retired ? " (retired)" : ""}`;
}

/** A refusal on `target`, naming it unless it is the main track. */
function refusedOn(target: TrackRelease, message: string): PipelineResult {
    return refused(target.track.main ? message : `track ${target.track.name}: ${message}`);
}

function validated(text: string, fileName: string, stack: string): PortalConfig {
    const { raw, storage } = portalStackConfig(text, fileName, stack);
    return validateConfig(raw, storage);
}

function renderStatus(stack: string, target: TrackRelease): string {
    const { release, colors, retired } = target.track;
    const tags = Object.entries(release.tags).map(([color, tag]) => `${color}=${tag}`).join(" ");
    const previous = release.previous;
    return [
        `stack ${stack}${trackSuffix(target)}: ${stageOf(release)}`,
        `  live:    ${release.live} (${release.tags[release.live]})`,
        `  passive: ${release.passive} (${release.tags[release.passive]})`,
        `  canary:  ${release.canary}%`,
        `  tags:    ${tags}`,
        ...(previous ? [`  before the last ${previous.by}: ${previous.color} (${previous.tag})`] : []),
        ...(stageOf(release) === "steady" && !retired ? [`  rollback: ${describeRollback(release, colors)}`] : []),
        `legal now: ${retired ? "none (the track is retired)" : describeLegalVerbs(release, colors)}`,
    ].join("\n") + "\n";
}

/** The edge's split, after the tracks (only when the stack has an edge). */
function renderEdgeStatus(config: PortalConfig): string[] {
    const edge = config.edge;
    if (!edge) return [];
    const hosts = edge.hosts.map((h) => h.name).join(", ");
    return [`edge (${hosts}): ${describeSplit(edge.split)}\nlegal now: split <track> <percent>\n`];
}

/** One target's block, or (no --track) the main track's as always, then each other track's, then the edge. */
function renderStatuses(command: ReleaseCommand, config: PortalConfig, target: TrackRelease): string {
    if (command.track !== undefined) return renderStatus(command.stack, target);
    return [...tracksOf(config).map((track) => renderStatus(command.stack, trackReleaseOf(config, track))), ...renderEdgeStatus(config)].join("\n");
}

function renderScalar(value: string | number, tag: boolean): string {
    return tag ? JSON.stringify(value) : String(value);
}

function renderValue(path: readonly string[], value: ChangeValue | undefined): string {
    if (value === undefined) return "(unset)";
    if (typeof value === "object") {
        // Copied secrets: their names only, never a ciphertext.
        if (Object.values(value).some((v) => typeof v === "object" && "secure" in v)) return `{ ${Object.keys(value).join(", ")} } (encrypted, copied from portal:appSecrets)`;
        const fields = Object.entries(value).map(([key, v]) => `${key}: ${renderValue([...path, key], v)}`);
        return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
    }
    return renderScalar(value, isQuotedKey(path));
}

/** The changed keys, one line each; `blocks`: each change list with the block it is below. */
function renderChanges(blocks: readonly (readonly [ReleaseBlockPath, readonly ReleaseChange[]])[]): string[] {
    const all = blocks.flatMap(([block, changes]) => changes.map((c) => [releaseKey(c.path, block), c] as const));
    const width = Math.max(...all.map(([key]) => key.length));
    return all.map(([key, c]) => `  ${key.padEnd(width)}  ${renderValue(c.path, c.before)} → ${renderValue(c.path, c.after)}`);
}

function renderReport(command: ReleaseCommand, target: TrackRelease, file: string, before: ReleaseConfig, after: ReleaseConfig, changes: readonly (readonly [ReleaseBlockPath, readonly ReleaseChange[]])[], notes: readonly string[]): string {
    return renderEdited(command, file, trackSuffix(target), changes, notes, [
        `stage ${describeStage(after)}${stageOf(before) === stageOf(after) ? "" : ` (was ${stageOf(before)})`}`,
    ], `then legal: ${describeLegalVerbs(after, target.track.colors)}`);
}

/** The report of any edit: title, changed keys, notes, the state after, the next commands. */
function renderEdited(command: ReleaseCommand, file: string, suffix: string, changes: readonly (readonly [ReleaseBlockPath, readonly ReleaseChange[]])[], notes: readonly string[], state: string[], legal: string): string {
    const { stack, dryRun } = command;
    const title = [command.verb, command.argument].filter((w) => w !== undefined).join(" ");
    const lines = [
        `${dryRun ? "dry run: " : ""}${title} on stack ${stack}${suffix} (${file})`,
        ...renderChanges(changes),
        ...notes.map((note) => `note: ${note}`),
        ...state,
        dryRun ? `nothing written (dry run). Without --dry-run, then:` : `wrote ${file}. Next:`,
        `  pulumi preview -s ${stack}`,
        `  pulumi up -s ${stack}`,
        legal,
    ];
    return lines.join("\n") + "\n";
}

function changeRelease(command: ReleaseCommand, fileName: string, text: string, config: PortalConfig, target: TrackRelease): PipelineResult {
    const verb = command.verb as ReleaseVerb;
    const { track, block } = target;
    if (track.retired) {
        return refusedOn(
            target,
            `cannot ${[verb, command.argument].filter((w) => w !== undefined).join(" ")}: the track is retired (${releaseKey(["retired"], block.slice(0, -1))}: true); it serves no edge traffic and its containers are unprotected. Set retired to false first to roll it out again`,
        );
    }
    const before = releaseAt(config, target);
    const result = transition(before, verb, command.argument, track.colors, { mutableTags: config.mutableTags, image: track.image, env: config.app.env });
    if (!result.ok) {
        return refusedOn(target, result.reason);
    }
    const changes = releaseChanges(before, result.release, track.colors);
    if (changes.length === 0) {
        return ok(`${verb} ${command.argument ?? ""}: nothing to change on stack ${command.stack}${trackSuffix(target)}\nstage ${describeStage(before)}\n`);
    }
    // Each newly pinned color gets its own copy of the app secrets, next to its env.
    const secrets = secretCopies(text, track.colors.filter((c) => result.pinned?.includes(c)));
    const notes = [...result.notes, ...secretNotes(text, result.release.passive, result.pinned ?? [])];
    const edited = applyReleaseChanges(applyReleaseChanges(text, changes, block), secrets.changes, secrets.block);
    let afterConfig: PortalConfig;
    try {
        afterConfig = validated(edited, fileName, command.stack);
    } catch (e) {
        if (e instanceof ConfigError) return refusedOn(target, `cannot ${verb}: the result would not be a valid config:\n${e.message}`);
        throw e;
    }
    const after = releaseAt(afterConfig, target);
    if (!isDeepStrictEqual(after, result.release)) {
        return refusedOn(target, `cannot ${verb}: the edited file would not hold the intended release; edit it by hand`);
    }
    // The copied secrets are checked below; everything else must be as it was.
    if (!isDeepStrictEqual({ ...withReleaseAt(afterConfig, target, before), secretNames: config.secretNames }, config)) {
        return refusedOn(target, `cannot ${verb}: the edited file would change more than ${releaseKey([], block)}; edit it by hand`);
    }
    const appSecrets = rawStackValue(text, "portal:appSecrets") ?? {};
    const copied = (rawStackValue(edited, "portal:colorSecrets") ?? {}) as Record<string, unknown>;
    if ((result.pinned ?? []).some((c) => !isDeepStrictEqual(copied[c] ?? {}, appSecrets))) {
        return refusedOn(target, `cannot ${verb}: the edited file would not give ${result.pinned!.join(", ")} a copy of portal:appSecrets; edit it by hand`);
    }
    const report = ok(renderReport(command, target, fileName, before, after, [[block, changes], [secrets.block, secrets.changes]], notes));
    return writing(command, report, edited, refusedOn(target, `cannot ${verb}: ${fileName} changed while it was being edited; run the command again`));
}

/** "green secrets: ~ DATABASE_PASSWORD" for the prepared color: names whose ciphertext differs from its last copy (set again). */
function secretNotes(text: string, color: string, pinned: readonly string[]): string[] {
    if (!pinned.includes(color)) return [];
    const had = ((rawStackValue(text, "portal:colorSecrets") ?? {}) as Record<string, Record<string, unknown> | undefined>)[color] ?? {};
    const texts = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, JSON.stringify(v)]));
    const changes = envKeyChanges(texts(had), texts((rawStackValue(text, "portal:appSecrets") ?? {}) as Record<string, unknown>));
    return changes.length === 0 ? [] : [`${color} secrets: ${changes.join(", ")} (values stay encrypted; a secret set again counts as changed)`];
}

const EDGE_BLOCK: ReleaseBlockPath = ["portal:edge"];

/** `split <track> <percent>`: edits portal:edge.split alone, with the same checks as a release edit. */
function changeSplit(command: ReleaseCommand, fileName: string, text: string, config: PortalConfig): PipelineResult {
    const [trackWord, percentText] = (command.argument ?? "").split(" ");
    const result = splitTransition(config.edge, config.tracks, trackWord, percentText);
    if (!result.ok) return refused(result.reason);
    const edge = config.edge!;
    const changes = splitChanges(edge.split, result.split);
    if (changes.length === 0) {
        return ok(`split ${command.argument}: nothing to change on stack ${command.stack}\nedge: ${describeSplit(edge.split)}\n`);
    }
    const edited = applyReleaseChanges(text, changes, EDGE_BLOCK);
    let afterConfig: PortalConfig;
    try {
        afterConfig = validated(edited, fileName, command.stack);
    } catch (e) {
        if (e instanceof ConfigError) return refused(`cannot split: the result would not be a valid config:\n${e.message}`);
        throw e;
    }
    if (!isDeepStrictEqual(afterConfig.edge?.split, result.split)) {
        return refused("cannot split: the edited file would not hold the intended split; edit it by hand");
    }
    if (!isDeepStrictEqual({ ...afterConfig, edge: { ...afterConfig.edge!, split: edge.split } }, config)) {
        return refused("cannot split: the edited file would change more than portal:edge.split; edit it by hand");
    }
    const hosts = edge.hosts.map((h) => h.name).join(", ");
    const report = ok(renderEdited(command, fileName, "", [[EDGE_BLOCK, changes]], result.notes.slice(0, -1), [`edge (${hosts}): ${result.notes[result.notes.length - 1]}`], "then legal: split <track> <percent>"));
    return writing(command, report, edited, refused(`cannot split: ${fileName} changed while it was being edited; run the command again`));
}

/**
 * The release helper's whole pipeline on a stack file's text: parse and validate it, apply
 * the verb, edit the text in place, check the edit means what was intended and nothing more.
 * `text` is Pulumi.<stack>.yaml's content, `fileName` its name for messages.
 */
export function releasePipeline(command: ReleaseCommand, text: string, fileName: string): PipelineResult {
    let config: PortalConfig;
    try {
        config = validated(text, fileName, command.stack);
    } catch (e) {
        if (e instanceof ConfigError || e instanceof StackFileError) {
            return refused(`${fileName} is not a valid portal config now; fix it first:\n${e.message}`);
        }
        throw e;
    }
    const name = command.track ?? MAIN_TRACK;
    const target = findTrackRelease(config, name);
    if (target === undefined) {
        const known = tracksOf(config).map((t) => t.name + (t.retired ? " (retired)" : ""));
        return refused(`unknown track ${name} on stack ${command.stack}${didYouMean(name, tracksOf(config).map((t) => t.name))}; known tracks: ${known.join(", ")}`);
    }
    try {
        if (command.verb === "status") return ok(renderStatuses(command, config, target));
        if (command.verb === "split") return changeSplit(command, fileName, text, config);
        return changeRelease(command, fileName, text, config, target);
    } catch (e) {
        if (e instanceof StackFileError) return refused(`cannot ${command.verb}: ${e.message}`);
        throw e;
    }
}
