// The nginx side of a server: the static files (upstreams, router or site) and the
// passive upstream switch (prepare step f). Static files go through switch-route.sh
// (temp file, rename, nginx -t, reload; the previous file restored on failure); route
// files through the mode's publish command. On the `local` target nginx runs as a container.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
import { containerName } from "../lib/compose";
import { publishStaticFile, routeMode, type RouteFile } from "../lib/routeModes";
import type { PassiveRoute } from "../lib/rollout";
import type { Server } from "./server";
import type { CommandStep } from "./target";

/** A step that publishes one live or passive route file on a server. */
export function publishRoute(server: Server, suffix: string, route: RouteFile, opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] }): CommandStep {
    const create = routeMode(server.config.nginx.mode).publishRoute(server.config, route.file);
    return server.step(suffix, { create, stdin: route.content }, opts);
}

export interface RoutingArgs {
    server: Server;
    passive: PassiveRoute;
    /** The passive color's health wait: the passive upstream moves only to a healthy container. */
    passiveHealthy: pulumi.Resource;
}

export class Routing extends pulumi.ComponentResource {
    /** The last static file written: the live switch waits for it too. */
    readonly staticFiles: CommandStep;
    readonly passive: CommandStep;

    constructor(name: string, args: RoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Routing", name, {}, opts);
        const { server } = args;
        const { config } = server;
        const mode = routeMode(config.nginx.mode);
        let ready: pulumi.Resource[] = [];
        if (config.nginx.mode === "reload") {
            ready.push(server.step("routes-init", { create: cmd.initRoutes(config.dir, config.nginx.confDir) }, { parent: this }));
        }
        if (config.target === "local") {
            ready.push(this.localNginx(server, ready));
        }
        // One after the other: each is tested by nginx with the previous ones in place.
        for (const { file, content } of mode.staticFiles(config)) {
            const suffix = file.replace(/\.conf$/, "");
            ready = [server.step(suffix, { create: publishStaticFile(config, file), stdin: content }, { parent: this, dependsOn: ready })];
        }
        this.staticFiles = ready[0] as CommandStep;
        this.passive = publishRoute(server, "route-passive", mode.passive(args.passive), {
            parent: this,
            dependsOn: [this.staticFiles, args.passiveHealthy],
        });
        this.registerOutputs({ passive: this.passive.stdout });
    }

    /** nginx in a container on the host network, reading the generated files from confDir. */
    private localNginx(server: Server, after: pulumi.Resource[]): docker.Container {
        const { nginx } = server.config;
        const image = new docker.RemoteImage(`${server.name}-nginx-image`, { name: nginx.image, keepLocally: true }, { parent: this, provider: server.dockerProvider });
        return new docker.Container(
            `${server.name}-nginx`,
            {
                name: containerName("nginx"),
                image: image.imageId,
                networkMode: "host",
                restart: "unless-stopped",
                volumes: [{ hostPath: nginx.confDir, containerPath: "/etc/nginx/conf.d", readOnly: true }],
            },
            { parent: this, provider: server.dockerProvider, dependsOn: after },
        );
    }
}
