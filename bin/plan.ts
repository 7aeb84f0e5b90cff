// npm run plan -- --stack <name> [--json]
// Prints what the program declares for Pulumi.<name>.yaml, evaluated offline (no Pulumi
// CLI, servers or credentials). Invalid config: the message on stderr, exit 1, no stdout.

import * as fs from "node:fs";
import { planStack, readStackFile, type Plan } from "../offline/plan";

function usage(message: string): never {
    process.stderr.write(`${message}\nusage: npm run plan -- --stack <name> [--json]\n`);
    process.exit(2);
}

function parseArgs(argv: string[]): { stack: string; json: boolean } {
    let stack = "";
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--json") json = true;
        else if (argv[i] === "--stack" && argv[i + 1]) stack = argv[++i];
        else usage(`unknown argument: ${argv[i]}`);
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) usage("--stack <name> is required");
    return { stack, json };
}

export function renderPlanText(stack: string, plan: Plan): string {
    const { release } = plan;
    const tags = Object.entries(release.tags).map(([c, t]) => `${c}=${t}`).join(" ");
    const lines = [
        `stack ${stack}: stage ${plan.stage}`,
        `  ${plan.note}`,
        `  release: live=${release.live} passive=${release.passive} canary=${release.canary}% tags: ${tags}`,
        `  notifications: ${plan.notifications}`,
    ];
    for (const s of plan.servers) {
        lines.push(`server ${s.name} (${s.host})${s.primary ? " primary" : ""}`);
        lines.push(`  live: ${s.live.color} (${s.live.tag})   passive: ${s.passive.color} (${s.passive.tag})`);
        for (const c of s.containers) lines.push(`  container ${c.name}: ${c.tag}${c.protected ? " [protected: serves live traffic]" : ""}`);
        lines.push(`  migrator: ${s.migrations.length ? s.migrations.join("; ") : "does not run here"}`);
        lines.push(`  upstream live -> ${s.upstreams.live}`);
        lines.push(`  upstream passive -> ${s.upstreams.passive}`);
        for (const w of s.workers) lines.push(`  worker ${w.name}: ${w.tag}`);
        for (const n of s.notifications) lines.push(`  notify: ${n}`);
        lines.push(`  live-color file: ${s.liveColorFile}`);
    }
    return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
    const { stack, json } = parseArgs(process.argv.slice(2));
    const file = `Pulumi.${stack}.yaml`;
    if (!fs.existsSync(file)) usage(`no stack file ${file} in ${process.cwd()}`);
    try {
        const plan = await planStack(readStackFile(file));
        process.stdout.write(json ? JSON.stringify({ stack, ...plan }, null, 2) + "\n" : renderPlanText(stack, plan));
    } catch (e) {
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    }
}

if (require.main === module) {
    void main();
}
