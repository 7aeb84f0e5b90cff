// npm run plan -- --stack <name> [--json]
// Prints what the program declares for Pulumi.<name>.yaml, evaluated offline (no Pulumi
// CLI, servers or credentials). Invalid config: the message on stderr, exit 1, no stdout.

import * as fs from "node:fs";
import * as path from "node:path";
import { describeDiff } from "../offline/diff";
import { evaluate } from "../offline/evaluate";
import { planStack, readStackFile, type Plan, type ServerPlan } from "../offline/plan";

export interface PlanResult {
    code: 0 | 1 | 2;
    stdout: string;
    stderr: string;
}

class UsageError extends Error {}

function usage(message: string): never {
    throw new UsageError(`${message}\nusage: npm run plan -- --stack <name> [--json] [--compare <earlier stack file>]`);
}

interface Args {
    stack: string;
    json: boolean;
    /** An earlier version of the stack file: print what would change from it. */
    compare?: string;
}

function parseArgs(argv: string[], cwd: string): Args {
    const args: Args = { stack: "", json: false };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--json") args.json = true;
        else if (argv[i] === "--stack" && argv[i + 1]) args.stack = argv[++i];
        else if (argv[i] === "--compare" && argv[i + 1]) args.compare = argv[++i];
        else usage(`unknown argument: ${argv[i]}`);
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(args.stack)) usage("--stack <name> is required");
    if (args.compare !== undefined && !fs.existsSync(path.resolve(cwd, args.compare))) usage(`no file ${args.compare}`);
    return args;
}

/** What `pulumi preview` would list going from the earlier stack file to the current one. */
async function changesFrom(earlierFile: string, currentFile: string): Promise<string[]> {
    const earlier = readStackFile(earlierFile);
    const current = readStackFile(currentFile);
    const before = await evaluate(earlier.config, earlier.secrets);
    const after = await evaluate(current.config, current.secrets);
    return describeDiff(before, after);
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

/** The CLI, callable in-process: exit code and output; invalid config gives 1 and nothing on stdout. */
export async function runPlan(argv: string[], cwd: string): Promise<PlanResult> {
    try {
        const { stack, json, compare } = parseArgs(argv, cwd);
        const file = path.join(cwd, `Pulumi.${stack}.yaml`);
        if (!fs.existsSync(file)) usage(`no stack file Pulumi.${stack}.yaml in ${cwd}`);
        try {
            const changes = compare === undefined ? undefined : await changesFrom(path.resolve(cwd, compare), file);
            const plan = await planStack(readStackFile(file));
            if (json) {
                return { code: 0, stdout: JSON.stringify({ stack, ...plan, ...(changes ? { changes } : {}) }, null, 2) + "\n", stderr: "" };
            }
            const diffText = changes ? `changes from ${compare} (${changes.length} resources):\n${changes.map((l) => `  ${l}`).join("\n") || "  none"}\n` : "";
            return { code: 0, stdout: renderPlanText(stack, plan) + diffText, stderr: "" };
        } catch (e) {
            return { code: 1, stdout: "", stderr: `${e instanceof Error ? e.message : String(e)}\n` };
        }
    } catch (e) {
        if (e instanceof UsageError) return { code: 2, stdout: "", stderr: `${e.message}\n` };
        throw e;
    }
}

if (require.main === module) {
    void runPlan(process.argv.slice(2), process.cwd()).then((r) => {
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code;
    });
}
