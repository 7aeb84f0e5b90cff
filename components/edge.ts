// One edge host (load balancer): nginx spreading traffic over the servers and splitting
// it between tracks. Its static files are the per-track upstreams, the router (state mode)
// and the listeners; the split is its only route file, so changing the split is a diff of
// `<host>-edge-route` alone.

import * as pulumi from "@pulumi/pulumi";
import type { EdgeConfig, PortalConfig } from "../lib/config/config";
import { EDGE, EDGE_SCOPE, edgeRoute, renderEdgeSite, renderEdgeUpstreams } from "../lib/nginx/edgeRoutes";
import { routeMode, type RouteFile } from "../lib/nginx/routeModes";
import type { Track } from "../lib/model/tracks";
import { Host } from "./host";
import { publishRoute, publishStaticFiles } from "./routing";

export interface EdgeArgs {
    config: PortalConfig;
    edge: EdgeConfig;
    host: { name: string; host: string; hostKey?: string };
    tracks: Track[];
    sshPrivateKey?: pulumi.Output<string>;
}

export class Edge extends Host {
    private readonly args: EdgeArgs;
    /** The split route step (set by `route`): done once the edge routes as configured. */
    split!: pulumi.Resource;

    /** Declares the edge host and its preflight only; `route` declares the rest. */
    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "portal:index:Edge",
            name,
            { config: args.config, host: args.host.host, dir: args.edge.dir, sshPrivateKey: args.sshPrivateKey, hostKey: args.host.hostKey, docker: false },
            opts,
        );
        this.args = args;
    }

    /** The edge's files and split, after `gate` (every host's preflight) and, per track, `after`. */
    route(gate: pulumi.Resource[], after: Record<string, pulumi.Resource[]>): void {
        this.begin(gate);
        const { config, edge } = this.args;
        const mode = routeMode(config.nginx.mode);
        const ready: pulumi.Resource[] = [];
        if (mode.initRoutes) {
            ready.push(this.step(`${EDGE}-routes-init`, { create: mode.initRoutes(this.home, config.nginx.confDir, EDGE) }, { parent: this }));
        }
        const files: RouteFile[] = [
            { file: `${EDGE}-upstreams.conf`, content: renderEdgeUpstreams(config, this.args.tracks) },
            ...(mode.router ? [mode.router(config, this.home)] : []),
            { file: `${EDGE}-site.conf`, content: renderEdgeSite(edge, mode) },
        ];
        const staticFiles = publishStaticFiles(this, files, { parent: this, dependsOn: ready });

        const route = edgeRoute(config, edge);
        const routed = [route.color, ...(route.canary ? [route.canary.color] : [])];
        const split = (this.split = publishRoute(this, `${EDGE}-route`, mode.live(route, EDGE_SCOPE), {
            parent: this,
            dependsOn: [staticFiles, ...routed.flatMap((track) => after[track] ?? [])],
        }));
        this.registerOutputs({ split: split.stdout });
    }
}
