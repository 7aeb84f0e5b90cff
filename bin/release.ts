// npm run release -- <verb> [arg] --stack <name> [--track <name>] [--dry-run]
// One command per rollout stage: edits one track's release block of Pulumi.<name>.yaml
// (in the current directory) so that it can only hold a legal next stage. The main track
// (default, or --track main) is `portal:release` with blue/green; another track is its
// `portal:tracks` entry's `release`, with that track's own two colors. Exit 0: done (or
// nothing to change); 1: refused (illegal transition, bad argument, unknown or retired
// track, invalid config, unreadable file), the file untouched; 2: usage.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ConfigError, validateConfig, type PortalConfig, type ReleaseConfig } from "../lib/config";
import { UsageError, checkStack, didYouMean, emit, parseArgs, stacksIn, type FlagSpec } from "../lib/cli";
import {
    VERBS,
    VERB_ARGUMENT,
    describeLegalVerbs,
    describeStage,
    isVerb,
    releaseChanges,
    transition,
    type ReleaseChange,
    type Verb,
} from "../lib/releaseTransitions";
import { stageOf } from "../lib/rollout";
import {
    MAIN_RELEASE,
    StackFileError,
    applyReleaseChanges,
    portalStackConfig,
    releaseKey,
    trackRelease,
    type ReleaseBlockPath,
} from "../lib/stackFileEdit";
import { MAIN_TRACK, tracksOf, type Track } from "../lib/tracks";

export interface ReleaseResult {
    code: 0 | 1 | 2;
    stdout: string;
    stderr: string;
}

const USAGE = `usage: npm run release -- <verb> [arg] --stack <name> [--dry-run]
       npm run release -- <verb> [arg] --stack <name> --track <name> [--dry-run]
       (-s <name> for --stack; --flag=value or --flag value; -h, --help or help: this text)
verbs:
  status              the stage, colors, tags, canary and the verbs legal now
  prepare <tag>       steady only: put <tag> on the non-live color and make it passive
  canary <percent>    prepared only: send 0 to 99.99 percent of live traffic to the passive color
  deploy              prepared only: make the passive color live (canary back to 0)
  abort               prepared only: point passive back at live (the prepared container stays, unrouted)
  rollback            steady only: make the other color live again (it must still have a tag)
--track <name> acts on that entry of portal:tracks, with its own colors (default: main, the
  top-level portal:release with blue/green); status without --track shows every track.
--dry-run prints what would change and writes nothing.
`;

interface Command {
    verb: Verb | "status";
    argument?: string;
    stack: string;
    /** The track named with --track; undefined: none named (the main track, and status shows all). */
    track?: string;
    dryRun: boolean;
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;


function ok(stdout: string): ReleaseResult {
    return { code: 0, stdout, stderr: "" };
}

function refused(message: string): ReleaseResult {
    return { code: 1, stdout: "", stderr: `${message}\n` };
}

function usage(message: string): ReleaseResult {
    return { code: 2, stdout: "", stderr: `${message}\n${USAGE}` };
}

const FLAGS: FlagSpec[] = [
    { name: "stack", short: "s", value: true },
    { name: "track", value: true },
    { name: "dry-run", value: false },
];

/** Splits argv into flags (--stack/-s, --track, --dry-run) and positional words (verb and argument); null: help asked. */
function parseCommand(argv: readonly string[], cwd: string): Command | null {
    let parsed;
    try {
        parsed = parseArgs(argv, FLAGS);
    } catch (e) {
        // `--track` with no name says which names it takes.
        if (e instanceof UsageError && e.message === "--track needs a value") throw new UsageError("--track needs a track name (main, or a name in portal:tracks)");
        throw e;
    }
    const { flags, words, help } = parsed;
    if (help) return null;
    const stack = flags.get("stack") as string | undefined;
    const track = flags.get("track") as string | undefined;
    const [verb, ...rest] = words;
    const verbs = ["status", ...VERBS];
    if (verb === undefined) throw new UsageError(`missing verb (verbs: ${verbs.join(", ")})`);
    if (verb !== "status" && !isVerb(verb)) throw new UsageError(`unknown verb ${verb}${didYouMean(verb, verbs)} (verbs: ${verbs.join(", ")})`);
    if (stack === undefined) throw new UsageError(`--stack <name> is required (stacks: ${stacksIn(cwd).join(", ") || "none"})`);
    if (!STACK_NAME.test(stack)) throw new UsageError(`--stack ${stack}: a stack name is letters, digits, '.', '_', '-'`);
    checkStack(stack, cwd);
    const wanted = verb === "status" ? null : VERB_ARGUMENT[verb];
    if (wanted === null && rest.length > 0) throw new UsageError(`${verb} takes no argument (got ${rest.join(" ")})`);
    if (wanted !== null && rest.length !== 1) throw new UsageError(`${verb} takes exactly one argument: ${verb} ${wanted}`);
    return { verb, argument: rest[0], stack, track, dryRun: flags.get("dry-run") === true };
}

/** The track a command acts on, and where its release block is in the stack file. */
interface Target {
    track: Track;
    /** Its index in portal:tracks; null for the main track. */
    index: number | null;
    block: ReleaseBlockPath;
}

function targetOf(config: PortalConfig, track: Track): Target {
    if (track.main) return { track, index: null, block: MAIN_RELEASE };
    const index = config.tracks.findIndex((t) => t.name === track.name);
    return { track, index, block: trackRelease(index) };
}

function findTarget(config: PortalConfig, name: string): Target | undefined {
    const track = tracksOf(config).find((t) => t.name === name);
    return track && targetOf(config, track);
}

function releaseAt(config: PortalConfig, target: Target): ReleaseConfig {
    return target.index === null ? config.release : config.tracks[target.index].release;
}

/** `config` with the target's release replaced: what the rest of an edited config must equal. */
function withReleaseAt(config: PortalConfig, target: Target, release: ReleaseConfig): PortalConfig {
    if (target.index === null) return { ...config, release };
    return { ...config, tracks: config.tracks.map((t, i) => (i === target.index ? { ...t, release } : t)) };
}

/** ", track py3" after the stack's name; nothing for the main track (its output is as it always was). */
function trackSuffix(target: Target): string {
    return target.track.main ? "" : `, track ${target.track.name}${target.track.retired ? " (retired)" : ""}`;
}

/** A refusal on `target`, naming it unless it is the main track. */
function refusedOn(target: Target, message: string): ReleaseResult {
    return refused(target.track.main ? message : `track ${target.track.name}: ${message}`);
}

function validated(text: string, fileName: string, stack: string): PortalConfig {
    const { raw, storage } = portalStackConfig(text, fileName, stack);
    return validateConfig(raw, storage);
}

function renderStatus(stack: string, target: Target): string {
    const { release, colors, retired } = target.track;
    const tags = Object.entries(release.tags).map(([color, tag]) => `${color}=${tag}`).join(" ");
    return [
        `stack ${stack}${trackSuffix(target)}: ${stageOf(release)}`,
        `  live:    ${release.live} (${release.tags[release.live]})`,
        `  passive: ${release.passive} (${release.tags[release.passive]})`,
        `  canary:  ${release.canary}%`,
        `  tags:    ${tags}`,
        `legal now: ${retired ? "none (the track is retired)" : describeLegalVerbs(release, colors)}`,
    ].join("\n") + "\n";
}

/** One target's block, or (no --track) the main track's as always, then each other track's. */
function renderStatuses(command: Command, config: PortalConfig, target: Target): string {
    if (command.track !== undefined) return renderStatus(command.stack, target);
    return tracksOf(config).map((track) => renderStatus(command.stack, targetOf(config, track))).join("\n");
}

function renderValue(change: ReleaseChange, value: string | number | undefined): string {
    if (value === undefined) return "(unset)";
    return change.path[0] === "tags" ? JSON.stringify(value) : String(value);
}

function renderChanges(block: ReleaseBlockPath, changes: readonly ReleaseChange[]): string[] {
    const width = Math.max(...changes.map((c) => releaseKey(c.path, block).length));
    return changes.map((c) => `  ${releaseKey(c.path, block).padEnd(width)}  ${renderValue(c, c.before)} → ${renderValue(c, c.after)}`);
}

function renderReport(command: Command, target: Target, file: string, before: ReleaseConfig, after: ReleaseConfig, changes: readonly ReleaseChange[], notes: readonly string[]): string {
    const { stack, dryRun } = command;
    const title = [command.verb, command.argument].filter((w) => w !== undefined).join(" ");
    const lines = [
        `${dryRun ? "dry run: " : ""}${title} on stack ${stack}${trackSuffix(target)} (${file})`,
        ...renderChanges(target.block, changes),
        ...notes.map((note) => `note: ${note}`),
        `stage ${describeStage(after)}${stageOf(before) === stageOf(after) ? "" : ` (was ${stageOf(before)})`}`,
        dryRun ? `nothing written (dry run). Without --dry-run, then:` : `wrote ${file}. Next:`,
        `  pulumi preview -s ${stack}`,
        `  pulumi up -s ${stack}`,
        `then legal: ${describeLegalVerbs(after, target.track.colors)}`,
    ];
    return lines.join("\n") + "\n";
}

/** Writes through a temp file in the same directory and a rename: readers see the old file or the new one. */
function writeAtomically(file: string, text: string): void {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const mode = fs.statSync(file).mode & 0o7777;
    try {
        const fd = fs.openSync(temp, "wx", mode);
        try {
            fs.writeFileSync(fd, text);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(temp, file);
    } catch (e) {
        fs.rmSync(temp, { force: true });
        throw e;
    }
}

function changeRelease(command: Command, fileName: string, filePath: string, text: string, config: PortalConfig, target: Target): ReleaseResult {
    const verb = command.verb as Verb;
    const { track, block } = target;
    if (track.retired) {
        return refusedOn(
            target,
            `cannot ${[verb, command.argument].filter((w) => w !== undefined).join(" ")}: the track is retired (${releaseKey(["retired"], block.slice(0, -1))}: true); it serves no edge traffic and its containers are unprotected. Set retired to false first to roll it out again`,
        );
    }
    const before = releaseAt(config, target);
    const result = transition(before, verb, command.argument, track.colors);
    if (!result.ok) {
        return refusedOn(target, result.reason);
    }
    const changes = releaseChanges(before, result.release, track.colors);
    if (changes.length === 0) {
        return ok(`${verb} ${command.argument ?? ""}: nothing to change on stack ${command.stack}${trackSuffix(target)}\nstage ${describeStage(before)}\n`);
    }
    const edited = applyReleaseChanges(text, changes, block);
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
    if (!isDeepStrictEqual(withReleaseAt(afterConfig, target, before), config)) {
        return refusedOn(target, `cannot ${verb}: the edited file would change more than ${releaseKey([], block)}; edit it by hand`);
    }
    if (!command.dryRun) {
        if (fs.readFileSync(filePath, "utf8") !== text) {
            return refusedOn(target, `cannot ${verb}: ${fileName} changed while it was being edited; run the command again`);
        }
        writeAtomically(filePath, edited);
    }
    return ok(renderReport(command, target, fileName, before, after, changes, result.notes));
}

function runCommand(command: Command, cwd: string): ReleaseResult {
    const fileName = `Pulumi.${command.stack}.yaml`;
    const filePath = path.join(cwd, fileName);
    const text = fs.readFileSync(filePath, "utf8");
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
    const target = findTarget(config, name);
    if (target === undefined) {
        const known = tracksOf(config).map((t) => t.name + (t.retired ? " (retired)" : ""));
        return refused(`unknown track ${name} on stack ${command.stack}${didYouMean(name, tracksOf(config).map((t) => t.name))}; known tracks: ${known.join(", ")}`);
    }
    if (command.verb === "status") {
        return ok(renderStatuses(command, config, target));
    }
    return changeRelease(command, fileName, filePath, text, config, target);
}

/** The whole command, in-process: argv without node and script, cwd holding the stack files. */
export function runRelease(argv: readonly string[], cwd: string): ReleaseResult {
    let command: Command | null;
    try {
        command = parseCommand(argv, cwd);
        if (command === null) return ok(USAGE);
    } catch (e) {
        if (e instanceof UsageError) return usage(e.message);
        throw e;
    }
    try {
        return runCommand(command, cwd);
    } catch (e) {
        if (e instanceof StackFileError) return refused(`cannot ${command.verb}: ${e.message}`);
        throw e;
    }
}

if (require.main === module) {
    emit(runRelease(process.argv.slice(2), process.cwd()));
}
