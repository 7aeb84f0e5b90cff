// At deploy, the server's workers (djobs, cron, ...) run the live tag. They are
// recreated after the live switch is recorded, so they never run a tag before it is live.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dockerLabels, workerContainer } from "../lib/model/containers";
import type { WorkerRun } from "../lib/model/rollout";
import type { Track } from "../lib/model/tracks";
import { CONTAINER_OPTIONS, containerPolicy } from "./containerPolicy";
import type { Server } from "./server";

export interface WorkersArgs {
    server: Server;
    /** The main track (the workers run its live color's image). */
    track: Track;
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
        this.containers = args.runs.map((run) => {
            // The same spec renders the compose file's service (lib/server/compose.ts).
            const spec = workerContainer(server.config, args.track, run.role, run.tag);
            return new docker.Container(
                `${server.name}-${run.role}`,
                {
                    name: spec.name,
                    image: args.image.imageId,
                    command: spec.command,
                    restart: spec.restart,
                    envs: args.envs,
                    labels: dockerLabels(spec),
                    ...containerPolicy(run.stopGraceSeconds),
                },
                { ...CONTAINER_OPTIONS, parent: this, provider: server.dockerProvider, dependsOn: args.after },
                );
        });
        this.registerOutputs({ workers: this.containers.map((c) => c.name) });
    }
}
