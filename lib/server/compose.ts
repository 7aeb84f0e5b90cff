// Renders the date-stamped docker-compose file written on each server at prepare.
// It describes both colors with their current tags, the migrator and the workers, so
// `docker compose ps/logs` work on the server. Its content depends only on the tags and
// static config (never on the live color): workers and the migrator take the live tag
// from the .env file that the deploy step writes (PORTAL_LIVE_TAG).

import { stringify } from "yaml";
import type { PortalConfig, ServerConfig } from "../config/config";
import { colorContainer, composeService, envFile, workerContainer } from "../model/containers";
import { colorRepository, colorRuns, imageRef } from "../model/rollout";
import { namesOf, tracksOf, type Track } from "../model/tracks";

/**
 * The track's compose file on a server (workers belong to the main track only). Each
 * service is what the program starts: same image, container name, restart policy, network
 * (the default bridge), published address and port, labels (compose adds its own project
 * and service labels) and env (from the color's env file on the server, which holds the
 * secrets: none is written here). Valid for Debian 12's docker-compose 1.29.2 and compose v2:
 * no top-level `name:` (1.29.2 refuses it); the project name is the directory's name
 * (/srv/portal -> portal), or COMPOSE_PROJECT_NAME.
 */
export function renderCompose(config: PortalConfig, server: ServerConfig, track: Track = tracksOf(config)[0]): string {
    const liveTag = "${PORTAL_LIVE_TAG:?run a deploy first}";
    const liveEnv = envFile(track.dir, "${PORTAL_LIVE_COLOR:?run a deploy first}");
    const services: Record<string, unknown> = {};
    for (const run of colorRuns(config, track)) {
        services[run.color] = composeService(colorContainer(config, track, run), envFile(track.dir, run.color));
    }
    // One migrator per color, naming the image it migrates for (as the program runs it).
    for (const color of server.primary && config.app.migrate.length > 0 ? track.colors : []) {
        const tag = track.release.tags[color];
        if (tag === undefined) continue;
        services[`migrate-${color}`] = {
            image: imageRef(colorRepository(track, color), tag),
            profiles: ["migrate"],
            network_mode: "bridge",
            command: config.app.migrate,
            env_file: [envFile(track.dir, color)],
        };
    }
    for (const role of track.main ? server.workers : []) {
        services[role] = composeService(workerContainer(config, track, role, liveTag), liveEnv);
    }
    const header =
        "# Written by Pulumi (project portal). Pulumi owns these containers: use this file for\n" +
        `# \`docker-compose ps\` and \`docker-compose logs\` (project ${namesOf(track).composeProject}: the directory's name), or in an\n` +
        "# emergency `docker-compose up -d <color>`; change the stack config, not this file.\n";
    return header + stringify({ services }, { aliasDuplicateObjects: false });
}
