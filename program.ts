// The Pulumi program as a function: index.ts runs it; tests and the offline plan run the
// same function under Pulumi's mock runtime, passing a transformations hook to observe
// dependsOn/parent/protect, which mocks do not report.

import * as pulumi from "@pulumi/pulumi";
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

/** Validates the stack's `portal:` config; throws ConfigError naming every bad key. */
export function loadPortalConfig(): PortalConfig {
    return validateConfig(readRawConfig(pulumi.runtime.allConfig()));
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
                registryPassword: settings.getSecret("registryPassword"),
            },
        },
        opts,
    );
    return { stage: portal.stage, servers: portal.servers, tracks: portal.tracks };
}
