// Slack notifications (prepare step g, deploy step m). They run on the operator's machine,
// like the Fabric script did; the webhook is a secret passed in the environment, never
// on the command line. A notice runs again whenever its message changes, and only then.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
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
