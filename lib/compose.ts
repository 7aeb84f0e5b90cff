// Renders the date-stamped docker-compose file written on each server at prepare.
// It describes both colors with their current tags, the migrator and the workers, so
// `docker compose ps/logs` work on the server. Its content depends only on the tags and
// static config (never on the live color): workers and the migrator take the live tag
// from the .env file that the deploy step writes (PORTAL_LIVE_TAG).

import { stringify } from "yaml";
import type { PortalConfig, ServerConfig } from "./config";
import { colorRepository, imageRef } from "./rollout";
import { composeProject, tracksOf, type Track } from "./tracks";

/** The main track's compose project; another track's is portal-<track>. */
export const COMPOSE_PROJECT = "portal";

export function containerName(service: string, project = COMPOSE_PROJECT): string {
    return `${project}-${service}`;
}

/** Labels that make a Pulumi-created container part of the compose project on the server. */
export function composeLabels(service: string, project = COMPOSE_PROJECT): Record<string, string> {
    return {
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.container-number": "1",
    };
}

/** The track's compose file on a server (workers belong to the main track only). */
export function renderCompose(config: PortalConfig, server: ServerConfig, track: Track = tracksOf(config)[0]): string {
    const project = composeProject(track);
    const liveTagImage = imageRef(track.image, "${PORTAL_LIVE_TAG:?run a deploy first}");
    const services: Record<string, unknown> = {};
    for (const color of track.colors) {
        const tag = track.release.tags[color];
        if (tag === undefined) continue;
        services[color] = {
            image: imageRef(colorRepository(track, color), tag),
            container_name: containerName(color, project),
            restart: "unless-stopped",
            ports: [`${track.hostPorts[color]}:${config.app.port}`],
            environment: config.app.env,
        };
    }
    if (server.primary && config.app.migrate.length > 0) {
        services.migrate = {
            image: liveTagImage,
            profiles: ["migrate"],
            command: config.app.migrate,
            environment: config.app.env,
        };
    }
    for (const role of track.main ? server.workers : []) {
        services[role] = {
            image: liveTagImage,
            container_name: containerName(role),
            restart: "unless-stopped",
            command: config.workers[role].command,
            environment: config.app.env,
        };
    }
    const header =
        "# Written by Pulumi (project portal). Pulumi owns these containers: use this file for\n" +
        "# `docker compose ps` and `docker compose logs`; change the stack config, not this file.\n";
    return header + stringify({ name: project, services }, { aliasDuplicateObjects: false });
}
