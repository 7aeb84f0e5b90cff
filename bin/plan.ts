// npm run plan -- --stack <name> [--json | --steps]
// Prints what the program declares for Pulumi.<name>.yaml, evaluated offline (no Pulumi
// CLI, servers or credentials). Invalid config: the message on stderr, exit 1, no stdout.

import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError, callerPath, checkStack, didYouMean, emit, parseArgs, stacksIn, type FlagSpec } from "../lib/cli";
import { previewForJson, previewSteps, renderPreview, type EnginePreview } from "../offline/engine";
import { evaluate, resolved } from "../offline/evaluate";
import type { ProgramOutputs } from "../program";
import { planStack, readStackFile, validateStackFile, type Plan, type ServerPlan } from "../offline/plan";
import { renderSteps } from "../lib/plan/describe";
import { planRollout } from "../lib/plan/rollout";

export interface PlanResult {
    code: 0 | 1 | 2;
    stdout: string;
    stderr: string;
}

export const PLAN_USAGE = `usage: npm run -s plan -- --stack <name> [--json] [--compare <earlier stack file>]
  -s, --stack <name>      the stack: Pulumi.<name>.yaml in the project directory
  --json                  the plan as one JSON object on stdout (run npm with -s: without it npm prints its banner on stdout first)
  --compare <file>        also list what changes from an earlier version of the stack file, as a preview would
                          (the path is relative to the directory you run the command in)
  --brief                 with --compare: one line per step, without each input's old -> new
  --steps                 the rollout plan itself: every host's steps in order, what each runs and waits for
  -h, --help, help        this text
`;

const FLAGS: FlagSpec[] = [
    { name: "stack", short: "s", value: true },
    { name: "json", value: false },
    { name: "compare", value: true },
    { name: "brief", value: false },
    { name: "steps", value: false },
];

interface Args {
    stack: string;
    json: boolean;
    /** An earlier version of the stack file: print what would change from it (absolute path). */
    compare?: string;
    /** As typed, for messages. */
    compareName?: string;
    help: boolean;
    brief: boolean;
    steps: boolean;
}

function parsePlanArgs(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Args {
    const { flags, words, help } = parseArgs(argv, FLAGS);
    if (help) return { stack: "", json: false, help: true, brief: false, steps: false };
    if (words.length > 0) throw new UsageError(`unexpected argument ${words[0]}${didYouMean(`--${words[0]}`, FLAGS.map((f) => `--${f.name}`))}`);
    const stack = flags.get("stack");
    if (typeof stack !== "string") throw new UsageError(`--stack <name> is required (stacks: ${stacksIn(cwd).join(", ") || "none"})`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack ${stack}: a stack name is letters, digits, '.', '_', '-'`);
    checkStack(stack, cwd);
    const compareName = flags.get("compare") as string | undefined;
    const compare = compareName === undefined ? undefined : callerPath(compareName, cwd, env, "plan");
    if (compare !== undefined && !fs.existsSync(compare)) throw new UsageError(`--compare ${compareName}: no file ${compare}`);
    if (flags.has("brief") && compare === undefined) throw new UsageError("--brief goes with --compare <file>");
    const steps = flags.get("steps") === true;
    if (steps && (compare !== undefined || flags.has("json"))) throw new UsageError("--steps goes alone (without --compare or --json)");
    return { stack, json: flags.get("json") === true, compare, compareName, help: false, brief: flags.get("brief") === true, steps };
}

/**
 * The steps `pulumi preview` would plan from the state the earlier stack file's `up` left
 * to the current file's program (offline/engine.ts).
 */
export async function previewFrom(earlierFile: string, currentFile: string): Promise<EnginePreview> {
    const earlier = readStackFile(earlierFile);
    const current = readStackFile(currentFile);
    validateStackFile(earlier);
    validateStackFile(current);
    const stack = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(currentFile))?.[1];
    const before = await evaluate(earlier.config, earlier.secrets, { stack });
    // The new run reads the last state's `deployed` output through a StackReference, as the
    // program's live guard does.
    const last = (await resolved(before.outputs)) as Pick<ProgramOutputs, "deployedState">;
    const after = await evaluate(current.config, current.secrets, { stack, lastDeployed: last.deployedState });
    return previewSteps(before, after);
}

/** The preview block of the text output. */
export function renderPreviewText(label: string, preview: EnginePreview, brief = false): string {
    const v = preview.versions;
    return [
        `preview from ${label} (offline model of the engine's steps: pulumi ${v.pulumi}, @pulumi/docker ${v["@pulumi/docker"]}, @pulumi/command ${v["@pulumi/command"]}, @pulumi/random ${v["@pulumi/random"]}):`,
        ...renderPreview(preview, brief),
        "this preview cannot know:",
        ...preview.cannotKnow.map((c) => `  - ${c}`),
    ].join("\n") + "\n";
}

function renderServers(servers: ServerPlan[], lines: string[]): void {
    for (const s of servers) {
        lines.push(`server ${s.name} (${s.host})${s.primary ? " primary" : ""}`);
        lines.push(`  live: ${s.live.color} (${s.live.tag})   passive: ${s.passive.color} (${s.passive.tag})`);
        for (const c of s.containers) lines.push(`  container ${c.name}: ${c.tag}${c.protected ? " [protected: serves live traffic]" : ""}`);
        lines.push(`  migrator: ${s.migrations.length ? s.migrations.join("; ") : "does not run here"}`);
        lines.push(`  upstream live -> ${s.upstreams.live}`);
        lines.push(`  upstream passive -> ${s.upstreams.passive}`);
        for (const w of s.workers) lines.push(`  worker ${w.name}: ${w.tag}`);
        lines.push(`  live-color file: ${s.liveColorFile}`);
    }
}

function releaseLine(release: Plan["release"]): string {
    const tags = Object.entries(release.tags).map(([c, t]) => `${c}=${t}`).join(" ");
    return `release: live=${release.live} passive=${release.passive} canary=${release.canary}% tags: ${tags}`;
}

export function renderPlanText(stack: string, plan: Plan): string {
    const lines = [`stack ${stack}: stage ${plan.stage}`, `  ${plan.note}`, `  ${releaseLine(plan.release)}`, `  notifications: ${plan.notifications}`, ...plan.notices.map((n) => `  notify: ${n}`)];
    renderServers(plan.servers, lines);
    for (const track of plan.tracks ?? []) {
        lines.push(`track ${track.name}: stage ${track.stage}${track.retired ? " (retired: unprotected, not routed by the edge)" : ""}`);
        lines.push(`  ${releaseLine(track.release)}`, ...track.notices.map((n) => `  notify: ${n}`));
        renderServers(track.servers, lines);
    }
    if (plan.edge) {
        lines.push(`edge ${plan.edge.hosts.join(", ")}: public listener -> ${plan.edge.split}`);
        for (const [track, port] of Object.entries(plan.edge.trackPorts)) lines.push(`  test route for track ${track} on port ${port}`);
    }
    return lines.join("\n") + "\n";
}

/** npm printed "> portal@… plan" on stdout before our JSON unless run with -s (it then sets npm_config_loglevel=silent). */
function npmBannerNote(env: NodeJS.ProcessEnv): string {
    return env.npm_lifecycle_event === "plan" && env.npm_config_loglevel !== "silent"
        ? "note: npm printed its banner on stdout before the JSON; for clean JSON run npm run -s plan -- … --json\n"
        : "";
}

/**
 * The CLI, callable in-process: exit code and output; invalid config gives 1 and nothing
 * on stdout. `cwd`: the project directory (stack files); paths typed by the user are
 * relative to `env.INIT_CWD` (the caller's directory under npm), else to `cwd`.
 */
export async function runPlan(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<PlanResult> {
    try {
        const { stack, json, compare, compareName, help, brief, steps } = parsePlanArgs(argv, cwd, env);
        if (help) return { code: 0, stdout: PLAN_USAGE, stderr: "" };
        const file = path.join(cwd, `Pulumi.${stack}.yaml`);
        const compareLabel = compareName ?? "";
        try {
            if (steps) {
                const stackFile = readStackFile(file);
                const config = validateStackFile(stackFile);
                const plan = planRollout(config, { stack, notices: stackFile.secrets["portal:slackWebhook"] !== undefined });
                return { code: 0, stdout: renderSteps(plan), stderr: "" };
            }
            const preview = compare === undefined ? undefined : await previewFrom(compare, file);
            const plan = await planStack(readStackFile(file));
            // Where the engine would refuse, so does the preview: exit 1, its errors on stderr too.
            const refused = preview !== undefined && preview.errors.length > 0;
            const code = refused ? 1 : 0;
            const stderr = refused ? `the engine would refuse this update:\n${preview.errors.map((e) => `error: ${e}`).join("\n")}\n` : "";
            if (json) {
                return { code, stdout: JSON.stringify({ stack, ...plan, ...(preview ? { preview: previewForJson(preview) } : {}) }, null, 2) + "\n", stderr: npmBannerNote(env) + stderr };
            }
            const previewText = preview ? renderPreviewText(compareLabel, preview, brief) : "";
            return { code, stdout: renderPlanText(stack, plan) + previewText, stderr };
        } catch (e) {
            return { code: 1, stdout: "", stderr: `${e instanceof Error ? e.message : String(e)}\n` };
        }
    } catch (e) {
        if (e instanceof UsageError) return { code: 2, stdout: "", stderr: `${e.message}\n${PLAN_USAGE}` };
        throw e;
    }
}

if (require.main === module) {
    void runPlan(process.argv.slice(2), process.cwd()).then(emit);
}
