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
                // Keyed on what it migrates: the command line names the image (repository and
                // tag) and the migrate argv, so only a new image of this color runs it again.
                create: cmd.runMigrations(primary.home, containerName(`migrate-${run.color}`), run.image, run.args),
                // The env is not a trigger: an env or secret change is stored by the no-op update
                // (components/target.ts), so the next migration of this color runs with it, and no
                // old migration runs again. (ignoreChanges would keep the first env forever: pulumi@v3.248.0
                // pkg/resource/deploy/step_generator.go applies processIgnoreChanges before the diff,
                // so even the replacement for a new tag was created with the old stdin.)
                stdin: args.envLines,
                // A mutable tag's command line stays the same when its image is pulled again.
                ...(run.pull === undefined ? {} : { triggers: [run.pull] }),
                rerunOnStdin: false,
                // The app's own output: shown only in the error when it fails.
                logging: "none",
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ stdout: this.done.stdout });
    }
}
