// Slack notifications: one per stage and track (prepared; live), each waiting for that
// stage's step on every server. They run on the operator's machine, like the Fabric script
// did; the webhook is a secret passed in the environment, never on the command line. A
// notice runs again whenever its message changes. The local command inherits the
// environment of `pulumi up` (pulumi/pulumi-command@v1.2.1 provider/pkg/provider/local/
// commandOutputs.go: cmd.Env = os.Environ() plus `environment`), so notify-slack.sh reads
// the operator's name (PORTAL_OPERATOR, else USER) when it runs: a different operator does
// not change the command, so it does not re-send a notice.

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
