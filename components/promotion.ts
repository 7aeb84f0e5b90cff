// The deploy stage on one server, in order: re-check the live color is healthy, else
// fail with live untouched; point the compose symlink at the prepared release;
// switch the live upstream (with the canary split, if any); record the live color.
// Every step is keyed on the live color and tag, so prepare leaves all of them unchanged.

import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import { routeMode } from "../lib/nginx/routeModes";
import { withSalt, type LiveRoute } from "../lib/model/rollout";
import { trackScoped, type Track } from "../lib/model/tracks";
import type { Color } from "../lib/config/config";
import { publishRoute } from "./routing";
import type { Server } from "./server";
import type { CommandStep } from "./target";

export interface PromotionArgs {
    server: Server;
    track: Track;
    route: LiveRoute;
    /** Sticky canaries: the release's salt, rendered into the live route. */
    salt?: pulumi.Output<string>;
    /** The live color's own health wait, and the canary color's when a canary is routed. */
    healthy: pulumi.Resource[];
    /** The upstreams file and the compose file of this release. */
    after: pulumi.Resource[];
    /** Seconds the re-check may take: the container already passed its health wait. */
    recheckSeconds: number;
}

export class Promotion extends pulumi.ComponentResource {
    readonly recorded: CommandStep;

    constructor(name: string, args: PromotionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Promotion", name, {}, opts);
        const { server, route, track } = args;
        const { config } = server;
        const color: Color = route.color;
        const liveTag = track.release.tags[color];
        const keyedOnLive = [color, liveTag];
        const scoped = (suffix: string) => trackScoped(track, suffix);

        const url = `http://127.0.0.1:${track.hostPorts[color]}${config.app.healthPath}`;
        const recheck = server.step(scoped("live-healthy"), { create: cmd.waitHealthy(server.home, url, args.recheckSeconds), triggers: keyedOnLive }, {
            parent: this,
            dependsOn: args.healthy,
        });
        const symlink = server.step(scoped("compose-symlink"), { create: cmd.promoteCompose(server.home, track.dir), triggers: keyedOnLive }, {
            parent: this,
            dependsOn: [recheck, ...args.after],
        });
        const mode = routeMode(config.nginx.mode);
        const rendered = mode.live(route, track);
        const salted = args.salt !== undefined && route.canary?.mode === "sticky";
        const content = salted ? args.salt!.apply((salt) => mode.live(withSalt(route, salt), track).content) : rendered.content;
        const live = publishRoute(server, scoped("route-live"), { file: rendered.file, content }, {
            parent: this,
            dependsOn: [recheck, symlink, ...args.after, ...args.healthy],
        });
        this.recorded = server.step(scoped("record-live"), { create: cmd.recordLive(server.home, track.dir, color, liveTag) }, { parent: this, dependsOn: [live] });
        this.registerOutputs({ recorded: this.recorded.stdout });
    }
}
