// Runs steps of the program's rollout plan (lib/plan/rollout.ts) on loopback, as the
// program runs them on a host: the step's own command line, with its stdin. A Ref is filled
// in by the caller (the stamp, an env, a salt: what the engine would hand over), and a Ref
// nobody fills in is an error, never a guess.

import type { Color } from "../lib/config/config";
import { commandOf, stepOf, waitsOn, type CommandStep, type Ref, type RolloutPlan, type Text } from "../lib/plan/plan";
import { saltedRouteContent } from "../lib/plan/rollout";
import type { PortalConfig } from "../lib/config/config";
import type { ShellCommand } from "../lib/server/shell";
import { runCommand, type RunResult } from "./run";

/** What the engine would hand a step: the release stamp, a color's env file, a canary salt. */
export interface RefValues {
    stamp?: string;
    envFile?: (color: Color) => string;
    salt?: string;
}

export interface PlannedCommand {
    id: string;
    command: ShellCommand;
    stdin?: string;
    /** The nginx file the step publishes, if it is one. */
    publishes?: string;
}

/** A planned command step with its Refs filled in from `values`. */
export function plannedCommand(config: PortalConfig, step: CommandStep, values: RefValues = {}): PlannedCommand {
    const value = (ref: Ref): string => {
        if (ref.ref === "stdout" && ref.trim && values.stamp !== undefined) return values.stamp;
        if (ref.ref === "envFile" && values.envFile) return values.envFile(ref.color);
        throw new Error(`${step.id}: no value given for its ${ref.ref} ref`);
    };
    const text = (t: Text): string => {
        if (typeof t === "string") return t;
        if ("salted" in t) {
            if (values.salt === undefined) throw new Error(`${step.id}: no canary salt given`);
            return saltedRouteContent(config, t.salted, values.salt);
        }
        return value(t);
    };
    return {
        id: step.id,
        command: commandOf(step.argv, value),
        ...(step.stdin === undefined ? {} : { stdin: text(step.stdin) }),
        ...(step.publishes === undefined ? {} : { publishes: step.publishes }),
    };
}

/** Runs the plan's command step `id` (argv and stdin as planned). */
export function runPlannedStep(config: PortalConfig, plan: RolloutPlan, id: string, values: RefValues = {}): Promise<RunResult & { step: PlannedCommand }> {
    const step = plannedCommand(config, stepOf(plan, id, "command"), values);
    return runCommand(step.command, { input: step.stdin }).then((r) => ({ ...r, step }));
}

/**
 * What a fresh host runs under `component` before its step `until` (a route switch): the
 * component's command steps that `until` waits for, in plan order (route include
 * placeholders, static nginx files; not the host's preflight or directories).
 */
export function stepsBefore(plan: RolloutPlan, component: string, until: string): CommandStep[] {
    const before = waitsOn(plan, until);
    const scripts = new Map(plan.hosts.map((h) => [h.name, h.scripts]));
    return plan.steps.filter((s): s is CommandStep => s.kind === "command" && s.parent === component && before.has(s.id) && waitsOn(plan, s.id).has(scripts.get(s.host)!));
}
