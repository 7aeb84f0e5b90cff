// One server: its Docker provider, its command target, the uploaded scripts and the
// image pulls (prepare step a). The release on it (colors, routing, workers) is added
// by `deployRelease` once the primary's migrations exist, so every server's passive
// container can wait for them (the cross-server gate).

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
import type { Color, PortalConfig, ServerConfig } from "../lib/config";
import { colorRuns } from "../lib/rollout";
import { ShellCommand } from "../lib/shell";
import { deployRelease, type ServerOutputs, type ServerReleaseArgs } from "./serverRelease";
import { LocalTarget, RemoteTarget, type CommandStep, type StepArgs, type Target } from "./target";

export interface ServerArgs {
    config: PortalConfig;
    server: ServerConfig;
    /** portal:sshPrivateKey; without it ssh uses the agent. */
    sshPrivateKey?: pulumi.Output<string>;
}

export interface StepOptions {
    parent: pulumi.Resource;
    dependsOn?: pulumi.Resource[];
    ignoreChanges?: string[];
}

export class Server extends pulumi.ComponentResource {
    readonly name: string;
    readonly config: PortalConfig;
    readonly server: ServerConfig;
    readonly dockerProvider: docker.Provider;
    readonly target: Target;
    /** The uploaded scripts: every step that runs one depends on this. */
    readonly scripts: pulumi.Resource;
    /** The pulled image of each color that has a tag. */
    readonly images: Partial<Record<Color, docker.RemoteImage>> = {};

    constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Server", name, {}, opts);
        this.name = name;
        this.config = args.config;
        this.server = args.server;
        const { config, server } = args;
        const local = config.target === "local";

        this.dockerProvider = new docker.Provider(
            `${name}-docker`,
            local
                ? { host: "unix:///var/run/docker.sock" }
                : { host: `ssh://${config.ssh.user}@${server.host}:${config.ssh.port}`, sshOpts: ["-o", "BatchMode=yes"] },
            { parent: this },
        );
        this.target = local
            ? new LocalTarget()
            : new RemoteTarget({ host: server.host, port: config.ssh.port, user: config.ssh.user, privateKey: args.sshPrivateKey });

        const setup = this.target.step(`${name}-setup`, { create: cmd.prepareHost(config.dir, config.nginx.confDir) }, { parent: this });
        this.scripts = this.uploadScripts(setup);

        for (const run of colorRuns(config)) {
            // keepLocally: two colors may run the same tag, so deleting one color's image
            // resource must never remove an image the other color's container uses.
            this.images[run.color] = new docker.RemoteImage(
                `${name}-${run.color}-image`,
                { name: run.image, keepLocally: true },
                { parent: this, provider: this.dockerProvider },
            );
        }
    }

    /** Declares this server's release (see serverRelease.ts) and completes the component. */
    deployRelease(args: ServerReleaseArgs): ServerOutputs {
        const outputs = deployRelease(this, args);
        this.registerOutputs(outputs);
        return outputs;
    }

    private uploadScripts(setup: CommandStep): pulumi.Resource {
        const source = new pulumi.asset.FileArchive("scripts");
        if (this.config.target === "local") {
            return new command.local.Command(
                `${this.name}-scripts`,
                { create: new ShellCommand(["cp", "-R", "scripts", `${this.config.dir}/`]).toString(), triggers: [source] },
                { parent: this, dependsOn: [setup] },
            );
        }
        // The archive's directory name is kept: it lands in <dir>/scripts.
        return new command.remote.CopyToRemote(
            `${this.name}-scripts`,
            {
                connection: (this.target as RemoteTarget).connection,
                source,
                remotePath: this.config.dir,
            },
            { parent: this, dependsOn: [setup] },
        );
    }

    /** A step on this server, named `<server>-<suffix>`, that runs after the scripts are uploaded. */
    step(suffix: string, args: StepArgs, opts: StepOptions): CommandStep {
        const dependsOn = [this.scripts, ...(opts.dependsOn ?? [])];
        return this.target.step(`${this.name}-${suffix}`, args, { ...opts, dependsOn });
    }
}
