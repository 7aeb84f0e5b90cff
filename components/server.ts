// One server: its Docker provider, its command target, the uploaded scripts and the
// image pulls of every track's colors. Each track's release on it
// (colors, routing, workers) is added by `deployTrack` once the primary's migrations
// exist, so every server's passive container can wait for them (the cross-server gate).

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import type { Color, PortalConfig, RegistryConfig, ServerConfig } from "../lib/config/config";
import { colorRuns } from "../lib/model/rollout";
import { dockerSshOpts } from "../lib/server/sshOptions";
import type { Track } from "../lib/model/tracks";
import { Host } from "./host";
import { deployTrack, type DeployedTrack, type ServerOutputs, type ServerReleaseArgs } from "./serverRelease";

export type { StepOptions } from "./host";

export interface ServerArgs {
    config: PortalConfig;
    server: ServerConfig;
    tracks: Track[];
    /** portal:sshPrivateKey; without it ssh uses the agent. */
    sshPrivateKey?: pulumi.Output<string>;
    /** portal:registryPassword, required with portal:registry. */
    registryPassword?: pulumi.Output<string>;
}

/**
 * The provider's registry login. kreuzwerker/terraform-provider-docker@v4.2.0
 * internal/provider/resource_docker_image_funcs.go pullImage: a pull sends the credentials of
 * the provider's `registry_auth` entry whose address is the image's registry host, and empty
 * ones otherwise (provider.go providerSetToRegistryAuth keys them by host); the operator's
 * `docker login` is not read unless an entry names a config file. The password stays a secret.
 */
function registryAuth(registry: RegistryConfig | undefined, password: pulumi.Output<string> | undefined): Pick<docker.ProviderArgs, "registryAuth"> {
    if (!registry) return {};
    if (!password) {
        throw new pulumi.RunError(
            `portal:registry is set but portal:registryPassword is not; set it with: pulumi config set --secret portal:registryPassword`,
        );
    }
    return { registryAuth: [{ address: registry.server, username: registry.username, password: pulumi.secret(password) }] };
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
            { config: args.config, host: args.server.host, dir: args.config.dir, sshPrivateKey: args.sshPrivateKey, hostKey: args.server.hostKey },
            opts,
        );
        this.server = args.server;
        this.tracks = args.tracks;
        const { config, server } = args;

        // Changing this provider's config (registryAuth, sshOpts for a hostKey) or its plugin
        // version updates it in place; nothing on it is replaced: pulumi@v3.248.0
        // pkg/resource/deploy/providers/registry.go Diff drops `version` (FilterProviderConfig)
        // before the provider's DiffConfig, and pulumi-terraform-bridge@v3.126.0
        // pkg/tfbridge/provider.go configDiffer replaces only keys marked ForcesProviderReplace,
        // of which pulumi-docker@v5.0.0 provider/resources.go marks none.
        this.dockerProvider = new docker.Provider(
            `${name}-docker`,
            {
                ...(config.target === "local"
                    ? { host: "unix:///var/run/docker.sock" }
                    : { host: `ssh://${config.ssh.user}@${server.host}:${config.ssh.port}`, sshOpts: dockerSshOpts(server.hostKey) }),
                ...registryAuth(config.registry, args.registryPassword),
            },
            { parent: this },
        );
    }

    /** The server's first changes, after `gate` (every host's preflight): directories, scripts, image pulls. */
    override begin(gate: pulumi.Resource[]): void {
        super.begin(gate);
        for (const track of this.tracks) {
            for (const run of colorRuns(this.config, track)) {
                // keepLocally: two colors may run the same tag, so deleting one color's image
                // resource must never remove an image the other color's container uses.
                this.images[run.color] = new docker.RemoteImage(
                    `${this.name}-${run.color}-image`,
                    { name: run.image, keepLocally: true, ...(run.pull === undefined ? {} : { pullTriggers: [run.pull] }) },
                    { parent: this, provider: this.dockerProvider, dependsOn: run.pull === undefined ? gate : [this.pullAgain(run.color, run.image, run.pull, gate)] },
                );
            }
        }
    }

    /**
     * A mutable tag is pulled by a command: the provider's create looks the name up locally
     * first and pulls only when the engine lacks it (kreuzwerker/terraform-provider-docker@v4.2.0,
     * carried by @pulumi/docker 5.0.0, and the same at v3.9.0:
     * internal/provider/resource_docker_image_funcs.go, findImage), so replacing the image
     * resource alone would keep the old image. The image resource (pullTriggers, ForceNew in
     * resource_docker_image.go) is replaced after it and reads the new image id.
     */
    private pullAgain(color: Color, image: string, stamp: string, gate: pulumi.Resource[]): pulumi.Resource {
        return this.step(`${color}-pull`, { create: cmd.pullImage(image), triggers: [stamp] }, { parent: this, dependsOn: gate });
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
