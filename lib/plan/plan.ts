// The rollout plan as data: every resource the program declares, as a step with its id
// (the resource name), the component it sits under, what it runs, its input, what it
// waits for and what re-runs it. lib/plan/rollout.ts computes it from the validated model;
// components/ map each step to one resource and add nothing; the drills and fixtures run
// the same steps on loopback. A step's value that only the engine knows (a stamp's stdout,
// an image id, a secret env) is a Ref, resolved when the step is declared.

import type { Color } from "../config/config";
import type { LiveRoute } from "../model/rollout";
import type { RouteScope } from "../model/tracks";
import { ShellCommand } from "../server/shell";

/** A value known only to the engine, or a secret only the program holds. */
export type Ref =
    /** A command step's stdout; trimmed for the release stamp's word in a command line. */
    | { ref: "stdout"; step: string; trim?: true }
    /** A pulled image's id (a container runs it). */
    | { ref: "imageId"; step: string }
    /** A container's id (its health wait re-runs when it is replaced). */
    | { ref: "containerId"; step: string }
    /** A color's env: the env file's text, or its KEY=VALUE lines for a container; secret with secrets. */
    | { ref: "envFile" | "envLines"; color: Color }
    /** The scripts/ folder, as an archive keyed on its content. */
    | { ref: "scripts" };

/** A live route whose sticky canary hashes clients with a salt the engine draws (a RandomId step). */
export interface SaltedRoute {
    salted: { salt: string; route: LiveRoute; scope: RouteScope };
}

/** One word of a command line, or one trigger. */
export type Arg = string | Ref;
/** A step's stdin. */
export type Text = string | Ref | SaltedRoute;

export type Logging = "none" | "stderr" | "stdout" | "stdoutAndStderr";

export type ComponentKind = "Portal" | "Server" | "Edge" | "ColorDeployment" | "Routing" | "Promotion" | "Workers" | "Migration";

export interface PlannedComponent {
    /** The resource name. */
    id: string;
    kind: ComponentKind;
    /** The enclosing component's id; none for the Portal. */
    parent?: string;
    /** What it registers as outputs: plain values, or a step's stdout. */
    outputs: Record<string, unknown>;
}

interface StepBase {
    /** The resource name. */
    id: string;
    /** The component the step sits under (it is part of the URN). */
    parent: string;
    /** Step ids it waits for (its dependsOn, exactly). */
    waitsFor: readonly string[];
}

/** A command on a host (over ssh, or on the operator's machine for the `local` target). */
export interface CommandStep extends StepBase {
    kind: "command";
    host: string;
    argv: readonly Arg[];
    stdin?: Text;
    /** false: a stdin change is stored without running the step again. */
    rerunOnStdin?: false;
    /** More values whose change runs the step again (besides its command line and stdin hash). */
    triggers?: readonly Arg[];
    logging?: Logging;
    /** An nginx file step: the file it publishes (absolute path on the host). */
    publishes?: string;
}

/** The scripts/ folder copied to a remote host. */
export interface UploadStep extends StepBase {
    kind: "upload";
    host: string;
    remotePath: string;
}

/** A server's Docker engine connection; its registry password (a secret) is added when declared. */
export interface DockerProviderStep extends StepBase {
    kind: "dockerProvider";
    host: string;
    address: string;
    sshOpts?: string[];
    registry?: { address: string; username: string };
}

/** An image pulled by a server's Docker provider. */
export interface ImageStep extends StepBase {
    kind: "image";
    host: string;
    /** The dockerProvider step it is declared with. */
    provider: string;
    image: string;
    pullTriggers?: string[];
}

/** A container on a server: its inputs as docker.Container takes them, with its image (and env) as Refs. */
export interface ContainerStep extends StepBase {
    kind: "container";
    host: string;
    /** The dockerProvider step it is declared with. */
    provider: string;
    inputs: Record<string, unknown>;
    image: Ref;
    envs?: Ref;
    /** The live color's container: the engine refuses to replace or delete it. */
    protect?: boolean;
}

/** A command on the operator's machine (the release stamp). */
export interface LocalStep extends StepBase {
    kind: "local";
    argv: readonly string[];
    triggers: readonly string[];
}

/** A Slack notice from the operator's machine (the webhook is a secret added when declared). */
export interface NoticeStep extends StepBase {
    kind: "notice";
    message: string;
}

/** A random salt, drawn again when its keepers change. */
export interface SaltStep extends StepBase {
    kind: "salt";
    byteLength: number;
    keepers: Record<string, string>;
}

export type Step = CommandStep | UploadStep | DockerProviderStep | ImageStep | ContainerStep | LocalStep | NoticeStep | SaltStep;

/** What one server serves on one track after this plan (plain data: stack outputs). */
export interface ServerOutputs {
    live: Color;
    passive: Color;
    liveTag: string;
    passiveTag: string;
    liveColorFile: string;
}

export interface PlannedHost {
    name: string;
    role: "server" | "edge";
    /** ssh address (ignored for the local target). */
    address: string;
    hostKey?: string;
    /** Its scripts upload: every later command on it waits for this step. */
    scripts: string;
}

export interface RolloutPlan {
    /** Components in declaration order (a parent before its children). */
    components: PlannedComponent[];
    /** Every step, each after every step it waits for. */
    steps: Step[];
    hosts: PlannedHost[];
    /** The steps after which the stack routes as configured (each live record, each edge split). */
    routed: string[];
}

const MARK = "\u0001ref\u0001";

/**
 * A command line with one word the engine fills in: `build` gets a marker for that word
 * and the marker is swapped for `ref` (the command builders stay plain string functions).
 */
export function argvWith(build: (word: string) => ShellCommand, ref: Ref): Arg[] {
    const argv = build(MARK).argv;
    if (argv.filter((a) => a === MARK).length !== 1) throw new Error("argvWith: the marker must be exactly one word of the command");
    return argv.map((a) => (a === MARK ? ref : a));
}

/** A plan value for people: a Ref as `<what>`. */
export function describeArg(arg: Arg | Text): string {
    if (typeof arg === "string") return arg;
    if ("salted" in arg) return `<live route salted by ${arg.salted.salt}>`;
    switch (arg.ref) {
        case "stdout":
        case "imageId":
        case "containerId":
            return `<${arg.ref} of ${arg.step}>`;
        case "envFile":
        case "envLines":
            return `<${arg.color} ${arg.ref}>`;
        case "scripts":
            return "<scripts/>";
    }
}

/** A command step's argv with every Ref resolved by `value` (a plain string function). */
export function commandOf(argv: readonly Arg[], value: (ref: Ref) => string): ShellCommand {
    return new ShellCommand(argv.map((a) => (typeof a === "string" ? a : value(a))));
}

/** The same as one line, quoted as the step runs it. */
export function commandLine(argv: readonly Arg[], value: (ref: Ref) => string): string {
    return commandOf(argv, value).toString();
}

/** The step of `plan` named `id` (throws when there is none, naming it). */
export function stepOf<K extends Step["kind"]>(plan: RolloutPlan, id: string, kind?: K): Extract<Step, { kind: K }> {
    const step = plan.steps.find((s) => s.id === id);
    if (!step) throw new Error(`the plan has no step ${id}`);
    if (kind !== undefined && step.kind !== kind) throw new Error(`step ${id} is a ${step.kind}, not a ${kind}`);
    return step as Extract<Step, { kind: K }>;
}

/** The steps of one host, in plan order. */
export function hostSteps(plan: RolloutPlan, host: string): Step[] {
    return plan.steps.filter((s) => "host" in s && s.host === host);
}

/** Every step `id` waits for, directly or through others. */
export function waitsOn(plan: RolloutPlan, id: string): Set<string> {
    const byId = new Map(plan.steps.map((s) => [s.id, s]));
    const seen = new Set<string>();
    const todo = [id];
    while (todo.length > 0) {
        const step = byId.get(todo.pop()!);
        if (step === undefined) throw new Error(`the plan has no step ${id}`);
        for (const dep of step.waitsFor) {
            if (!seen.has(dep)) {
                seen.add(dep);
                todo.push(dep);
            }
        }
    }
    return seen;
}

/** The components enclosing `id` (a step or a component), innermost first. */
export function enclosing(plan: RolloutPlan, id: string): string[] {
    const parents = new Map<string, string | undefined>([...plan.components.map((c) => [c.id, c.parent] as const), ...plan.steps.map((s) => [s.id, s.parent] as const)]);
    const chain: string[] = [];
    for (let p = parents.get(id); p !== undefined; p = parents.get(p)) chain.push(p);
    return chain;
}
