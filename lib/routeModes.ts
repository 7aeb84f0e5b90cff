// The two ways a switch reaches nginx. `reload`: the live/passive include files are
// rewritten and nginx is tested and reloaded. `state`: nginx config is static and the
// switch renames a state file that the njs router reads per request. Both keep the diff
// semantics: prepare writes only the passive file, deploy/rollback/canary only the live one.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "./commands";
import type { PortalConfig } from "./config";
import * as reload from "./nginxRoutes";
import type { LiveRoute, PassiveRoute } from "./rollout";
import type { ShellCommand } from "./shell";
import * as state from "./stateRoutes";
import { nginxPrefix, trackScoped, type RouteScope, type Track } from "./tracks";

export type RouteModeName = "reload" | "state";

export interface RouteFile {
    file: string;
    content: string;
}

export interface RouteMode {
    /**
     * Files written once per server for a track, each with an nginx test and reload: its
     * upstreams and listeners, and (main track, state mode) the router shared by all tracks.
     */
    staticFiles(config: PortalConfig, track: Track): RouteFile[];
    live(route: LiveRoute, scope: RouteScope): RouteFile;
    passive(route: PassiveRoute, scope: RouteScope): RouteFile;
    /** The command that publishes a live or passive route file (content on stdin); `home` holds scripts/. */
    publishRoute(config: PortalConfig, home: string, file: string): ShellCommand;
}

/** Publishes an nginx include file: rename, `nginx -t`, reload, restore on failure. */
export function publishStaticFile(config: PortalConfig, home: string, file: string): ShellCommand {
    return cmd.switchRoute(home, `${config.nginx.confDir}/${file}`, config.nginx);
}

/** The sha256 of the router script the program uploads (scripts/portal-router.js of this checkout). */
export function routerScriptSha256(): string {
    const script = path.join(__dirname, "..", "scripts", state.ROUTER_SCRIPT);
    return createHash("sha256").update(fs.readFileSync(script)).digest("hex");
}

/** router.conf: loads the njs router from `home`/scripts; one per host, shared by all tracks; names the router's hash. */
export function routerFile(config: PortalConfig, home: string): RouteFile {
    return { file: state.ROUTER_FILE, content: state.renderRouterConf(config.nginx.confDir, cmd.scriptsDir(home), routerScriptSha256()) };
}

function upstreams(config: PortalConfig, track: Track): RouteFile {
    const ports = Object.fromEntries(track.colors.map((c) => [c, track.hostPorts[c]]));
    return { file: trackScoped(track, reload.UPSTREAMS_FILE), content: reload.renderUpstreams(config.app, ports, nginxPrefix(track)) };
}

function siteFiles(track: Track, routing: reload.SiteRouting): RouteFile[] {
    return track.site ? [{ file: trackScoped(track, reload.SITE_FILE), content: reload.renderSite(track.site, routing) }] : [];
}

const reloadMode: RouteMode = {
    staticFiles: (config, track) => [upstreams(config, track), ...siteFiles(track, { prefix: nginxPrefix(track) })],
    live: (route, track) => ({ file: trackScoped(track, reload.LIVE_FILE), content: reload.renderLiveRoute(route, nginxPrefix(track)) }),
    passive: (route, track) => ({ file: trackScoped(track, reload.PASSIVE_FILE), content: reload.renderPassiveRoute(route, nginxPrefix(track)) }),
    publishRoute: publishStaticFile,
};

const stateMode: RouteMode = {
    staticFiles: (config, track) => [
        upstreams(config, track),
        ...(track.main ? [routerFile(config, config.dir)] : []),
        // State mode: every listener proxies to $portal_live; the router picks the track's state.
        ...siteFiles(track, { prefix: reload.MAIN_PREFIX, stateTrack: track.main ? undefined : track.name }),
    ],
    live: (route, track) => ({ file: trackScoped(track, state.LIVE_STATE_FILE), content: state.renderLiveState(route, nginxPrefix(track)) }),
    passive: (route, track) => ({ file: trackScoped(track, state.PASSIVE_STATE_FILE), content: state.renderPassiveState(route, nginxPrefix(track)) }),
    publishRoute: (config, home, file) => cmd.switchState(home, `${config.nginx.confDir}/${file}`),
};

export function routeMode(name: RouteModeName): RouteMode {
    return name === "state" ? stateMode : reloadMode;
}

