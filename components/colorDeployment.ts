// One color's app container on one server and the wait until it answers 200 on its health
// path. The live color's container is protected: a config
// change that would replace it is refused by Pulumi at preview.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import { colorContainer, dockerLabels } from "../lib/model/containers";
import type { ColorRun } from "../lib/model/rollout";
import type { Track } from "../lib/model/tracks";
import { CONTAINER_OPTIONS, containerPolicy } from "./containerPolicy";
import type { Server } from "./server";
import type { CommandStep } from "./target";

export interface ColorDeploymentArgs {
    server: Server;
    track: Track;
    run: ColorRun;
    /** Steps that must succeed first: the primary server's migration for this color. */
    gate: pulumi.Resource[];
    /** The app's env (secret when app secrets are set). */
    envs: pulumi.Input<string[]>;
}

export class ColorDeployment extends pulumi.ComponentResource {
    readonly container: docker.Container;
    readonly healthy: CommandStep;

    constructor(name: string, args: ColorDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:ColorDeployment", name, {}, opts);
        const { server, run } = args;
        const { app } = server.config;
        const image = server.images[run.color]!;
        // One spec for this container, the compose file's service and the live guard's fingerprint.
        const spec = colorContainer(server.config, args.track, run);

        this.container = new docker.Container(
            `${name}-container`,
            {
                name: spec.name,
                image: image.imageId,
                restart: spec.restart,
                ports: spec.ports,
                envs: args.envs,
                labels: dockerLabels(spec),
                ...containerPolicy(app.stopGraceSeconds),
            },
            { ...CONTAINER_OPTIONS, parent: this, provider: server.dockerProvider, dependsOn: args.gate, protect: run.protect },
        );

        const url = `http://127.0.0.1:${run.hostPort}${app.healthPath}`;
        this.healthy = server.step(
            `${run.color}-healthy`,
            { create: cmd.waitHealthy(server.home, url, app.healthTimeoutSeconds), triggers: [this.container.id] },
            { parent: this, dependsOn: [this.container] },
        );
        this.registerOutputs({ container: this.container.name, healthy: this.healthy.stdout });
    }
}
