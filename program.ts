// The Pulumi program as a function: index.ts runs it; tests and the offline plan run the
// same function under Pulumi's mock runtime, passing a transformations hook to observe
// dependsOn/parent/protect, which mocks do not report.

import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, validateConfig, type PortalConfig } from "./lib/config";
import { readRawConfig } from "./lib/rawConfig";
import { Portal, type TrackOutputs } from "./components/portal";
import type { ServerOutputs } from "./components/serverRelease";
import type { Stage } from "./lib/rollout";

export interface ProgramOutputs {
    stage: Stage;
    servers: Record<string, ServerOutputs>;
    tracks: Record<string, TrackOutputs>;
}

/**
 * The `portal:` keys the engine marks secret. The SDK's own check is internal (its
 * Config.get warns with it): pulumi/pulumi@v3.248.0 sdk/nodejs/runtime/config.ts `isConfigSecret`.
 */
function secretKeys(raw: Record<string, unknown>): string[] {
    const isSecret = (runtimeConfig as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    if (typeof isSecret !== "function") throw new Error("@pulumi/pulumi no longer exports runtime isConfigSecret: re-check lib/secretConfig.ts");
    return Object.keys(raw).filter((key) => isSecret(`portal:${key}`));
}

/** Validates the stack's `portal:` config; throws ConfigError naming every bad key. */
export function loadPortalConfig(): PortalConfig {
    const raw = readRawConfig(pulumi.runtime.allConfig());
    return validateConfig(raw, { encrypted: secretKeys(raw), stack: pulumi.getStack() });
}

export function portalProgram(opts?: pulumi.ComponentResourceOptions): ProgramOutputs {
    let config: PortalConfig;
    try {
        config = loadPortalConfig();
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(`invalid portal config:\n${e.message}`);
        }
        throw e;
    }
    const settings = new pulumi.Config("portal");
    const portal = new Portal(
        "portal",
        {
            config,
            secrets: {
                sshPrivateKey: settings.getSecret("sshPrivateKey"),
                slackWebhook: settings.getSecret("slackWebhook"),
                appSecrets: settings.getSecretObject<Record<string, string>>("appSecrets"),
            },
        },
        opts,
    );
    return { stage: portal.stage, servers: portal.servers, tracks: portal.tracks };
}
