// At deploy, the server's workers (djobs, cron, ...) run the live tag. They are
// recreated after the live switch is recorded, so they never run a tag before it is live.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { composeLabels, containerName } from "../lib/compose";
import type { WorkerRun } from "../lib/rollout";
import { CONTAINER_OPTIONS, containerPolicy } from "./containerPolicy";
import type { Server } from "./server";

export interface WorkersArgs {
    server: Server;
    runs: WorkerRun[];
    /** The pulled image of the live color. */
    image: docker.RemoteImage;
    envs: pulumi.Input<string[]>;
    /** The recorded live switch. */
    after: pulumi.Resource[];
}

export class Workers extends pulumi.ComponentResource {
    readonly containers: docker.Container[];

    constructor(name: string, args: WorkersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Workers", name, {}, opts);
        const { server } = args;
        this.containers = args.runs.map(
            (run) =>
                new docker.Container(
                    `${server.name}-${run.role}`,
                    {
                        name: containerName(run.role),
                        image: args.image.imageId,
                        command: run.command,
                        restart: "unless-stopped",
                        envs: args.envs,
                        labels: Object.entries({ ...composeLabels(run.role), "portal.tag": run.tag }).map(([label, value]) => ({ label, value })),
                        ...containerPolicy(run.stopGraceSeconds),
                    },
                    { ...CONTAINER_OPTIONS, parent: this, provider: server.dockerProvider, dependsOn: args.after },
                ),
        );
        this.registerOutputs({ workers: this.containers.map((c) => c.name) });
    }
}
