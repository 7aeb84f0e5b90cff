// Wires one server's release, in the order of the rollout:
//   prepare: (b) compose file, (d) containers, (e) health waits, (f) passive switch, (g) notice
//   deploy:  (h) live re-check, (i) compose symlink, (j) live switch, (k) live-color file,
//            (l) workers, (m) notice
// Image pulls (a) belong to the Server, migrations (c) to the Portal: they span servers.

import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/commands";
import type { Color } from "../lib/config";
import { renderCompose } from "../lib/compose";
import { colorRuns, liveNotice, liveRoute, passiveNotice, passiveRoute, workerRuns } from "../lib/rollout";
import { ColorDeployment } from "./colorDeployment";
import { slackNotice } from "./notice";
import { Promotion } from "./promotion";
import { Routing } from "./routing";
import type { Server } from "./server";
import { Workers } from "./workers";

export interface ServerReleaseArgs {
    /** The release's date stamp (stdout of the stamp step). */
    stamp: pulumi.Output<string>;
    /** Per color: the migration every server's container of that color waits for. */
    migrations: Partial<Record<Color, pulumi.Resource>>;
    slackWebhook?: pulumi.Output<string>;
    /** The app's env as container env strings (secret when app secrets are set). */
    envs: pulumi.Input<string[]>;
}

export interface ServerOutputs {
    live: Color;
    passive: Color;
    liveTag: string;
    passiveTag: string;
    liveColorFile: string;
}

/** Seconds the deploy-time re-check of the live color may take. */
const RECHECK_SECONDS = 30;

/** Declares the release on `server` (parented to it) and returns the server's outputs. */
export function deployRelease(server: Server, args: ServerReleaseArgs): ServerOutputs {
    const { config } = server;
    const { release } = config;
    const name = server.name;

    const compose = server.step(
        "compose",
        { create: args.stamp.apply((stamp) => cmd.writeCompose(config.dir, stamp.trim())), stdin: renderCompose(config, server.server) },
        { parent: server },
    );

    const colors: Partial<Record<Color, ColorDeployment>> = {};
    for (const run of colorRuns(config)) {
        const migration = args.migrations[run.color];
        colors[run.color] = new ColorDeployment(
            `${name}-${run.color}`,
            { server, run, gate: migration ? [migration] : [], envs: args.envs },
            { parent: server },
        );
    }

    const passive = passiveRoute(config);
    const routing = new Routing(`${name}-routing`, { server, passive, passiveHealthy: colors[passive.color]!.healthy }, { parent: server });

    const live = liveRoute(config);
    const healthy = [colors[live.color]!.healthy];
    if (live.canary) {
        healthy.push(colors[live.canary.color]!.healthy, routing.passive);
    }
    const promotion = new Promotion(
        `${name}-promotion`,
        { server, route: live, liveTag: release.tags[live.color]!, healthy, after: [routing.staticFiles, compose], recheckSeconds: RECHECK_SECONDS },
        { parent: server },
    );

    const workers = new Workers(
        `${name}-workers`,
        { server, runs: workerRuns(config, server.server), image: server.images[live.color]!, envs: args.envs, after: [promotion.recorded] },
        { parent: server },
    );

    if (args.slackWebhook) {
        slackNotice(`${name}-notify-passive`, passiveNotice(release, name), args.slackWebhook, { parent: server, dependsOn: [routing.passive] });
        slackNotice(`${name}-notify-live`, liveNotice(release, name), args.slackWebhook, {
            parent: server,
            dependsOn: [promotion.recorded, ...workers.containers],
        });
    }

    return {
        live: live.color,
        passive: passive.color,
        liveTag: release.tags[live.color]!,
        passiveTag: release.tags[passive.color]!,
        liveColorFile: cmd.liveColorFile(config.dir),
    };
}
