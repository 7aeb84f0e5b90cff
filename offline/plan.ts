// The offline plan: evaluates the program for a stack file under the mock runtime and
// reads back, from the declared resources themselves, what each server will run and
// where its upstreams point. It states the desired state from config, not the servers'.

import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, validateConfig, type PortalConfig } from "../lib/config/config";
import { readRawConfig } from "../lib/config/rawConfig";
import { SECRET_PLACEHOLDER, isPlaceholder, type SecretStorage } from "../lib/config/secretConfig";
import { portalStackConfig, readStackText } from "../lib/release/stackFileEdit";
import type { Stage } from "../lib/model/rollout";
import { routeMode } from "../lib/nginx/routeModes";
import { namesOf, tracksOf, type Track } from "../lib/model/tracks";
import type { ServerOutputs } from "../lib/plan/plan";
import { loadPortalConfig } from "../program";
import { evaluate, type DeclaredResource, type Evaluation, type StackConfig } from "./evaluate";
import { PROJECT } from "../lib/model/project";

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
    liveColorFile: string;
}

export interface TrackPlan {
    name: string;
    retired: boolean;
    stage: Stage;
    release: Plan["release"];
    /** The track's notices: one per stage, for all its servers. */
    notices: string[];
    servers: ServerPlan[];
}

export interface EdgePlan {
    hosts: string[];
    /** Where the edge's public listener sends traffic, e.g. "edge_main, 0.5% to edge_py3 (per request)". */
    split: string;
    trackPorts: Record<string, number>;
}

export interface Plan {
    note: string;
    stage: Stage;
    release: { tags: Record<string, string>; images?: Partial<Record<string, string>>; env?: Partial<Record<string, Record<string, string>>>; live: string; passive: string; canary: number };
    notifications: string;
    /** The main track's notices: one per stage (prepared while prepared; live), for all servers. */
    notices: string[];
    /** Other tracks, when the config declares any. */
    tracks?: TrackPlan[];
    edge?: EdgePlan;
    servers: ServerPlan[];
}

export interface StackFile {
    /** The stack's name, from the file name Pulumi.<name>.yaml. */
    name?: string;
    /** Plain keys, as in Pulumi.<stack>.yaml: `portal:key` -> value. */
    config: StackConfig;
    /** Keys holding an encrypted (`secure:`) value, top-level or `--path` nested; offline each encrypted value is a placeholder. */
    secrets: StackConfig;
    /** Where the file stores secrets, for validation (plain values of secret keys are refused). */
    storage: SecretStorage;
}

export { SECRET_PLACEHOLDER };

/** Reads a stack file as the engine would hand it to the program, without decrypting. */
export function readStackFile(file: string, stack?: string): StackFile {
    const fileName = path.basename(file);
    const name = stack ?? /^Pulumi\.(.+)\.yaml$/.exec(fileName)?.[1];
    const text = fs.readFileSync(file, "utf8");
    const { values, secretKeys } = readStackText(text, fileName);
    const { storage } = portalStackConfig(text, fileName, name);
    const config: StackConfig = {};
    const secrets: StackConfig = {};
    for (const [key, value] of Object.entries(values)) {
        // A whole map encrypted as one value (`--secret portal:appSecrets '{…}'`): its keys are unknown offline.
        if (secretKeys.includes(key)) secrets[key] = (key === "portal:appSecrets" || key === "portal:colorSecrets") && isPlaceholder(value) ? {} : value;
        else config[key] = value;
    }
    return { name, config, secrets, storage };
}

/** Validates the stack file as the program would, with each encrypted leaf known (throws ConfigError). */
export function validateStackFile(stack: StackFile): PortalConfig {
    const flat: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...stack.config, ...stack.secrets })) flat[key] = typeof value === "string" ? value : JSON.stringify(value);
    try {
        return validateConfig(readRawConfig(flat), stack.storage);
    } catch (e) {
        // The program's own wording (program.ts), so the plan and `pulumi preview` agree.
        if (e instanceof ConfigError) throw new ConfigError(e.problems, "invalid portal config:\n");
        throw e;
    }
}

export async function planStack(stack: StackFile): Promise<Plan> {
    validateStackFile(stack);
    const evaluation = await evaluate(stack.config, stack.secrets, { stack: stack.name });
    return planFrom(evaluation, loadPortalConfig(), stack.secrets["portal:slackWebhook"] !== undefined);
}

function label(r: DeclaredResource, key: string): string {
    const labels = (r.inputs.labels ?? []) as { label: string; value: string }[];
    return labels.find((l) => l.label === key)?.value ?? "";
}

function containerPlan(r: DeclaredResource): ContainerPlan {
    return { name: String(r.inputs.name), image: String(r.inputs.image), tag: label(r, "portal.tag"), protected: r.protect };
}

/** Reads a route file back into words with the config's switching mode (lib/nginx/routeModes.ts). */
export function describeRoute(config: PortalConfig, content: string): string {
    return routeMode(config.nginx.mode).describeRoute(content);
}

function serverPlans(evaluation: Evaluation, config: PortalConfig, track: Track, outputs: Record<string, ServerOutputs>): ServerPlan[] {
    const byName = new Map([...evaluation.resources.values()].map((r) => [r.name, r]));
    const scoped = (server: string, suffix: string) => byName.get(`${server}-${namesOf(track).scoped(suffix)}`);
    return config.servers.map((server): ServerPlan => {
        const name = server.name;
        const out = outputs[name];
        const colorContainers = track.colors.map((c) => byName.get(`${name}-${c}-container`)).filter((r) => r !== undefined);
        const workers = track.main ? server.workers.map((role) => byName.get(`${name}-${role}`)).filter((r) => r !== undefined) : [];
        const migrations = track.colors.map((c) => byName.get(`${name}-${c}-migrate`)).filter((r) => r !== undefined);
        return {
            name,
            host: server.host,
            primary: server.primary,
            live: { color: out.live, tag: out.liveTag },
            passive: { color: out.passive, tag: out.passiveTag },
            containers: colorContainers.map(containerPlan),
            migrations: migrations.map((c) => String(c.inputs.create)),
            upstreams: {
                live: describeRoute(config, String(scoped(name, "route-live")?.inputs.stdin ?? "")),
                passive: describeRoute(config, String(scoped(name, "route-passive")?.inputs.stdin ?? "")),
            },
            workers: workers.map(containerPlan),
            liveColorFile: out.liveColorFile,
        };
    });
}

/** The track's stage notices (portal-notify-prepared, portal-notify-live, or portal-<track>-…), as sent. */
function noticesOf(evaluation: Evaluation, track: Track): string[] {
    const byName = new Map([...evaluation.resources.values()].map((r) => [r.name, r]));
    return ["notify-prepared", "notify-live"].map((n) => byName.get(`${PROJECT}-${namesOf(track).scoped(n)}`)).filter((r) => r !== undefined).map((c) => lastShellWord(String(c.inputs.create)));
}

function releasePlan(track: Track): Plan["release"] {
    const { tags, images, env, live, passive, canary } = track.release;
    return { tags: { ...tags }, ...(images ? { images: { ...images } } : {}), ...(env ? { env: structuredClone(env) } : {}), live, passive, canary };
}

function planFrom(evaluation: Evaluation, config: PortalConfig, notifies: boolean): Plan {
    const [main, ...others] = tracksOf(config);
    const plan: Plan = {
        note: PLAN_NOTE,
        stage: evaluation.outputs.stage,
        release: releasePlan(main),
        notifications: notifies ? "slack" : "off (portal:slackWebhook is not set)",
        notices: noticesOf(evaluation, main),
        servers: serverPlans(evaluation, config, main, evaluation.outputs.servers),
    };
    if (others.length > 0) {
        plan.tracks = others.map((track) => {
            const out = evaluation.outputs.tracks[track.name];
            return { name: track.name, retired: track.retired, stage: out.stage, release: releasePlan(track), notices: noticesOf(evaluation, track), servers: serverPlans(evaluation, config, track, out.servers) };
        });
    }
    if (config.edge) {
        const routes = config.edge.hosts.map((h) => [...evaluation.resources.values()].find((r) => r.name === `${h.name}-edge-route`));
        plan.edge = {
            hosts: config.edge.hosts.map((h) => `${h.name} (${h.host})`),
            split: describeRoute(config, String(routes[0]?.inputs.stdin ?? "")),
            trackPorts: config.edge.trackPorts,
        };
    }
    return plan;
}

/** The last word of a command line built by ShellCommand (plain or single-quoted). */
export function lastShellWord(line: string): string {
    const quoted = /'((?:[^']|'\\'')*)'$/.exec(line);
    if (quoted) {
        return quoted[1].replace(/'\\''/g, "'");
    }
    return line.split(" ").pop() ?? "";
}
