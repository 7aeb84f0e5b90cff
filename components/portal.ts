// The whole stack: one Server per configured server, the release stamp, and the
// migrations on the primary that gate every server's containers of that color.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
import { COLORS, type Color, type PortalConfig } from "../lib/config";
import { migrationRuns, stageOf, type Stage } from "../lib/rollout";
import { appEnv } from "./appEnv";
import { Migration } from "./migration";
import { Server } from "./server";
import type { ServerOutputs } from "./serverRelease";

export interface PortalSecrets {
    sshPrivateKey?: pulumi.Output<string>;
    slackWebhook?: pulumi.Output<string>;
    appSecrets?: pulumi.Output<Record<string, string>>;
}

export interface PortalArgs {
    config: PortalConfig;
    secrets: PortalSecrets;
}

export class Portal extends pulumi.ComponentResource {
    readonly stage: Stage;
    readonly servers: Record<string, ServerOutputs> = {};

    constructor(name: string, args: PortalArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Portal", name, {}, opts);
        const { config, secrets } = args;
        const { release } = config;
        this.stage = stageOf(release);

        // Recorded once per release: the step runs again only when a tag changes.
        const stamp = new command.local.Command(
            `${name}-release-stamp`,
            { create: cmd.releaseStamp().toString(), triggers: COLORS.map((c) => release.tags[c] ?? "") },
            { parent: this },
        );

        const servers = config.servers.map(
            (server) => new Server(server.name, { config, server, sshPrivateKey: secrets.sshPrivateKey }, { parent: this }),
        );
        const primary = servers.find((s) => s.server.primary)!;
        const env = appEnv(config.app.env, secrets.appSecrets);

        // The live color's migration first, so a fresh stack migrates in release order.
        const migrations: Partial<Record<Color, pulumi.Resource>> = {};
        const runs = migrationRuns(config).sort((a, b) => Number(b.color === release.live) - Number(a.color === release.live));
        for (const run of runs) {
            const earlier = Object.values(migrations) as pulumi.Resource[];
            const pulls = servers.map((s) => s.images[run.color]!);
            migrations[run.color] = new Migration(
                `${primary.name}-${run.color}-migration`,
                { primary, run, after: [...pulls, ...earlier], envLines: env.envFile },
                { parent: primary },
            ).done;
        }

        for (const server of servers) {
            this.servers[server.name] = server.deployRelease({
                stamp: stamp.stdout,
                migrations,
                envs: env.envs,
                slackWebhook: secrets.slackWebhook,
            });
        }
        this.registerOutputs({ stage: this.stage, servers: this.servers });
    }
}
