// The app's long-running containers, described once: a color's and a worker's. The
// plan declares each as a docker.Container from this spec (lib/plan/rollout.ts), the release
// compose file renders the same spec as a service (lib/server/compose.ts), and the live guard fingerprints it (lib/model/liveGuard.ts), so the three
// cannot disagree on name, image, restart, network, ports, labels or command.

import type { PortalConfig } from "../config/config";
import { colorRepository, imageRef, type ColorRun } from "./rollout";
import { namesOf, type Track } from "./tracks";
import { PROJECT } from "./project";

/** The main track's compose project; another track's is portal-<track>. */
export const COMPOSE_PROJECT = PROJECT;

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

/** A color's env file on the server (KEY=VALUE, written by write-env.sh, 0600): the compose file's env_file. */
export function envFile(dir: string, color: string): string {
    return `${dir}/${color}.env`;
}

export interface ContainerSpec {
    /** The compose service (the color or the worker role). */
    service: string;
    project: string;
    name: string;
    /** repository:tag (the docker provider pulls it as a RemoteImage and runs its id). */
    image: string;
    restart: "unless-stopped";
    /** Published ports; none for a worker. */
    ports: { internal: number; external: number; ip: string }[];
    /** The program's own labels; the container also carries composeLabels(service, project). */
    labels: Record<string, string>;
    /** Argv, when not the image's default command. */
    command?: string[];
}

/** A color's app container on a server of the track. */
export function colorContainer(config: PortalConfig, track: Track, run: Pick<ColorRun, "color" | "tag" | "image" | "hostPort">): ContainerSpec {
    const project = namesOf(track).composeProject;
    return {
        service: run.color,
        project,
        name: containerName(run.color, project),
        image: run.image,
        restart: "unless-stopped",
        ports: [{ internal: config.app.port, external: run.hostPort, ip: config.app.bindAddress }],
        labels: { "portal.color": run.color, "portal.tag": run.tag },
    };
}

/** A worker role's container on a server, on `tag` of the live color's repository. */
export function workerContainer(config: PortalConfig, track: Track, role: string, tag: string): ContainerSpec {
    return {
        service: role,
        project: namesOf(track).composeProject,
        name: containerName(role),
        image: imageRef(colorRepository(track, track.release.live), tag),
        restart: "unless-stopped",
        ports: [],
        labels: { "portal.tag": tag },
        command: config.workers[role].command,
    };
}

/** Every label the container carries, as docker.Container takes them: compose's (so `docker-compose ps` sees it), then the program's. */
export function dockerLabels(spec: ContainerSpec): { label: string; value: string }[] {
    return Object.entries({ ...composeLabels(spec.service, spec.project), ...spec.labels }).map(([label, value]) => ({ label, value }));
}

/** The spec as a compose service, its env from `envFileOnServer` (compose adds its own project labels). */
export function composeService(spec: ContainerSpec, envFileOnServer: string): Record<string, unknown> {
    return {
        image: spec.image,
        container_name: spec.name,
        restart: spec.restart,
        network_mode: "bridge",
        ...(spec.ports.length > 0 ? { ports: spec.ports.map((p) => `${p.ip}:${p.external}:${p.internal}`) } : {}),
        ...(spec.command ? { command: spec.command } : {}),
        env_file: [envFileOnServer],
        labels: spec.labels,
    };
}
