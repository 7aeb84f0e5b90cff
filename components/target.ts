// Where a server's commands run: over ssh on a real server, or on the operator's machine
// for the `local` stack. Components describe a step once (a ShellCommand plus stdin) and
// the target turns it into a @pulumi/command resource.

// How a step re-runs (pulumi-command@v1.2.1, the rules relied on):
// - provider/pkg/provider/common/inputs.go: `triggers` is replaceOnChanges; a replace runs
//   `create` on the new resource (the old one's `delete` is unset: nothing runs).
// - provider/pkg/provider/remote/commandController.go and local/commandController.go Update:
//   any other input change (connection, logging, environment, stdin...) is an update, which
//   runs `update` if set, else `create` again.
// So every step lists what it does in `triggers` (its command line and a hash of its stdin,
// unless the stdin must not re-run it) and has a no-op `update`: rotating the ssh key or
// changing ssh.user/port updates the connection in state and runs nothing old again (no
// old migration, no switch, no reload). A step re-runs exactly when its command or content changes.
// - remote/commandOutputs.go run: stdout/stderr are kept in state as outputs (`stdout`,
//   `stderr`) and streamed to the log unless `logging` says otherwise; on failure the error
//   carries both whatever `logging` says. Steps log stderr only and keep both outputs secret
//   (additionalSecretOutputs, as remote/command.go's `logging` description advises).

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ShellCommand } from "../lib/server/shell";

export interface StepArgs {
    /** The command line, rendered from a ShellCommand; an Output when it waits on a value (a stamp). */
    create: ShellCommand | pulumi.Output<ShellCommand>;
    /** Content or secrets fed on stdin, never on the command line. */
    stdin?: pulumi.Input<string>;
    /** More values whose change replaces the step, i.e. runs it again (there is no delete command to undo it). */
    triggers?: pulumi.Input<unknown>[];
    /** false: a stdin change is stored without running the step again (the migrator's env). Default true. */
    rerunOnStdin?: boolean;
    /** What reaches the Pulumi log; default "stderr". The outputs stay in state, secret. */
    logging?: "none" | "stderr" | "stdout" | "stdoutAndStderr";
}

/** The no-op `update` every step has: an input change that is not a trigger runs nothing. */
export const NOOP_UPDATE = "true";

/** Outputs of every step kept secret in state: scripts may echo what they were given. */
export const SECRET_OUTPUTS = ["stdout", "stderr"];

/** The triggers of a step: its command line, a hash of its stdin (unless told not to), and its own. */
export function stepTriggers(args: StepArgs): pulumi.Input<unknown>[] {
    const stdin =
        args.stdin === undefined || args.rerunOnStdin === false
            ? []
            : [pulumi.output(args.stdin).apply((text) => `stdin sha256 ${createHash("sha256").update(text).digest("hex")}`)];
    return [render(args.create), ...stdin, ...(args.triggers ?? [])];
}

function commonInputs(args: StepArgs) {
    return {
        create: render(args.create),
        update: NOOP_UPDATE,
        stdin: args.stdin,
        triggers: stepTriggers(args),
        logging: args.logging ?? "stderr",
        addPreviousOutputInEnv: false,
    };
}

function withSecretOutputs(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS, ...(opts.additionalSecretOutputs ?? [])] };
}

export interface CommandStep extends pulumi.Resource {
    readonly stdout: pulumi.Output<string>;
}

export interface StepTarget {
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
    /**
     * Optional pinned host key. pulumi-command@v1.2.1 provider/pkg/provider/remote/connection.go:
     * with `hostKey` the dial accepts only that key (ssh.FixedHostKey); without it any key
     * (ssh.InsecureIgnoreHostKey) — known_hosts is never read by this provider.
     */
    hostKey?: string;
}

export class RemoteTarget implements StepTarget {
    readonly connection: command.types.input.remote.ConnectionArgs;

    constructor(ssh: SshTarget) {
        this.connection = { host: ssh.host, port: ssh.port, user: ssh.user, privateKey: ssh.privateKey, ...(ssh.hostKey ? { hostKey: ssh.hostKey } : {}) };
    }

    step(name: string, args: StepArgs, opts: pulumi.CustomResourceOptions): CommandStep {
        return new command.remote.Command(name, { connection: this.connection, ...commonInputs(args) }, withSecretOutputs(opts));
    }
}

export class LocalTarget implements StepTarget {
    step(name: string, args: StepArgs, opts: pulumi.CustomResourceOptions): CommandStep {
        return new command.local.Command(name, commonInputs(args), withSecretOutputs(opts));
    }
}
