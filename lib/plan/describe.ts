// The rollout plan for people (`npm run plan -- --stack <name> --steps`): each host's steps
// in order, with what each runs, its stdin, its own triggers and what it waits for. A Ref
// is printed as what it stands for; stdin is shown by size and digest only (route files and
// compose files are long, and an env is a secret).

import { createHash } from "node:crypto";
import { quote } from "../server/shell";
import { describeArg, hostSteps, type Arg, type RolloutPlan, type Step, type Text } from "./plan";

function stdin(text: Text | undefined): string | undefined {
    if (text === undefined) return undefined;
    if (typeof text !== "string") return describeArg(text);
    return `${Buffer.byteLength(text)} bytes, sha256 ${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
}

/** A command line as the step runs it (quoted like ShellCommand), each Ref as what it stands for. */
function words(argv: readonly Arg[]): string {
    return argv.map((a) => (typeof a === "string" ? quote(a) : describeArg(a))).join(" ");
}

/** What a step does, in one line. */
export function stepAction(step: Step): string {
    switch (step.kind) {
        case "command":
            return words(step.argv);
        case "upload":
            return `copy scripts/ to ${step.remotePath}/scripts`;
        case "dockerProvider":
            return `docker engine at ${step.address}${step.registry ? `, registry login ${step.registry.username}@${step.registry.address}` : ""}`;
        case "image":
            return `pull ${step.image}${step.pullTriggers ? ` (again when ${step.pullTriggers.join(", ")} changes)` : ""}`;
        case "container":
            return `container ${String(step.inputs.name)} from ${describeArg(step.image)}${step.envs ? ` with ${describeArg(step.envs)}` : ""}${step.protect ? " [protected]" : ""}`;
        case "local":
            return `${words(step.argv)} on the operator's machine`;
        case "notice":
            return `Slack notice: ${step.message.split("\n")[0]}`;
        case "salt":
            return `random salt (${step.byteLength} bytes), new when ${Object.entries(step.keepers).map(([k, v]) => `${k}=${v}`).join(", ")} changes`;
    }
}

/** The plan as text: per host (then the operator's machine), every step in plan order. */
export function renderSteps(plan: RolloutPlan): string {
    const lines: string[] = [];
    const groups = [
        ...plan.hosts.map((h) => ({ title: `${h.role} ${h.name} (${h.address})`, steps: hostSteps(plan, h.name) })),
        { title: "the operator's machine", steps: plan.steps.filter((s) => !("host" in s)) },
    ];
    for (const { title, steps } of groups) {
        if (steps.length === 0) continue;
        lines.push(`${title}: ${steps.length} steps`);
        for (const step of steps) {
            lines.push(`  ${step.id}: ${stepAction(step)}`);
            const input = step.kind === "command" ? stdin(step.stdin) : undefined;
            if (input) lines.push(`      stdin: ${input}${step.kind === "command" && step.rerunOnStdin === false ? " (a change does not re-run it)" : ""}`);
            if (step.kind === "command" && step.triggers?.length) lines.push(`      triggers (a change re-runs it): ${step.triggers.map(describeArg).join(", ")}`);
            if (step.waitsFor.length) lines.push(`      waits for: ${step.waitsFor.join(", ")}`);
        }
    }
    return lines.join("\n") + "\n";
}
