// On the primary server, at prepare: run the migrations of a color's new tag in a
// one-off container, with that color's env. It runs again only when that color's image or
// env changes (never on deploy or rollback), after every server has pulled the image; a
// non-zero exit fails it, and no server's container of that color starts (they all depend on it).

import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import { containerName } from "../lib/model/containers";
import type { MigrationRun } from "../lib/model/rollout";
import type { Server } from "./server";
import type { CommandStep } from "./target";

export interface MigrationArgs {
    primary: Server;
    run: MigrationRun;
    /** Resources that must exist first: every server's pull of this image, the live color's migration. */
    after: pulumi.Resource[];
    /** Env lines for the container (KEY=VALUE), secret when app secrets are set; sent on stdin. */
    envLines: pulumi.Input<string>;
}

export class Migration extends pulumi.ComponentResource {
    readonly done: CommandStep;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Migration", name, {}, opts);
        const { primary, run } = args;
        this.done = primary.step(
            `${run.color}-migrate`,
            {
                // Keyed on what it migrates: the command line names the image (repository and
                // tag) and the migrate argv, so only a new image of this color runs it again.
                create: cmd.runMigrations(primary.home, containerName(`migrate-${run.color}`), run.image, run.args),
                // The color's env on stdin, and (through its hash, secret like the env) a trigger:
                // a color's env or secrets change only when that color is prepared again (a
                // pinned color's own env; the live guard refuses any change of a serving
                // color's), so its migration runs again with them, e.g. for a new database URL.
                stdin: args.envLines,
                // A mutable tag's command line stays the same when its image is pulled again.
                ...(run.pull === undefined ? {} : { triggers: [run.pull] }),
                // The app's own output: shown only in the error when it fails.
                logging: "none",
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ stdout: this.done.stdout });
    }
}
