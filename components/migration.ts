// Prepare step c: on the primary server, run the migrations of a color's new tag in a
// one-off container. It runs again only when that color's tag changes (never on deploy
// or rollback), after every server has pulled the image; a non-zero exit fails it, and
// no server's container of that color starts (they all depend on it).

import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
import { containerName } from "../lib/compose";
import type { MigrationRun } from "../lib/rollout";
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
                create: cmd.runMigrations(primary.home, containerName(`migrate-${run.color}`), run.image, run.args),
                stdin: args.envLines,
                // A mutable tag's command line stays the same when its image is pulled again.
                ...(run.pull === undefined ? {} : { triggers: [run.pull] }),
            },
            // Env or secret changes do not re-run old migrations: only a new tag (new command line) does.
            { parent: this, dependsOn: args.after, ignoreChanges: ["stdin"] },
        );
        this.registerOutputs({ stdout: this.done.stdout });
    }
}
