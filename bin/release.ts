// npm run release -- <verb> [arg] --stack <name> [--dry-run]
// One command per rollout stage: edits the `portal:release` block of Pulumi.<name>.yaml
// (in the current directory) so that it can only hold a legal next stage. Exit 0: done
// (or nothing to change); 1: refused (illegal transition, bad argument, invalid config,
// unreadable file), the file untouched; 2: usage.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ConfigError, validateConfig, type PortalConfig, type ReleaseConfig } from "../lib/config";
import {
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
import { StackFileError, applyReleaseChanges, portalRawConfig, releaseKey } from "../lib/stackFileEdit";

export interface ReleaseResult {
    code: 0 | 1 | 2;
    stdout: string;
    stderr: string;
}

const USAGE = `usage: npm run release -- <verb> [arg] --stack <name> [--dry-run]
verbs:
  status              the stage, colors, tags, canary and the verbs legal now
  prepare <tag>       steady only: put <tag> on the non-live color and make it passive
  canary <percent>    prepared only: send 0 to 99.99 percent of live traffic to the passive color
  deploy              prepared only: make the passive color live (canary back to 0)
  abort               prepared only: point passive back at live (the prepared container stays, unrouted)
  rollback            steady only: make the other color live again (it must still have a tag)
--dry-run prints what would change and writes nothing.
`;

interface Command {
    verb: Verb | "status";
    argument?: string;
    stack: string;
    dryRun: boolean;
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

class UsageError extends Error {}

function ok(stdout: string): ReleaseResult {
    return { code: 0, stdout, stderr: "" };
}

function refused(message: string): ReleaseResult {
    return { code: 1, stdout: "", stderr: `${message}\n` };
}

function usage(message: string): ReleaseResult {
    return { code: 2, stdout: "", stderr: `${message}\n${USAGE}` };
}

/** Splits argv into flags (--stack, --dry-run) and positional words (verb and argument). */
function parseCommand(argv: readonly string[]): Command {
    const words: string[] = [];
    let stack: string | undefined;
    let dryRun = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--dry-run") dryRun = true;
        else if (arg === "--stack") stack = argv[++i];
        else if (arg.startsWith("--stack=")) stack = arg.slice("--stack=".length);
        else if (arg === "--") continue;
        else if (arg.startsWith("--")) throw new UsageError(`unknown option: ${arg}`);
        else words.push(arg);
    }
    const [verb, ...rest] = words;
    if (verb === undefined) throw new UsageError("missing verb");
    if (verb !== "status" && !isVerb(verb)) throw new UsageError(`unknown verb: ${verb}`);
    if (stack === undefined || !STACK_NAME.test(stack)) throw new UsageError("--stack <name> is required (letters, digits, '.', '_', '-')");
    const wanted = verb === "status" ? null : VERB_ARGUMENT[verb];
    if (wanted === null && rest.length > 0) throw new UsageError(`${verb} takes no argument (got ${rest.join(" ")})`);
    if (wanted !== null && rest.length !== 1) throw new UsageError(`${verb} takes exactly one argument: ${verb} ${wanted}`);
    return { verb, argument: rest[0], stack, dryRun };
}

function validated(text: string): PortalConfig {
    return validateConfig(portalRawConfig(text));
}

function renderStatus(stack: string, release: ReleaseConfig): string {
    const tags = Object.entries(release.tags).map(([color, tag]) => `${color}=${tag}`).join(" ");
    return [
        `stack ${stack}: ${stageOf(release)}`,
        `  live:    ${release.live} (${release.tags[release.live]})`,
        `  passive: ${release.passive} (${release.tags[release.passive]})`,
        `  canary:  ${release.canary}%`,
        `  tags:    ${tags}`,
        `legal now: ${describeLegalVerbs(release)}`,
    ].join("\n") + "\n";
}

function renderValue(change: ReleaseChange, value: string | number | undefined): string {
    if (value === undefined) return "(unset)";
    return change.path[0] === "tags" ? JSON.stringify(value) : String(value);
}

function renderChanges(changes: readonly ReleaseChange[]): string[] {
    const width = Math.max(...changes.map((c) => releaseKey(c.path).length));
    return changes.map((c) => `  ${releaseKey(c.path).padEnd(width)}  ${renderValue(c, c.before)} → ${renderValue(c, c.after)}`);
}

function renderReport(command: Command, file: string, before: ReleaseConfig, after: ReleaseConfig, changes: readonly ReleaseChange[], notes: readonly string[]): string {
    const { stack, dryRun } = command;
    const title = [command.verb, command.argument].filter((w) => w !== undefined).join(" ");
    const lines = [
        `${dryRun ? "dry run: " : ""}${title} on stack ${stack} (${file})`,
        ...renderChanges(changes),
        ...notes.map((note) => `note: ${note}`),
        `stage ${describeStage(after)}${stageOf(before) === stageOf(after) ? "" : ` (was ${stageOf(before)})`}`,
        dryRun ? `nothing written (dry run). Without --dry-run, then:` : `wrote ${file}. Next:`,
        `  pulumi preview -s ${stack}`,
        `  pulumi up -s ${stack}`,
        `then legal: ${describeLegalVerbs(after)}`,
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

function changeRelease(command: Command, fileName: string, filePath: string, text: string, before: ReleaseConfig): ReleaseResult {
    const verb = command.verb as Verb;
    const result = transition(before, verb, command.argument);
    if (!result.ok) {
        return refused(result.reason);
    }
    const changes = releaseChanges(before, result.release);
    if (changes.length === 0) {
        return ok(`${verb} ${command.argument ?? ""}: nothing to change on stack ${command.stack}\nstage ${describeStage(before)}\n`);
    }
    const edited = applyReleaseChanges(text, changes);
    let after: ReleaseConfig;
    try {
        after = validated(edited).release;
    } catch (e) {
        if (e instanceof ConfigError) return refused(`cannot ${verb}: the result would not be a valid config:\n${e.message}`);
        throw e;
    }
    if (!isDeepStrictEqual(after, result.release)) {
        return refused(`cannot ${verb}: the edited file would not hold the intended release; edit it by hand`);
    }
    if (!command.dryRun) {
        if (fs.readFileSync(filePath, "utf8") !== text) {
            return refused(`cannot ${verb}: ${fileName} changed while it was being edited; run the command again`);
        }
        writeAtomically(filePath, edited);
    }
    return ok(renderReport(command, fileName, before, after, changes, result.notes));
}

function runCommand(command: Command, cwd: string): ReleaseResult {
    const fileName = `Pulumi.${command.stack}.yaml`;
    const filePath = path.join(cwd, fileName);
    if (!fs.existsSync(filePath)) {
        return refused(`no stack file ${fileName} in ${cwd}`);
    }
    const text = fs.readFileSync(filePath, "utf8");
    let before: ReleaseConfig;
    try {
        before = validated(text).release;
    } catch (e) {
        if (e instanceof ConfigError || e instanceof StackFileError) {
            return refused(`${fileName} is not a valid portal config now; fix it first:\n${e.message}`);
        }
        throw e;
    }
    if (command.verb === "status") {
        return ok(renderStatus(command.stack, before));
    }
    return changeRelease(command, fileName, filePath, text, before);
}

/** The whole command, in-process: argv without node and script, cwd holding the stack files. */
export function runRelease(argv: readonly string[], cwd: string): ReleaseResult {
    let command: Command;
    try {
        command = parseCommand(argv);
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
    const result = runRelease(process.argv.slice(2), process.cwd());
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
