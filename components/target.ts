// Where a server's commands run: over ssh on a real server, or on the operator's machine
// for the `local` stack. Components describe a step once (a ShellCommand plus stdin) and
// the target turns it into a @pulumi/command resource.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ShellCommand } from "../lib/shell";

export interface StepArgs {
    /** The command line, rendered from a ShellCommand; an Output when it waits on a value (a stamp). */
    create: ShellCommand | pulumi.Output<ShellCommand>;
    /** Content or secrets fed on stdin, never on the command line. */
    stdin?: pulumi.Input<string>;
    /** Values whose change replaces the step, i.e. runs it again (there is no delete command to undo it). */
    triggers?: pulumi.Input<unknown>[];
}

export interface CommandStep extends pulumi.Resource {
    readonly stdout: pulumi.Output<string>;
}

export interface Target {
    /** Declares one step of the rollout on this target. */
    step(name: string, args: StepArgs, opts: pulumi.CustomResourceOptions): CommandStep;
}

function render(create: ShellCommand | pulumi.Output<ShellCommand>): pulumi.Input<string> {
    return pulumi.Output.isInstance(create) ? create.apply((c) => c.toString()) : create.toString();
}

export interface SshTarget {
    host: string;
    port: number;
    user: string;
    /** Optional: without it the command provider uses the ssh agent (SSH_AUTH_SOCK). */
    privateKey?: pulumi.Output<string>;
}

export class RemoteTarget implements Target {
    readonly connection: command.types.input.remote.ConnectionArgs;

    constructor(ssh: SshTarget) {
        this.connection = { host: ssh.host, port: ssh.port, user: ssh.user, privateKey: ssh.privateKey };
    }

    step(name: string, args: StepArgs, opts: pulumi.CustomResourceOptions): CommandStep {
        return new command.remote.Command(
            name,
            {
                connection: this.connection,
                create: render(args.create),
                stdin: args.stdin,
                triggers: args.triggers,
                addPreviousOutputInEnv: false,
            },
            opts,
        );
    }
}

export class LocalTarget implements Target {
    step(name: string, args: StepArgs, opts: pulumi.CustomResourceOptions): CommandStep {
        return new command.local.Command(
            name,
            {
                create: render(args.create),
                stdin: args.stdin,
                triggers: args.triggers,
                addPreviousOutputInEnv: false,
            },
            opts,
        );
    }
}
