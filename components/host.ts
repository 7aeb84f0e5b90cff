// A machine the program runs steps on: its command target (ssh, or local for the `local`
// stack), its directory and the uploaded scripts. Servers and edge hosts both build on it.

import * as command from "@pulumi/command";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import type { PortalConfig } from "../lib/config/config";
import { ShellCommand } from "../lib/server/shell";
import { LocalTarget, RemoteTarget, type CommandStep, type StepArgs, type StepTarget } from "./target";

export interface HostArgs {
    config: PortalConfig;
    /** ssh address; ignored for the local target. */
    host: string;
    /** Where the scripts go (<dir>/scripts). */
    dir: string;
    /** portal:sshPrivateKey; without it ssh uses the agent. */
    sshPrivateKey?: pulumi.Output<string>;
    /** The host's pinned ssh key (servers[].hostKey / edge.hosts[].hostKey). */
    hostKey?: string;
    /** Directories the preflight checks are writable (default: dir). */
    preflightDirs?: string[];
    /** false for an edge host: the preflight skips Docker. */
    docker?: boolean;
}

export interface StepOptions {
    parent: pulumi.Resource;
    dependsOn?: pulumi.Resource[];
    ignoreChanges?: string[];
}

/** The preflight's stdin: the script itself, so it runs before anything is uploaded. */
const PREFLIGHT_SCRIPT = fs.readFileSync(path.join(__dirname, "..", "scripts", "preflight.sh"), "utf8");

export abstract class Host extends pulumi.ComponentResource {
    readonly name: string;
    readonly config: PortalConfig;
    /** The directory holding the uploaded scripts on this host. */
    readonly home: string;
    readonly target: StepTarget;
    /**
     * `<host>-preflight`: read-only checks of what the rollout needs (scripts/preflight.sh).
     * Every host's first change waits for every host's preflight (see `begin`). None on the local target.
     */
    readonly preflight?: CommandStep;
    /** The directory set-up (`<host>-setup`), after every preflight. */
    protected setup!: CommandStep;
    /** The uploaded scripts: every step that runs one depends on this. */
    scripts!: pulumi.Resource;

    protected constructor(type: string, name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.name = name;
        this.config = args.config;
        this.home = args.dir;
        const { config } = args;
        this.target =
            config.target === "local"
                ? new LocalTarget()
                : new RemoteTarget({ host: args.host, port: config.ssh.port, user: config.ssh.user, privateKey: args.sshPrivateKey, hostKey: args.hostKey });
        if (config.target !== "local") {
            const checks = cmd.preflight({
                dirs: args.preflightDirs ?? [args.dir],
                confDir: config.nginx.confDir,
                nginxRoot: config.nginx.configRoot,
                mode: config.nginx.mode,
                test: config.nginx.test,
                reload: config.nginx.reload,
                minFreeMb: config.preflight.minFreeMb,
                docker: args.docker ?? true,
            });
            // Runs when the host is new and again whenever what it checks changes: like every
            // step it is keyed on its command line and stdin (the script), see target.ts.
            // Not on every rollout step: that would put it in every preview.
            this.preflight = this.target.step(`${name}-preflight`, { create: checks, stdin: PREFLIGHT_SCRIPT }, { parent: this });
        }
    }

    /**
     * Declares the host's first changes (directories, scripts) once every host's preflight is
     * declared: `gate` is all of them, so a missing prerequisite anywhere stops the rollout
     * before any host is changed.
     */
    protected begin(gate: pulumi.Resource[]): void {
        this.setup = this.target.step(`${this.name}-setup`, { create: cmd.prepareHost(this.home, this.config.nginx.confDir) }, { parent: this, dependsOn: gate });
        this.scripts = this.uploadScripts(this.setup);
    }

    private uploadScripts(setup: CommandStep): pulumi.Resource {
        const source = new pulumi.asset.FileArchive("scripts");
        if (this.config.target === "local") {
            return this.target.step(
                `${this.name}-scripts`,
                { create: new ShellCommand(["cp", "-R", "scripts", `${this.home}/`]), triggers: [source] },
                { parent: this, dependsOn: [setup] },
            );
        }
        // The archive's directory name is kept: it lands in <dir>/scripts. A connection change
        // alone copies nothing: pulumi-command@v1.2.1 provider/pkg/provider/remote/copyController.go
        // Update copies only when the source's hash or remotePath changed.
        return new command.remote.CopyToRemote(
            `${this.name}-scripts`,
            { connection: (this.target as RemoteTarget).connection, source, remotePath: this.home },
            { parent: this, dependsOn: [setup] },
        );
    }

    /** A step on this host, named `<host>-<suffix>`, that runs after the scripts are uploaded. */
    step(suffix: string, args: StepArgs, opts: StepOptions): CommandStep {
        const dependsOn = [this.scripts, ...(opts.dependsOn ?? [])];
        return this.target.step(`${this.name}-${suffix}`, args, { ...opts, dependsOn });
    }
}
