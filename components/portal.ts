// The whole stack: one Server per configured server, the release stamp, and the
// migrations on the primary that gate every server's containers of that color.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as cmd from "../lib/server/commands";
import type { Color, PortalConfig } from "../lib/config/config";
import { colorEnv, liveNotice, migrationRuns, preparedNotice, stageOf, type Stage } from "../lib/model/rollout";
import { appEnv, type AppEnv } from "./appEnv";
import { trackScoped, tracksOf, type Track } from "../lib/model/tracks";
import { Edge } from "./edge";
import { Migration } from "./migration";
import { failureNoticeHook, slackNotice, withErrorHook } from "./notice";
import { Server } from "./server";
import type { DeployedTrack, ServerOutputs } from "./serverRelease";

export interface PortalSecrets {
    sshPrivateKey?: pulumi.Output<string>;
    slackWebhook?: pulumi.Output<string>;
    appSecrets?: pulumi.Output<Record<string, string>>;
    /** Per pinned color: its own copy of the app secrets (the release helper copies them at prepare). */
    colorSecrets?: pulumi.Output<Record<Color, Record<string, string>>>;
    registryPassword?: pulumi.Output<string>;
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
    /**
     * The steps after which the stack routes as configured: every server's recorded live switch
     * of every track, and every edge split. The `deployed` output waits for them, so a failed
     * or half-done `up` leaves the last complete state as the one the live guard reads.
     */
    readonly routed: pulumi.Resource[] = [];

    /** `opts` plus, with a webhook, the failure notice's error hook on every step below the Portal. */
    private static options(args: PortalArgs, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions | undefined {
        const hosts = [...args.config.servers.map((s) => s.name), ...(args.config.edge?.hosts.map((h) => h.name) ?? [])];
        const hook = failureNoticeHook(pulumi.getStack(), hosts, args.secrets.slackWebhook);
        if (hook === undefined) return opts;
        return { ...opts, transformations: [withErrorHook(hook), ...(opts?.transformations ?? [])] };
    }

    constructor(name: string, args: PortalArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Portal", name, {}, Portal.options(args, opts));
        const { config, secrets } = args;
        const tracks = tracksOf(config);
        const stack = pulumi.getStack();
        this.stage = stageOf(config.release);

        const servers = config.servers.map(
            (server) => new Server(
                    server.name,
                    { config, server, tracks, sshPrivateKey: secrets.sshPrivateKey, registryPassword: secrets.registryPassword },
                    { parent: this },
                ),
        );
        // Edge hosts are declared up front too, so every host's preflight gates every host's first change.
        const edges = config.edge
            ? config.edge.hosts.map((host) => new Edge(host.name, { config, edge: config.edge!, host, tracks, sshPrivateKey: secrets.sshPrivateKey }, { parent: this }))
            : [];
        const gate = [...servers, ...edges].flatMap((h) => (h.preflight ? [h.preflight] : []));
        for (const server of servers) server.begin(gate);
        const primary = servers.find((s) => s.server.primary)!;
        // Each color's own env (lib/model/rollout.ts colorEnv); colors are unique across tracks.
        const envs = new Map<Color, AppEnv>();
        const envOf = (track: Track, color: Color): AppEnv => {
            if (!envs.has(color)) envs.set(color, appEnv(colorEnv(config, track, color), secrets));
            return envs.get(color)!;
        };
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
                    { primary, run, after: [...pulls, ...earlier], envLines: envOf(track, run.color).envFile },
                    { parent: primary },
                ).done;
            }

            const outputs: Record<string, ServerOutputs> = {};
            const deployedOn: DeployedTrack[] = [];
            liveSwitches[track.name] = [];
            for (const server of servers) {
                const deployed = server.deployTrack(track, {
                    stamp: stamp.stdout,
                    canarySalt: salt,
                    migrations,
                    env: (color) => envOf(track, color),
                    mainStaticFiles: mainStaticFiles.get(server),
                });
                deployedOn.push(deployed);
                if (track.main) mainStaticFiles.set(server, deployed.staticFiles);
                outputs[server.name] = deployed.outputs;
                liveSwitches[track.name].push(deployed.liveRecorded);
                this.routed.push(deployed.liveRecorded);
            }
            if (secrets.slackWebhook) {
                // One notice per stage and track, after that stage's step on every server.
                const names = servers.map((s) => s.name);
                const prepared = preparedNotice(stack, release, names, track);
                if (prepared !== undefined) {
                    slackNotice(`${name}-${trackScoped(track, "notify-prepared")}`, prepared, secrets.slackWebhook, {
                        parent: this,
                        dependsOn: deployedOn.map((d) => d.passiveSwitched),
                    });
                }
                slackNotice(`${name}-${trackScoped(track, "notify-live")}`, liveNotice(stack, release, names, track), secrets.slackWebhook, {
                    parent: this,
                    dependsOn: deployedOn.flatMap((d) => d.liveDone),
                });
            }
            if (track.main) Object.assign(this.servers, outputs);
            else this.tracks[track.name] = { stage: stageOf(release), servers: outputs };
        }
        for (const server of servers) server.complete(this.servers[server.name]);

        // The edge routes to a track only once every server has switched its live upstream.
        for (const edge of edges) {
            edge.route(gate, liveSwitches);
            this.routed.push(edge.split);
        }
        this.registerOutputs({ stage: this.stage, servers: this.servers, tracks: this.tracks });
    }
}
