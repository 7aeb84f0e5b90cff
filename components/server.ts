// One server: its Docker provider, its command target, the uploaded scripts and the
// image pulls of every track's colors (prepare step a). Each track's release on it
// (colors, routing, workers) is added by `deployTrack` once the primary's migrations
// exist, so every server's passive container can wait for them (the cross-server gate).

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Color, PortalConfig, ServerConfig } from "../lib/config";
import { colorRuns } from "../lib/rollout";
import type { Track } from "../lib/tracks";
import { Host } from "./host";
import { deployTrack, type DeployedTrack, type ServerOutputs, type ServerReleaseArgs } from "./serverRelease";

export type { StepOptions } from "./host";

export interface ServerArgs {
    config: PortalConfig;
    server: ServerConfig;
    tracks: Track[];
    /** portal:sshPrivateKey; without it ssh uses the agent. */
    sshPrivateKey?: pulumi.Output<string>;
}

export class Server extends Host {
    readonly server: ServerConfig;
    readonly dockerProvider: docker.Provider;
    /** The pulled image of each color that has a tag, over all tracks (colors are unique). */
    readonly images: Partial<Record<Color, docker.RemoteImage>> = {};

    private readonly tracks: Track[];

    constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "portal:index:Server",
            name,
            {
                config: args.config,
                host: args.server.host,
                dir: args.config.dir,
                sshPrivateKey: args.sshPrivateKey,
            },
            opts,
        );
        this.server = args.server;
        this.tracks = args.tracks;
        const { config, server } = args;

        this.dockerProvider = new docker.Provider(
            `${name}-docker`,
            config.target === "local"
                ? { host: "unix:///var/run/docker.sock" }
                : { host: `ssh://${config.ssh.user}@${server.host}:${config.ssh.port}`, sshOpts: ["-o", "BatchMode=yes"] },
            { parent: this },
        );
    }

    /** The server's first changes, after `gate` (every host's preflight): directories, scripts, image pulls (step a). */
    override begin(gate: pulumi.Resource[]): void {
        super.begin(gate);
        for (const track of this.tracks) {
            for (const run of colorRuns(this.config, track)) {
                // keepLocally: two colors may run the same tag, so deleting one color's image
                // resource must never remove an image the other color's container uses.
                this.images[run.color] = new docker.RemoteImage(
                    `${this.name}-${run.color}-image`,
                    { name: run.image, keepLocally: true },
                    { parent: this, provider: this.dockerProvider, dependsOn: gate },
                );
            }
        }
    }

    /** Declares one track's release on this server (see serverRelease.ts). */
    deployTrack(track: Track, args: ServerReleaseArgs): DeployedTrack {
        return deployTrack(this, track, args);
    }

    /** Completes the component with the main track's outputs. */
    complete(outputs: ServerOutputs): void {
        this.registerOutputs(outputs);
    }
}
