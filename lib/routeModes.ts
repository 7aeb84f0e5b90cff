// The three ways a switch reaches nginx. `reload`: the live/passive include files are
// rewritten and nginx is tested and reloaded. `state`: nginx config is static and the
// switch renames a state file that the njs router reads per request. `lua`: the same state
// files, held by nginx in a shared dictionary (LuaJIT router) and re-read when the switch
// asks over a control socket. All keep the diff semantics: prepare writes only the passive
// file, deploy/rollback/canary only the live one.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "./commands";
import type { PortalConfig } from "./config";
import * as reload from "./nginxRoutes";
import type { LiveRoute, PassiveRoute } from "./rollout";
import type { ShellCommand } from "./shell";
import * as lua from "./luaRoutes";
import * as state from "./stateRoutes";
import { nginxPrefix, trackScoped, type RouteScope, type Track } from "./tracks";

export type RouteModeName = "reload" | "state" | "lua";

export const ROUTE_MODES: readonly RouteModeName[] = ["state", "reload", "lua"];

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

/** The sha256 of a router script the program uploads (scripts/<file> of this checkout). */
export function routerScriptSha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(path.join(__dirname, "..", "scripts", file))).digest("hex");
}

/**
 * router.conf: loads the njs (state) or LuaJIT (lua) router from `home`/scripts; one per host,
 * shared by all tracks; names the router's hash, so a new router script changes this file and
 * its publish step reloads nginx (the upload alone reloads nothing).
 */
export function routerFile(config: PortalConfig, home: string): RouteFile {
    const { confDir, mode } = config.nginx;
    const content =
        mode === "lua"
            ? lua.renderLuaRouterConf(confDir, cmd.scriptsDir(home), routerScriptSha256(lua.LUA_ROUTER_SCRIPT))
            : state.renderRouterConf(confDir, cmd.scriptsDir(home), routerScriptSha256(state.ROUTER_SCRIPT));
    return { file: state.ROUTER_FILE, content };
}

function upstreams(config: PortalConfig, track: Track): RouteFile {
    const ports = Object.fromEntries(track.colors.map((c) => [c, track.hostPorts[c]]));
    return { file: trackScoped(track, reload.UPSTREAMS_FILE), content: reload.renderUpstreams(config.app, ports, nginxPrefix(track), config.nginx.keepalive) };
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

const luaMode: RouteMode = {
    staticFiles: (config, track) => [
        upstreams(config, track),
        ...(track.main ? [routerFile(config, config.dir)] : []),
        // Each listener sets its variables from its own track's routes (set_by_lua).
        ...siteFiles(track, { prefix: nginxPrefix(track), lua: { track: track.main ? undefined : track.name } }),
    ],
    // The state mode's files and grammar; only the publishing differs.
    live: stateMode.live,
    passive: stateMode.passive,
    publishRoute: (config, home, file) => cmd.switchLua(home, `${config.nginx.confDir}/${file}`, lua.controlSocket(config.nginx.confDir)),
};

export function routeMode(name: RouteModeName): RouteMode {
    return name === "state" ? stateMode : name === "lua" ? luaMode : reloadMode;
}

/** Whether the mode's router is a static file of the main track (state and lua). */
export function hasRouter(name: RouteModeName): boolean {
    return name !== "reload";
}

