// Builders for every command the program runs on a server (or locally): each returns a
// ShellCommand, so tests compare argv lists and the program renders the same data to text.
// Secrets never go into a command: they travel on stdin or in the environment.

import type { Color, NginxControl } from "../config/config";
import type { RouteModeName } from "../nginx/routeModes";
import { ShellCommand } from "./shell";

/** Where the server-side scripts live on a target, e.g. /srv/portal/scripts. */
export function scriptsDir(dir: string): string {
    return `${dir}/scripts`;
}

function script(dir: string, name: string, args: readonly string[]): ShellCommand {
    return new ShellCommand(["bash", `${scriptsDir(dir)}/${name}`, ...args]);
}

export interface PreflightArgs {
    /** Directories the steps write (the server's dir and its tracks' dirs, or the edge dir). */
    dirs: readonly string[];
    confDir: string;
    nginxRoot: string;
    mode: RouteModeName;
    test: string;
    reload: string;
    minFreeMb: number;
    /** false on an edge host: no Docker there. */
    docker: boolean;
}

/**
 * The read-only checks of scripts/preflight.sh, run with the script on stdin (`bash -s`), so
 * nothing is uploaded or written before they pass.
 */
export function preflight(a: PreflightArgs): ShellCommand {
    return new ShellCommand([
        "bash", "-s", "--",
        ...a.dirs.flatMap((d) => ["--dir", d]),
        "--conf-dir", a.confDir,
        "--nginx-root", a.nginxRoot,
        "--mode", a.mode,
        "--test", a.test,
        "--reload", a.reload,
        "--min-free-mb", String(a.minFreeMb),
        ...(a.docker ? [] : ["--no-docker"]),
    ]);
}

/** Creates the server directory the scripts are copied into. */
export function prepareHost(dir: string, confDir: string): ShellCommand {
    return new ShellCommand(["mkdir", "-p", `${dir}/releases`, confDir]);
}

/**
 * Atomically replaces an nginx include (content on stdin), tests the config, reloads and waits
 * until the new workers serve; restores the file when the test fails or the master rejects it.
 */
export function switchRoute(dir: string, file: string, nginx: NginxControl): ShellCommand {
    return script(dir, "switch-route.sh", [file, nginx.test, nginx.reload, nginx.pidFile, nginx.errorLog, String(nginx.reloadTimeoutSeconds)]);
}

/** Polls url until it answers 200, failing after timeoutSeconds. */
export function waitHealthy(dir: string, url: string, timeoutSeconds: number): ShellCommand {
    return script(dir, "wait-healthy.sh", [url, String(timeoutSeconds)]);
}

/** Runs the migration command in a one-off container (env lines on stdin). */
export function runMigrations(dir: string, containerName: string, image: string, args: readonly string[]): ShellCommand {
    return script(dir, "run-migrations.sh", [containerName, image, ...args]);
}

// `home` is the directory holding scripts/; `dir` the track's own directory (the same for
// the main track).

/** Writes the release's date-stamped compose file (content on stdin) and marks it as prepared. */
export function writeCompose(home: string, dir: string, stamp: string): ShellCommand {
    return script(home, "write-compose.sh", [dir, stamp]);
}

/** Writes a color's env file for docker compose (KEY=VALUE lines, maybe secret, on stdin; mode 0600). */
export function writeEnv(home: string, file: string): ShellCommand {
    return script(home, "write-env.sh", [file]);
}

/** After a deploy: keeps the newest `keep` release files, their images and every image in use; removes other tags of `repositories`. */
export function prune(home: string, dir: string, keep: number): ShellCommand {
    return script(home, "prune.sh", [dir, String(keep)]);
}

/** prune.sh's stdin: the repositories whose old tags it may remove, one per line. */
export function pruneRepositories(repositories: readonly string[]): string {
    return repositories.map((r) => `${r}\n`).join("");
}

/** Points docker-compose.yml at the prepared release's file. */
export function promoteCompose(home: string, dir: string): ShellCommand {
    return script(home, "promote-compose.sh", [dir]);
}

/** Records the live color and tag on the server (live-color file and compose .env). */
export function recordLive(home: string, dir: string, color: Color, tag: string): ShellCommand {
    return script(home, "record-live.sh", [dir, color, tag]);
}

/** Posts a message to Slack from the operator's machine; the webhook comes from SLACK_WEBHOOK_URL. */
export function notifySlack(message: string): ShellCommand {
    return new ShellCommand(["bash", "scripts/notify-slack.sh", message]);
}

/** Pulls an image reference again (a mutable tag: the docker provider only pulls what the engine lacks). */
export function pullImage(image: string): ShellCommand {
    return new ShellCommand(["docker", "pull", image]);
}

/** Prints the UTC date stamp recorded once per release. */
export function releaseStamp(): ShellCommand {
    return new ShellCommand(["date", "-u", "+%Y%m%d-%H%M%S"]);
}

/** The path of the file holding a server's live color. */
export function liveColorFile(dir: string): string {
    return `${dir}/live-color`;
}

/**
 * Creates placeholder live/passive route files where none exist yet, so nginx -t passes on a
 * new server; for another track (`py3`) the files are py3-live.conf defining $py3_live.
 */
export function initRoutes(home: string, confDir: string, track?: string): ShellCommand {
    return script(home, "init-routes.sh", track ? [confDir, track] : [confDir]);
}

/** Atomically replaces a routing state file (content on stdin); no nginx reload. */
export function switchState(dir: string, file: string): ShellCommand {
    return script(dir, "switch-state.sh", [file]);
}

/** Lua mode: switch-state.sh, then nginx re-reads the route over its control socket and answers it back. */
export function switchLua(dir: string, file: string, socket: string): ShellCommand {
    return script(dir, "switch-lua.sh", [file, socket]);
}
