// The Pulumi program as a function: index.ts runs it; tests and the offline plan run the
// same function under Pulumi's mock runtime, passing a transformations hook to observe
// dependsOn/parent/protect, which mocks do not report.

import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, validateConfig, type PortalConfig } from "./lib/config/config";
import { deployedState, liveGuard, type DeployedState, type EnvLinesOf } from "./lib/model/liveGuard";
import { colorEnv, envLines, secretsOf } from "./lib/model/rollout";
import { readRawConfig } from "./lib/config/rawConfig";
import { Portal, type TrackOutputs } from "./components/portal";
import type { ServerOutputs } from "./lib/plan/plan";
import type { CommandStep } from "./components/target";
import type { Stage } from "./lib/model/rollout";
import { PROJECT } from "./lib/model/project";

export interface ProgramOutputs {
    stage: Stage;
    servers: Record<string, ServerOutputs>;
    tracks: Record<string, TrackOutputs>;
    /**
     * What this update deploys, for the live guard of the next one (secret: its fingerprints
     * hash the app secrets). Resolves only once every live switch and edge split is done.
     */
    deployed: pulumi.Output<DeployedState>;
    /** The same state as plain data (tests, the offline plan). */
    deployedState: DeployedState;
}

/** The output the live guard reads back from the stack's last update. */
export const DEPLOYED_OUTPUT = "deployed";
/**
 * The `portal:` keys the engine marks secret. The SDK's own check is internal (its
 * Config.get warns with it): pulumi/pulumi@v3.248.0 sdk/nodejs/runtime/config.ts `isConfigSecret`.
 */
function secretKeys(raw: Record<string, unknown>): string[] {
    const isSecret = (runtimeConfig as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    if (typeof isSecret !== "function") throw new Error("@pulumi/pulumi no longer exports runtime isConfigSecret: re-check lib/config/secretConfig.ts");
    return Object.keys(raw).filter((key) => isSecret(`portal:${key}`));
}

/** Validates the stack's `portal:` config; throws ConfigError naming every bad key. */
export function loadPortalConfig(): PortalConfig {
    const raw = readRawConfig(pulumi.runtime.allConfig());
    return validateConfig(raw, { encrypted: secretKeys(raw), stack: pulumi.getStack() });
}

function loadOrRefuse(): PortalConfig {
    try {
        return loadPortalConfig();
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(`invalid portal config:\n${e.message}`);
        }
        throw e;
    }
}

/** A secret key's map as the engine hands it to the program (JSON text); anything else: none (Config.getSecretObject fails on it with its own message). */
function rawSecretMap<T>(key: string): T | undefined {
    const raw = pulumi.runtime.allConfig()[`portal:${key}`];
    try {
        const parsed = raw === undefined ? undefined : JSON.parse(raw);
        return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as T) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Each color's env lines, secrets included, as components/appEnv.ts builds them: for the
 * guard's fingerprints only (they leave the program only hashed, in a secret).
 */
function colorEnvLines(config: PortalConfig): EnvLinesOf {
    const values = { appSecrets: rawSecretMap<Record<string, string>>("appSecrets"), colorSecrets: rawSecretMap<Record<string, Record<string, string>>>("colorSecrets") };
    return (track, color) => {
        const { env, secrets } = colorEnv(config, track, color);
        return envLines(env, secretsOf(secrets, values));
    };
}

/**
 * The last deployed state: this stack's own `deployed` output, read through a StackReference
 * to itself (during an update it holds the previous update's outputs). None on a new stack.
 */
async function lastDeployed(): Promise<DeployedState | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const details = await self.getOutputDetails(DEPLOYED_OUTPUT);
    return (details.value ?? details.secretValue) as DeployedState | undefined;
}

/** Refuses, before any resource is declared, a change the live guard forbids (lib/model/liveGuard.ts). */
export function guard(last: DeployedState | undefined, next: DeployedState): void {
    const problems = liveGuard(last, next);
    if (problems.length > 0) {
        throw new pulumi.RunError(`refused by the live guard (no single change may replace or delete a container that served live traffic):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    }
}

/** The program: config, the live guard against the last deployed state, then the resources. */
export async function guardedProgram(opts?: pulumi.ComponentResourceOptions): Promise<ProgramOutputs> {
    const config = loadOrRefuse();
    const next = deployedState(config, colorEnvLines(config));
    guard(await lastDeployed(), next);
    return portalProgram(opts, config, next);
}

/** Declares the resources of `config` (no guard: guardedProgram runs it first). */
export function portalProgram(opts?: pulumi.ComponentResourceOptions, config: PortalConfig = loadOrRefuse(), next?: DeployedState): ProgramOutputs {
    const settings = new pulumi.Config(PROJECT);
    const portal = new Portal(
        PROJECT,
        {
            config,
            secrets: {
                sshPrivateKey: settings.getSecret("sshPrivateKey"),
                slackWebhook: settings.getSecret("slackWebhook"),
                appSecrets: settings.getSecretObject<Record<string, string>>("appSecrets"),
                colorSecrets: settings.getSecretObject<Record<string, Record<string, string>>>("colorSecrets"),
                registryPassword: settings.getSecret("registryPassword"),
            },
        },
        opts,
    );
    const state = next ?? deployedState(config, colorEnvLines(config));
    const done = pulumi.all(portal.routed.map((r) => (r as CommandStep).stdout));
    const deployed = pulumi.secret(done.apply(() => state));
    return { stage: portal.stage, servers: portal.servers, tracks: portal.tracks, deployed, deployedState: state };
}
