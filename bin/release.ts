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
import { UsageError, checkStack, didYouMean, emit, parseArgs, stacksIn, type FlagSpec } from "../lib/cli";
import { releasePipeline, type ReleaseCommand } from "../lib/release/pipeline";
import { VERBS, argumentProblem, isVerb } from "../lib/release/releaseTransitions";

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
  prepare <tag>       steady only: put <tag> on the non-live color and make it passive, with
                      the current app.env and appSecrets as that color's own env
  reconfigure         steady only: prepare the live tag with the current app.env and
                      appSecrets (an env change or secret rotation, rolled out like a tag)
  canary <percent>    prepared only: send 0 to 99.99 percent of live traffic to the passive color
  deploy              prepared only: make the passive color live (canary back to 0)
  abort               prepared only: point passive back at live (the prepared container stays, unrouted)
  rollback [<color>]  steady only: make the release live before the last deploy live again;
                      after a rollback or an abort only with the color named
  split <track> <percent>
                      send 0 to 100 percent of the edge's traffic to <track> (the rest to main)
--track <name> acts on that entry of portal:tracks, with its own colors (default: main, the
  top-level portal:release with blue/green); status without --track shows every track.
--dry-run prints what would change and writes nothing.
`;

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

function ok(stdout: string): ReleaseResult {
    return { code: 0, stdout, stderr: "" };
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
function parseCommand(argv: readonly string[], cwd: string): ReleaseCommand | null {
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
    const problem = verb === "status" ? (rest.length > 0 ? `status takes no argument (got ${rest.join(" ")})` : undefined) : argumentProblem(verb, rest);
    if (problem !== undefined) throw new UsageError(problem);
    if (verb === "split" && track !== undefined) throw new UsageError("split names its track as an argument (split <track> <percent>), not with --track");
    return { verb, argument: rest.length === 0 ? undefined : rest.join(" "), stack, track, dryRun: flags.get("dry-run") === true };
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

function runCommand(command: ReleaseCommand, cwd: string): ReleaseResult {
    const fileName = `Pulumi.${command.stack}.yaml`;
    const filePath = path.join(cwd, fileName);
    const text = fs.readFileSync(filePath, "utf8");
    const { write, ...result } = releasePipeline(command, text, fileName);
    if (write !== undefined) {
        if (fs.readFileSync(filePath, "utf8") !== text) return write.ifChanged;
        writeAtomically(filePath, write.text);
    }
    return result;
}

/** The whole command, in-process: argv without node and script, cwd holding the stack files. */
export function runRelease(argv: readonly string[], cwd: string): ReleaseResult {
    let command: ReleaseCommand | null;
    try {
        command = parseCommand(argv, cwd);
        if (command === null) return ok(USAGE);
    } catch (e) {
        if (e instanceof UsageError) return usage(e.message);
        throw e;
    }
    return runCommand(command, cwd);
}

if (require.main === module) {
    emit(runRelease(process.argv.slice(2), process.cwd()));
}
