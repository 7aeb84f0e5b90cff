// Wires one server's release, in the order of the rollout:
//   prepare: compose file, env files, containers, health waits, passive switch
//   deploy:  live re-check, compose symlink, live switch, live-color file, workers, prune
// Image pulls belong to the Server, migrations and the stage notices to the Portal: they span servers.

import * as pulumi from "@pulumi/pulumi";
import * as cmd from "../lib/server/commands";
import type { Color } from "../lib/config/config";
import { renderCompose } from "../lib/server/compose";
import { envFile } from "../lib/model/containers";
import { colorRepository, colorRuns, liveRoute, passiveRoute, workerRuns } from "../lib/model/rollout";
import { trackScoped, type Track } from "../lib/model/tracks";
import type { AppEnv } from "./appEnv";
import { ColorDeployment } from "./colorDeployment";
import { Promotion } from "./promotion";
import { Routing } from "./routing";
import type { Server } from "./server";
import { Workers } from "./workers";

export interface ServerReleaseArgs {
    /** Another track: the main track's static nginx files on this server, which its own wait for. */
    mainStaticFiles?: pulumi.Resource;
    /** Sticky canaries: the track's per-release salt (hex), hashed before each client key. */
    canarySalt?: pulumi.Output<string>;
    /** The track's release date stamp (stdout of its stamp step). */
    stamp: pulumi.Output<string>;
    /** Per color of the track: the migration every server's container of that color waits for. */
    migrations: Partial<Record<Color, pulumi.Resource>>;
    /** Each color's env: container env strings and the env file's lines (secret when it has secrets). */
    env: (color: Color) => AppEnv;
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

export interface DeployedTrack {
    outputs: ServerOutputs;
    /** The recorded live switch: the edge waits for it before routing to the track. */
    liveRecorded: pulumi.Resource;
    /** The passive switch: the stage's prepared notice waits for every server's. */
    passiveSwitched: pulumi.Resource;
    /** The last steps of a live change (recorded live switch, workers): the live notice waits for every server's. */
    liveDone: pulumi.Resource[];
    /** The last static nginx file of the track on this server. */
    staticFiles: pulumi.Resource;
}

/** Declares one track's release on `server` (parented to it). */
export function deployTrack(server: Server, track: Track, args: ServerReleaseArgs): DeployedTrack {
    const { config } = server;
    const { release } = track;
    const name = server.name;
    const scoped = (suffix: string) => trackScoped(track, suffix);
    const after: pulumi.Resource[] = [];
    if (!track.main) {
        // The main track's directory is made with the scripts; another track's here.
        after.push(server.step(scoped("setup"), { create: cmd.prepareHost(track.dir, config.nginx.confDir) }, { parent: server }));
    }

    const compose = server.step(
        scoped("compose"),
        { create: args.stamp.apply((stamp) => cmd.writeCompose(server.home, track.dir, stamp.trim())), stdin: renderCompose(config, server.server, track) },
        { parent: server, dependsOn: after },
    );

    const colors: Partial<Record<Color, ColorDeployment>> = {};
    for (const run of colorRuns(config, track)) {
        // The env the color runs with, for `docker-compose up` by hand (secrets stay on the server, 0600).
        server.step(`${run.color}-env`, { create: cmd.writeEnv(server.home, envFile(track.dir, run.color)), stdin: args.env(run.color).envFile }, { parent: server, dependsOn: after });
        const migration = args.migrations[run.color];
        colors[run.color] = new ColorDeployment(
            `${name}-${run.color}`,
            { server, track, run, gate: migration ? [migration] : [], envs: args.env(run.color).envs },
            { parent: server },
        );
    }

    const passive = passiveRoute(config, track);
    const routing = new Routing(
        `${name}-${scoped("routing")}`,
        { server, track, passive, passiveHealthy: colors[passive.color]!.healthy, after: args.mainStaticFiles ? [args.mainStaticFiles] : [] },
        { parent: server },
    );

    const live = liveRoute(config, track);
    const healthy = [colors[live.color]!.healthy];
    if (live.canary) {
        healthy.push(colors[live.canary.color]!.healthy, routing.passive);
    }
    const promotion = new Promotion(
        `${name}-${scoped("promotion")}`,
        { server, track, route: live, salt: args.canarySalt, healthy, after: [routing.staticFiles, compose], recheckSeconds: RECHECK_SECONDS },
        { parent: server },
    );

    const workers = track.main
        ? new Workers(
              `${name}-workers`,
              { server, track, runs: workerRuns(config, server.server), image: server.images[live.color]!, envs: args.env(live.color).envs, after: [promotion.recorded] },
              { parent: server },
          ).containers
        : [];

    // After the deploy (live recorded, workers on the new tag): old release files and images go.
    // Keyed on the live color and tag, like the deploy steps, so it runs once per deploy or rollback.
    // The repositories (every color's, and the track's image) are stdin, not a trigger: a
    // new one is stored by the no-op update and used at the next deploy, never run at prepare
    // (the new image is pulled before its compose file names it).
    const repositories = [...new Set([track.image, ...track.colors.map((c) => colorRepository(track, c))])];
    server.step(
        scoped("prune"),
        {
            create: cmd.prune(server.home, track.dir, config.prune.keep),
            stdin: cmd.pruneRepositories(repositories),
            rerunOnStdin: false,
            triggers: [live.color, release.tags[live.color]],
        },
        { parent: server, dependsOn: [promotion.recorded, ...workers] },
    );

    const outputs = {
        live: live.color,
        passive: passive.color,
        liveTag: release.tags[live.color],
        passiveTag: release.tags[passive.color],
        liveColorFile: cmd.liveColorFile(track.dir),
    };
    return { outputs, liveRecorded: promotion.recorded, staticFiles: routing.staticFiles, passiveSwitched: routing.passive, liveDone: [promotion.recorded, ...workers] };
}
