// The offline plan: evaluates the program for a stack file under the mock runtime and
// reads back, from the declared resources themselves, what each server will run and
// where its upstreams point. It states the desired state from config, not the servers'.

import * as fs from "node:fs";
import { parse } from "yaml";
import type { PortalConfig } from "../lib/config";
import type { Stage } from "../lib/rollout";
import type { RouteState } from "../lib/stateRoutes";
import { loadPortalConfig } from "../program";
import { evaluate, type DeclaredResource, type Evaluation, type StackConfig } from "./evaluate";

export const PLAN_NOTE = "Desired state from the stack config, evaluated offline with Pulumi's mock runtime; it does not read the servers' real state.";

export interface ContainerPlan {
    name: string;
    image: string;
    tag: string;
    /** Protected: serves live traffic, Pulumi refuses to replace it. */
    protected: boolean;
}

export interface ServerPlan {
    name: string;
    host: string;
    primary: boolean;
    live: { color: string; tag: string };
    passive: { color: string; tag: string };
    containers: ContainerPlan[];
    /** Migration command lines, primary server only. */
    migrations: string[];
    upstreams: { live: string; passive: string };
    workers: ContainerPlan[];
    notifications: string[];
    liveColorFile: string;
}

export interface Plan {
    note: string;
    stage: Stage;
    release: { tags: Record<string, string>; live: string; passive: string; canary: number };
    notifications: string;
    servers: ServerPlan[];
}

export interface StackFile {
    config: StackConfig;
    /** Keys stored encrypted (`secure:`); offline they get a placeholder, marked secret. */
    secrets: StackConfig;
}

export const SECRET_PLACEHOLDER = "(secret: not decrypted offline)";

export function readStackFile(file: string): StackFile {
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: StackConfig } | null;
    const config: StackConfig = {};
    const secrets: StackConfig = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        const isSecure = typeof value === "object" && value !== null && "secure" in value;
        if (isSecure) secrets[key] = SECRET_PLACEHOLDER;
        else config[key] = value;
    }
    return { config, secrets };
}

export async function planStack(stack: StackFile): Promise<Plan> {
    const evaluation = await evaluate(stack.config, stack.secrets);
    return planFrom(evaluation, loadPortalConfig(), stack.secrets["portal:slackWebhook"] !== undefined);
}

function label(r: DeclaredResource, key: string): string {
    const labels = (r.inputs.labels ?? []) as { label: string; value: string }[];
    return labels.find((l) => l.label === key)?.value ?? "";
}

function containerPlan(r: DeclaredResource): ContainerPlan {
    return { name: String(r.inputs.name), image: String(r.inputs.image), tag: label(r, "portal.tag"), protected: r.protect };
}

/** Reads a route file (either mode) back into words: "portal_blue" or "portal_blue, 5% to portal_green (per request)". */
export function describeRoute(content: string): string {
    if (content.startsWith("{")) {
        const state = JSON.parse(content) as RouteState;
        if (!state.canary) return state.upstream;
        const how = state.canary.sticky ? "sticky per client" : "per request";
        return `${state.upstream}, ${state.canary.basisPoints / 100}% to ${state.canary.upstream} (${how})`;
    }
    const fixed = /default (\S+);/.exec(content);
    if (fixed && !content.includes("split_clients")) {
        return fixed[1];
    }
    const share = /^\s+([\d.]+%) (\S+);$/m.exec(content);
    const rest = /^\s+\* (\S+);$/m.exec(content);
    const sticky = content.includes("$portal_client_key") ? "sticky per client" : "per request";
    return `${rest?.[1]}, ${share?.[1]} to ${share?.[2]} (${sticky})`;
}

function planFrom(evaluation: Evaluation, config: PortalConfig, notifies: boolean): Plan {
    const all = [...evaluation.resources.values()];
    const owned = (server: string, type: string) => all.filter((r) => r.type === type && r.name.startsWith(`${server}-`));
    const step = (server: string, suffix: string) => all.find((r) => r.name === `${server}-${suffix}`);
    const servers = config.servers.map((server): ServerPlan => {
        const name = server.name;
        const out = evaluation.outputs.servers[name];
        const containers = owned(name, "docker:index/container:Container").map(containerPlan);
        const commands = [...owned(name, "command:remote:Command"), ...owned(name, "command:local:Command")];
        const isColor = (c: ContainerPlan) => /^portal-(blue|green)$/.test(c.name);
        const isWorker = (c: ContainerPlan) => server.workers.some((role) => c.name === `portal-${role}`);
        return {
            name,
            host: server.host,
            primary: server.primary,
            live: { color: out.live, tag: out.liveTag },
            passive: { color: out.passive, tag: out.passiveTag },
            containers: containers.filter(isColor),
            migrations: commands.filter((c) => c.name.endsWith("-migrate")).map((c) => String(c.inputs.create)),
            upstreams: {
                live: describeRoute(String(step(name, "route-live")?.inputs.stdin ?? "")),
                passive: describeRoute(String(step(name, "route-passive")?.inputs.stdin ?? "")),
            },
            workers: containers.filter(isWorker),
            notifications: commands.filter((c) => c.name.includes("-notify-")).map((c) => lastShellWord(String(c.inputs.create))),
            liveColorFile: out.liveColorFile,
        };
    });
    const { tags, live, passive, canary } = config.release;
    return {
        note: PLAN_NOTE,
        stage: evaluation.outputs.stage,
        release: { tags: { ...tags }, live, passive, canary },
        notifications: notifies ? "slack" : "off (portal:slackWebhook is not set)",
        servers,
    };
}

/** The last word of a command line built by ShellCommand (plain or single-quoted). */
export function lastShellWord(line: string): string {
    const quoted = /'((?:[^']|'\\'')*)'$/.exec(line);
    if (quoted) {
        return quoted[1].replace(/'\\''/g, "'");
    }
    return line.split(" ").pop() ?? "";
}
