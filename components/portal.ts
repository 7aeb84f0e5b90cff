// The whole stack: one Server per configured server, the release stamp, and the
// migrations on the primary that gate every server's containers of that color.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as cmd from "../lib/commands";
import type { Color, PortalConfig } from "../lib/config";
import { migrationRuns, stageOf, type Stage } from "../lib/rollout";
import { appEnv } from "./appEnv";
import { trackScoped, tracksOf } from "../lib/tracks";
import { Edge } from "./edge";
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

export interface TrackOutputs {
    stage: Stage;
    servers: Record<string, ServerOutputs>;
}

export class Portal extends pulumi.ComponentResource {
    /** The main track's stage and per-server outputs (a single-track stack has only these). */
    readonly stage: Stage;
    readonly servers: Record<string, ServerOutputs> = {};
    /** The other tracks' stages and per-server outputs. */
    readonly tracks: Record<string, TrackOutputs> = {};

    constructor(name: string, args: PortalArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Portal", name, {}, opts);
        const { config, secrets } = args;
        const tracks = tracksOf(config);
        this.stage = stageOf(config.release);

        const servers = config.servers.map(
            (server) => new Server(server.name, { config, server, tracks, sshPrivateKey: secrets.sshPrivateKey }, { parent: this }),
        );
        const primary = servers.find((s) => s.server.primary)!;
        const env = appEnv(config.app.env, secrets.appSecrets);
        const liveSwitches: Record<string, pulumi.Resource[]> = {};
        const mainStaticFiles = new Map<Server, pulumi.Resource>();

        for (const track of tracks) {
            const { release } = track;
            // Recorded once per release: the step runs again only when one of the track's tags changes.
            const stamp = new command.local.Command(
                `${name}-${trackScoped(track, "release-stamp")}`,
                { create: cmd.releaseStamp().toString(), triggers: track.colors.map((c) => release.tags[c] ?? "") },
                { parent: this },
            );

            // Sticky canaries: one salt per release of the track, so each release draws its own
            // cohort of clients. A change of keepers replaces the RandomId (a new value);
            // @pulumi/random@4.21.2 randomId.d.ts: "keepers: Arbitrary map of values that, when
            // changed, will trigger recreation of resource". The canaried color is the passive one.
            const salt =
                config.nginx.canary.mode === "sticky"
                    ? new random.RandomId(
                          `${name}-${trackScoped(track, "canary-salt")}`,
                          { byteLength: 8, keepers: { color: release.passive, tag: release.tags[release.passive] ?? "" } },
                          { parent: this },
                      ).hex
                    : undefined;

            // The live color's migration first, so a fresh stack migrates in release order.
            const migrations: Partial<Record<Color, pulumi.Resource>> = {};
            const runs = migrationRuns(config, track).sort((a, b) => Number(b.color === release.live) - Number(a.color === release.live));
            for (const run of runs) {
                const earlier = Object.values(migrations) as pulumi.Resource[];
                const pulls = servers.map((s) => s.images[run.color]!);
                migrations[run.color] = new Migration(
                    `${primary.name}-${run.color}-migration`,
                    { primary, run, after: [...pulls, ...earlier], envLines: env.envFile },
                    { parent: primary },
                ).done;
            }

            const outputs: Record<string, ServerOutputs> = {};
            liveSwitches[track.name] = [];
            for (const server of servers) {
                const deployed = server.deployTrack(track, {
                    stamp: stamp.stdout,
                    canarySalt: salt,
                    migrations,
                    envs: env.envs,
                    slackWebhook: secrets.slackWebhook,
                    mainStaticFiles: mainStaticFiles.get(server),
                });
                if (track.main) mainStaticFiles.set(server, deployed.staticFiles);
                outputs[server.name] = deployed.outputs;
                liveSwitches[track.name].push(deployed.liveRecorded);
            }
            if (track.main) Object.assign(this.servers, outputs);
            else this.tracks[track.name] = { stage: stageOf(release), servers: outputs };
        }
        for (const server of servers) server.complete(this.servers[server.name]);

        if (config.edge) {
            for (const host of config.edge.hosts) {
                // The edge routes to a track only once every server has switched its live upstream.
                new Edge(host.name, { config, edge: config.edge, host, tracks, after: liveSwitches, sshPrivateKey: secrets.sshPrivateKey }, { parent: this });
            }
        }
        this.registerOutputs({ stage: this.stage, servers: this.servers, tracks: this.tracks });
    }
}
