// Slack notifications: one per stage and track (prepared; live), each waiting for that
// stage's step on every server. They run on the operator's machine, like the Fabric script
// did; the webhook is a secret passed in the environment, never on the command line. A
// notice runs again whenever its message changes, and only then. The local command inherits the
// environment of `pulumi up` (pulumi/pulumi-command@v1.2.1 provider/pkg/provider/local/
// commandOutputs.go: cmd.Env = os.Environ() plus `environment`), so notify-slack.sh reads
// the operator's name (PORTAL_OPERATOR, else USER) when it runs: a different operator does
// not change the command, so it does not re-send a notice.

import { spawn } from "node:child_process";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import { failureNotice } from "../lib/model/rollout";
import { NOOP_UPDATE, SECRET_OUTPUTS } from "./target";

export function slackNotice(
    name: string,
    message: string,
    webhook: pulumi.Output<string>,
    opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): command.local.Command {
    const create = cmd.notifySlack(message).toString();
    return new command.local.Command(
        name,
        {
            create,
            // A new message sends (replace); a new webhook alone does not resend (no-op update).
            triggers: [create],
            update: NOOP_UPDATE,
            environment: { SLACK_WEBHOOK_URL: pulumi.secret(webhook) },
            logging: "stderr",
            addPreviousOutputInEnv: false,
        },
        { ...opts, additionalSecretOutputs: SECRET_OUTPUTS },
    );
}

/**
 * Whether the engine runs error hooks: the SDK asks the CLI's resource monitor before the
 * program starts (@pulumi/pulumi@3.248.0 runtime/settings.js awaitFeatureSupport, from
 * runtime/stack.js initialize); the mock monitor cannot register them. Internal state of
 * the SDK, read defensively: anything unexpected means no failure notices, never a failure.
 */
export function errorHooksAvailable(): boolean {
    try {
        const monitor = pulumi.runtime.getMonitor() as { registerErrorHook?: unknown } | undefined;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const store = (require("@pulumi/pulumi/runtime/state") as { getStore(): { supportsErrorHooks?: boolean } }).getStore();
        return typeof monitor?.registerErrorHook === "function" && store.supportsErrorHooks === true;
    } catch {
        return false;
    }
}

/** Posts `message` with scripts/notify-slack.sh, the webhook in its environment; resolves with its exit code. */
export function postNotice(message: string, webhook: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 20_000): Promise<number | null> {
    return new Promise((resolve) => {
        const [file, ...args] = cmd.notifySlack(message).argv;
        const child = spawn(file, args, { env: { ...env, SLACK_WEBHOOK_URL: webhook }, stdio: ["ignore", "ignore", "inherit"] });
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", () => resolve(null));
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve(code);
        });
    });
}

/**
 * The callback of the failure notice: when the engine reports a failed create, update or
 * delete (pulumi/pulumi@v3.248.0 pkg/resource/deploy/step.go runs a resource's error hooks
 * on every failure, retries.go withRetries), post which step failed where, then let the
 * failure stand (no retry).
 */
export function failureCallback(stack: string, hosts: readonly string[], webhook: () => string | undefined, env?: NodeJS.ProcessEnv): pulumi.ErrorHookFunction {
    return async (args) => {
        const url = webhook();
        if (url !== undefined) await postNotice(failureNotice(stack, hosts, args.name, args.failedOperation, args.errors[0]), url, env);
        return false;
    };
}

/**
 * The error hook every step of the stack gets (see Portal), or undefined without a
 * webhook or without engine support. The webhook's value is read by the program (it holds
 * the secret anyway) and handed to the script in its environment, never on a command line.
 */
export function failureNoticeHook(stack: string, hosts: readonly string[], webhook: pulumi.Output<string> | undefined): pulumi.ErrorHook | undefined {
    if (webhook === undefined || !errorHooksAvailable()) return undefined;
    let url: string | undefined;
    webhook.apply((value) => {
        url = value;
    });
    return new pulumi.ErrorHook("portal-failure-notice", failureCallback(stack, hosts, () => url));
}

/** Adds `hook` to the error hooks of every custom resource below a component, except the notices themselves. */
export function withErrorHook(hook: pulumi.ErrorHook): pulumi.ResourceTransformation {
    return (args) => {
        if (!(args.resource instanceof pulumi.CustomResource) || args.name.includes("notify")) return undefined;
        const hooks = args.opts.hooks ?? {};
        return { props: args.props, opts: { ...args.opts, hooks: { ...hooks, onError: [...(hooks.onError ?? []), hook] } } };
    };
}
