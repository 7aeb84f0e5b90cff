// Slack notifications (prepare step g, deploy step m). They run on the operator's machine,
// like the Fabric script did; the webhook is a secret passed in the environment, never
// on the command line. A notice runs again whenever its message changes.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";

export function slackNotice(
    name: string,
    message: string,
    webhook: pulumi.Output<string>,
    opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): command.local.Command {
    return new command.local.Command(
        name,
        {
            create: cmd.notifySlack(message).toString(),
            environment: { SLACK_WEBHOOK_URL: pulumi.secret(webhook) },
            addPreviousOutputInEnv: false,
        },
        opts,
    );
}
