// The nginx side of a server: the static files (upstreams, router or site) and the
// passive upstream switch. Static files go through switch-route.sh
// (temp file, rename, nginx -t, reload; the previous file restored on failure); route
// files through the mode's publish command. On the `local` target nginx runs as a container.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerName } from "../lib/model/containers";
import { publishStaticFile, routeMode, type RouteFile } from "../lib/nginx/routeModes";
import type { PassiveRoute } from "../lib/model/rollout";
import { trackScoped, type Track } from "../lib/model/tracks";
import type { Host } from "./host";
import { CONTAINER_OPTIONS, containerPolicy } from "./containerPolicy";
import type { Server } from "./server";
import type { CommandStep } from "./target";

/** Grace period of the `local` target's nginx container. */
const LOCAL_NGINX_GRACE_SECONDS = 10;

/** A step that publishes one live or passive route file on a host. */
export function publishRoute(host: Host, suffix: string, route: { file: string; content: pulumi.Input<string> }, opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] }): CommandStep {
    const create = routeMode(host.config.nginx.mode).publishRoute(host.config, host.home, route.file);
    return host.step(suffix, { create, stdin: route.content }, opts);
}

/** Publishes static nginx files one after the other (each is tested with the previous in place); returns the last. */
export function publishStaticFiles(host: Host, files: RouteFile[], opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] }): CommandStep {
    let ready = opts.dependsOn;
    for (const { file, content } of files) {
        const suffix = file.replace(/\.conf$/, "");
        ready = [host.step(suffix, { create: publishStaticFile(host.config, host.home, file), stdin: content }, { parent: opts.parent, dependsOn: ready })];
    }
    return ready[0] as CommandStep;
}

export interface RoutingArgs {
    server: Server;
    track: Track;
    /** Another track's files wait for the main track's (router.conf defines the variables its listeners use). */
    after?: pulumi.Resource[];
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
        const { server, track } = args;
        const { config } = server;
        const mode = routeMode(config.nginx.mode);
        const ready: pulumi.Resource[] = [...(args.after ?? [])];
        if (mode.initRoutes) {
            const init = mode.initRoutes(server.home, config.nginx.confDir, track.main ? undefined : track.name);
            ready.push(server.step(trackScoped(track, "routes-init"), { create: init }, { parent: this, dependsOn: [...ready] }));
        }
        if (config.target === "local" && track.main) {
            ready.push(this.localNginx(server, ready));
        }
        this.staticFiles = publishStaticFiles(server, mode.staticFiles(config, track), { parent: this, dependsOn: ready });
        this.passive = publishRoute(server, trackScoped(track, "route-passive"), mode.passive(args.passive, track), {
            parent: this,
            dependsOn: [this.staticFiles, args.passiveHealthy],
        });
        this.registerOutputs({ passive: this.passive.stdout });
    }

    /**
     * nginx in a container on the host network, reading the generated files from confDir. It
     * shares the host's pid namespace and writes its pid file and error log into host
     * directories, so switch-route.sh can watch its master and workers as on a server.
     */
    private localNginx(server: Server, after: pulumi.Resource[]): docker.Container {
        const { nginx } = server.config;
        const hostDir = (file: string) => file.slice(0, file.lastIndexOf("/"));
        const image = new docker.RemoteImage(`${server.name}-nginx-image`, { name: nginx.image, keepLocally: true }, { parent: this, provider: server.dockerProvider });
        return new docker.Container(
            `${server.name}-nginx`,
            {
                name: containerName("nginx"),
                image: image.imageId,
                networkMode: "host",
                pidMode: "host",
                restart: "unless-stopped",
                volumes: [
                    { hostPath: nginx.confDir, containerPath: "/etc/nginx/conf.d", readOnly: true },
                    // The image's nginx.conf: `pid /var/run/nginx.pid;`, `error_log /var/log/nginx/error.log`.
                    { hostPath: hostDir(nginx.pidFile), containerPath: "/var/run" },
                    { hostPath: hostDir(nginx.errorLog), containerPath: "/var/log/nginx" },
                ],
                // nginx finishes its open requests on SIGQUIT within a few seconds.
                ...containerPolicy(LOCAL_NGINX_GRACE_SECONDS),
            },
            { ...CONTAINER_OPTIONS, parent: this, provider: server.dockerProvider, dependsOn: after },
        );
    }
}
